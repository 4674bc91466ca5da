import { type Browser, type Page, expect, request, test } from '@playwright/test';
import { shot } from './helpers';

// The interface language and time zone follow the browser on the login page and at a profile's first
// login; after that the profile wins. The e2e stack runs with BPMLINK_SIGNUP=open and no SMTP, so an
// account signed up through the API can log in at once. Each test uses a fresh account: the first login
// is what is tested.
const PASSWORD = 'кот-в-сапогах-2026';

/** An account whose profile language is a placeholder (never set by its owner or a browser). */
async function signUp(name: string, language: 'ru' | 'en'): Promise<string> {
  const email = `${name}-${Date.now()}@example.com`;
  const ctx = await request.newContext({ baseURL: process.env.E2E_BASE_URL });
  const res = await ctx.post('/api/v1/auth/signup', { data: { email, password: PASSWORD, name, language } });
  expect(res.status(), await res.text()).toBe(201);
  await ctx.dispose();
  return email;
}

async function signIn(page: Page, email: string, words: { email: string; password: string; submit: string }) {
  await page.getByRole('textbox', { name: words.email }).fill(email);
  await page.getByRole('textbox', { name: words.password, exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: words.submit }).click();
  await expect(page.getByTestId('user-menu')).toBeVisible();
}

const RU = { email: 'Эл. почта', password: 'Пароль', submit: 'Войти' };
const EN = { email: 'E-mail', password: 'Password', submit: 'Sign in' };

async function browserIn(browser: Browser, locale: string, timezoneId: string): Promise<Page> {
  const context = await browser.newContext({ locale, timezoneId });
  return context.newPage();
}

test.describe('a ru-RU browser in Moscow', () => {
  test.use({ locale: 'ru-RU', timezoneId: 'Europe/Moscow' });

  test('вход по-русски, после входа интерфейс остаётся русским, в профиле — Europe/Moscow', async ({ page }) => {
    // Created in English (as an English-speaking owner's API script would): the first login decides.
    const email = await signUp('olga', 'en');
    await page.goto('/login');
    await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
    await expect(page.getByRole('heading', { name: 'Вход в bpmlink' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Создать аккаунт' })).toBeVisible();
    await shot(page, 'language-login-ru');
    await signIn(page, email, RU);

    await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
    await expect(page.getByRole('link', { name: 'Подключения' })).toBeVisible();
    await page.reload();
    await expect(page.getByRole('link', { name: 'Подключения' })).toBeVisible();

    await page.goto('/settings/profile');
    await expect(page.getByRole('textbox', { name: 'Язык интерфейса' })).toHaveValue('Русский');
    await expect(page.getByRole('textbox', { name: 'Часовой пояс' })).toHaveValue(/^Europe\/Moscow/);
    await shot(page, 'language-profile-ru');
    const me = (await (await page.request.get('/api/v1/auth/me')).json()) as { user: { language: string; timezone: string } };
    expect(me.user).toMatchObject({ language: 'ru', timezone: 'Europe/Moscow' });
  });

  test('a language chosen in the interface wins over the browser at the next login', async ({ page, browser }) => {
    const email = await signUp('pavel', 'en');
    await page.goto('/login');
    await signIn(page, email, RU);
    // The header's switch saves the choice to the profile.
    await page.getByTestId('language-switch').getByText('EN', { exact: true }).click();
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect
      .poll(async () => ((await (await page.request.get('/api/v1/auth/me')).json()) as { user: { language: string } }).user.language)
      .toBe('en');

    // Another Russian browser (nothing stored): the login page is Russian, the profile's English wins after.
    const other = await browserIn(browser, 'ru-RU', 'Asia/Yekaterinburg');
    await other.goto('/login');
    await expect(other.getByRole('heading', { name: 'Вход в bpmlink' })).toBeVisible();
    await signIn(other, email, RU);
    await expect(other.locator('html')).toHaveAttribute('lang', 'en');
    await expect(other.getByRole('link', { name: 'Connections' })).toBeVisible();
    // The zone was set by the first login (Moscow): a later browser does not move it.
    await other.goto('/settings/profile');
    await expect(other.getByRole('textbox', { name: 'Time zone' })).toHaveValue(/^Europe\/Moscow/);
    await other.context().close();
  });
});

test.describe('an en-US browser in New York', () => {
  test.use({ locale: 'en-US', timezoneId: 'America/New_York' });

  test('the login page and, after the first login, the interface are English, the zone New York', async ({ page }) => {
    // Created with a Russian placeholder: the browser's English replaces it at the first login.
    const email = await signUp('john', 'ru');
    await page.goto('/login');
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.getByRole('heading', { name: 'Sign in to bpmlink' })).toBeVisible();
    await signIn(page, email, EN);
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.getByRole('link', { name: 'Connections' })).toBeVisible();
    await page.goto('/settings/profile');
    await expect(page.getByRole('textbox', { name: 'Time zone' })).toHaveValue(/^America\/New_York/);
    await shot(page, 'language-profile-en');
  });
});
