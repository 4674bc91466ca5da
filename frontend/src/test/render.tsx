import { MantineProvider } from '@mantine/core';
import { ModalsProvider } from '@mantine/modals';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router-dom';
import i18n from '@/i18n';

export function renderWithProviders(
  ui: ReactElement,
  { lang = 'en', route = '/', queryClient }: { lang?: 'en' | 'ru'; route?: string; queryClient?: QueryClient } = {},
) {
  void i18n.changeLanguage(lang);
  const qc = queryClient ?? new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const result = render(
    <MantineProvider>
      <QueryClientProvider client={qc}>
        <ModalsProvider>
          <MemoryRouter initialEntries={[route]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
            {ui}
          </MemoryRouter>
        </ModalsProvider>
      </QueryClientProvider>
    </MantineProvider>,
  );
  return { ...result, queryClient: qc };
}
