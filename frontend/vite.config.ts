/// <reference types="vitest" />
import { fileURLToPath, URL } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The api serves dist/ at "/", so the SPA calls same-origin /api/v1/...
// In `npm run dev` those calls are proxied to a locally running api.
export default defineConfig({
  plugins: [react()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: {
    // The server's message catalogs (src/i18n/server.ts) live beside the Python code that renders them too.
    fs: { allow: ['.', '../bpmlink/kit/locales'] },
    proxy: { '/api': process.env.BPMLINK_API_URL ?? 'http://127.0.0.1:8000' },
  },
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        manualChunks: {
          react: ['react', 'react-dom', 'react-router-dom'],
          mantine: ['@mantine/core', '@mantine/hooks', '@mantine/form', '@mantine/notifications'],
          charts: ['@mantine/charts', 'recharts'],
        },
      },
    },
  },
  test: {
    globals: true,
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    // e2e/*.test.ts are unit tests of the e2e runner; the Playwright specs are e2e/*.spec.ts.
    include: ['src/**/*.test.{ts,tsx}', 'e2e/**/*.test.ts'],
    css: false,
    // Mantine pages take 1–4 s to render in jsdom on a loaded 2-core machine; 5 s (the default) failed there.
    testTimeout: 20_000,
  },
});
