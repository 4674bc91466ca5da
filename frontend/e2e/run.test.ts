import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const runner = join(dirname(fileURLToPath(import.meta.url)), 'run.mjs');

/** Runs e2e/run.mjs with no browser to be found ($CHROMIUM_PATH, when set, is the only candidate). */
function runWithoutChromium(ci: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env, CHROMIUM_PATH: '/nonexistent/chromium' };
  delete env.CI;
  if (ci !== undefined) env.CI = ci;
  return spawnSync(process.execPath, [runner], { env, encoding: 'utf8' });
}

describe('e2e/run.mjs without Chromium', () => {
  it.each(['true', '1', 'yes'])('fails in CI (CI=%s)', (ci) => {
    const run = runWithoutChromium(ci);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('e2e: FAILED');
  });

  it.each([undefined, '', 'false', '0'])('skips with a clear message outside CI (CI=%s)', (ci) => {
    const run = runWithoutChromium(ci);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('no Chromium found');
    expect(run.stdout).toContain('e2e: skipped');
  });
});
