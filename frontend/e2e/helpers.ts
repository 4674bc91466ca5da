import { type Page, expect, request } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ADMIN = { email: process.env.E2E_ADMIN_EMAIL ?? '', password: process.env.E2E_ADMIN_PASSWORD ?? '' };
export const SANDBOX_URL = process.env.E2E_SANDBOX_URL ?? '';
/** Each spec's screenshots, to look at after a run (not committed: see .gitignore). */
export const SHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
mkdirSync(SHOTS, { recursive: true });

/** The whole page, or (`fullPage: false`) what the window shows, e.g. an open dropdown on a long page. */
export async function shot(page: Page, name: string, { fullPage = true } = {}) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** The language a page starts in; a later switch in the UI sticks (it is stored the same way). */
export async function startIn(page: Page, lang: 'en' | 'ru') {
  await page.addInitScript((l) => {
    if (!window.sessionStorage.getItem('e2e.lang-set')) {
      window.localStorage.setItem('bpmlink.lang', l);
      window.sessionStorage.setItem('e2e.lang-set', '1');
    }
  }, lang);
}

export async function login(page: Page, user = ADMIN, lang: 'en' | 'ru' = 'en') {
  await startIn(page, lang);
  await page.goto('/login');
  await page.getByRole('textbox', { name: lang === 'en' ? 'E-mail' : 'Эл. почта' }).fill(user.email);
  await page.getByRole('textbox', { name: lang === 'en' ? 'Password' : 'Пароль', exact: true }).fill(user.password);
  await page.getByRole('button', { name: lang === 'en' ? 'Sign in' : 'Войти' }).click();
  await expect(page.getByTestId('user-menu')).toBeVisible();
  // Signing in applies the profile's language; the test wants its own (the switch saves it to the profile).
  if ((await page.locator('html').getAttribute('lang')) !== lang) {
    await page.getByTestId('language-switch').getByText(lang.toUpperCase(), { exact: true }).click();
    await expect(page.locator('html')).toHaveAttribute('lang', lang);
  }
}

/** Adds a bpm'online connection to the sandbox through the UI and tests it. */
export async function addSandboxConnection(page: Page, name: string, password = 'Supervisor') {
  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByRole('link', { name: 'Add connection' }).first().click();
  await page.getByTestId('app-bpmonline').click();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  await page.getByRole('textbox', { name: 'Domain' }).fill(SANDBOX_URL);
  await page.getByRole('textbox', { name: 'User name' }).fill('Supervisor');
  await page.getByRole('textbox', { name: /^Password/ }).fill(password);
  await page.getByRole('button', { name: 'Save and test' }).click();
  await expect(page).toHaveURL(/\/connections\/[0-9a-f-]{36}$/);
  return page.getByTestId('connection-test-result');
}

/** Reads records straight from the sandbox's OData (as bpm'online would answer). */
export async function sandboxQuery(entity: string, filter: string): Promise<Array<Record<string, unknown>>> {
  const ctx = await request.newContext({ baseURL: SANDBOX_URL });
  const login = await ctx.post('/ServiceModel/AuthService.svc/Login', { data: { UserName: 'Supervisor', UserPassword: 'Supervisor' } });
  expect(login.ok()).toBeTruthy();
  const csrf = (await ctx.storageState()).cookies.find((c) => c.name === 'BPMCSRF')?.value ?? '';
  const res = await ctx.get(`/0/odata/${entity}?$filter=${encodeURIComponent(filter)}`, { headers: { BPMCSRF: csrf } });
  expect(res.ok()).toBeTruthy();
  const body = (await res.json()) as { value: Array<Record<string, unknown>> };
  await ctx.dispose();
  return body.value;
}

/** Creates a record straight in the sandbox's OData (as if a person had entered it in bpm'online). */
export async function sandboxCreate(entity: string, record: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ctx = await request.newContext({ baseURL: SANDBOX_URL });
  const login = await ctx.post('/ServiceModel/AuthService.svc/Login', { data: { UserName: 'Supervisor', UserPassword: 'Supervisor' } });
  expect(login.ok()).toBeTruthy();
  const csrf = (await ctx.storageState()).cookies.find((c) => c.name === 'BPMCSRF')?.value ?? '';
  const res = await ctx.post(`/0/odata/${entity}`, { data: record, headers: { BPMCSRF: csrf } });
  expect(res.ok()).toBeTruthy();
  const body = (await res.json()) as Record<string, unknown>;
  await ctx.dispose();
  return body;
}
