#!/usr/bin/env node
/**
 * `npm run e2e`: the browser tests against the real stack.
 *
 * 1. Finds Chromium ($CHROMIUM_PATH; else Debian's /usr/bin/chromium, or `chromium`,
 *    `chromium-browser`, `google-chrome` on $PATH). Never downloads one. Without it: prints
 *    why and exits 0 ("skipped") — unless $CI is set (to anything but "", "0", "false"),
 *    then it fails: CI must run the browser tests.
 * 2. Builds the SPA when frontend/dist is missing (the api serves it).
 * 3. Starts `python -m bpmlink.devstack --e2e` on free ports with a temporary data dir
 *    (embedded PostgreSQL and Redis, migrations, the admin seeded, sandbox, api, gateway, worker).
 * 4. Runs the Playwright specs in e2e/ with that browser and stack, then stops the stack.
 *
 * Extra arguments go to `playwright test` (e.g. `npm run e2e -- -g connection`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, '..');
const root = resolve(frontend, '..');

// "CI=false" and "CI=0" are how some runners say "not CI"; any other value means CI.
const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());

/** Debian's fixed paths, then the usual names on $PATH; $CHROMIUM_PATH, when set, is the only candidate. */
function findChromium() {
  if (process.env.CHROMIUM_PATH) return existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : undefined;
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .flatMap((dir) => ['chromium', 'chromium-browser', 'google-chrome'].map((name) => join(dir, name)));
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser', ...onPath].find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const chromium = findChromium();
if (!chromium) {
  const msg = 'e2e: no Chromium found (install Debian\'s package: apt-get install -y chromium, or set CHROMIUM_PATH).';
  if (inCI) {
    console.error(`${msg}\ne2e: FAILED — CI must run the browser tests.`);
    process.exit(1);
  }
  console.log(`${msg}\ne2e: skipped`);
  process.exit(0);
}

if (!existsSync(join(frontend, 'dist/index.html'))) {
  console.log('e2e: building the SPA …');
  execFileSync('npm', ['run', 'build'], { cwd: frontend, stdio: 'inherit' });
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const [apiPort, gatewayPort, sandboxPort, workerPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
const dataDir = mkdtempSync(join(tmpdir(), 'bpmlink-e2e-'));
const python = existsSync(join(root, '.venv/bin/python')) ? join(root, '.venv/bin/python') : process.env.PYTHON || 'python3';
const admin = { email: 'e2e-admin@example.com', password: 'e2e-password-123' };

const stackEnv = {
  ...process.env,
  BPMLINK_ADMIN_EMAIL: admin.email,
  BPMLINK_ADMIN_PASSWORD: admin.password,
  // The sign-up spec registers a new user; without SMTP no confirmation is needed and
  // invitation links are shown to the owner, pointing at this api.
  BPMLINK_SIGNUP: 'open',
  BPMLINK_PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
};
delete stackEnv.DATABASE_URL;
delete stackEnv.REDIS_URL;
delete stackEnv.BPMLINK_SMTP_HOST;

console.log(`e2e: starting the stack (api :${apiPort}, gateway :${gatewayPort}, sandbox :${sandboxPort}) in ${dataDir}`);
const stack = spawn(
  python,
  [
    '-m', 'bpmlink.devstack', '--e2e',
    '--data-dir', dataDir,
    '--api-port', String(apiPort),
    '--gateway-port', String(gatewayPort),
    '--sandbox-port', String(sandboxPort),
    '--worker-port', String(workerPort),
  ],
  { cwd: root, env: stackEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
);
let stackLog = '';
stack.stdout.on('data', (d) => (stackLog += d));
stack.stderr.on('data', (d) => (stackLog += d));
let stackExited = false;
stack.on('exit', () => (stackExited = true));

async function stopStack() {
  if (!stackExited) {
    try {
      process.kill(stack.pid, 'SIGTERM'); // devstack stops its children on SIGTERM
    } catch {
      /* already gone */
    }
    const deadline = Date.now() + 40_000;
    while (!stackExited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (!stackExited) {
      try {
        process.kill(-stack.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => void stopStack().then(() => process.exit(130)));
}

const base = `http://127.0.0.1:${apiPort}`;
const readyBy = Date.now() + 180_000;
let ready = false;
while (!ready && Date.now() < readyBy && !stackExited) {
  ready = stackLog.includes('bpmlink is up');
  if (!ready) await new Promise((r) => setTimeout(r, 500));
}
if (!ready) {
  console.error(`e2e: the stack did not come up.\n--- devstack output ---\n${stackLog.slice(-6000)}`);
  await stopStack();
  process.exit(1);
}
console.log(`e2e: stack is up at ${base}`);

const code = await new Promise((res) => {
  const pw = spawn(join(frontend, 'node_modules/.bin/playwright'), ['test', '--config', join(here, 'playwright.config.ts'), ...process.argv.slice(2)], {
    cwd: frontend,
    stdio: 'inherit',
    env: {
      ...process.env,
      E2E_BASE_URL: base,
      E2E_SANDBOX_URL: `http://127.0.0.1:${sandboxPort}`,
      E2E_ADMIN_EMAIL: admin.email,
      E2E_ADMIN_PASSWORD: admin.password,
      E2E_CHROMIUM: chromium,
    },
  });
  pw.on('exit', (c) => res(c ?? 1));
});
if (code !== 0 && process.env.E2E_SHOW_STACK_LOG) console.error(stackLog.slice(-8000));
await stopStack();
process.exit(code);
