import { type Page, expect, test } from '@playwright/test';
import { SANDBOX_URL, login, shot } from './helpers';

const EMAIL = `history.${Date.now()}@example.com`;

/** The api as the SPA calls it (the session cookie, the CSRF token on writes). */
async function apiPost(page: Page, path: string, data?: unknown) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'bpmlink_csrf')?.value ?? '';
  const answer = await page.request.post(path, { data, headers: { 'X-CSRF-Token': csrf } });
  expect(answer.ok(), await answer.text()).toBeTruthy();
  return (await answer.json()) as Record<string, unknown>;
}

/** Two webhook bundles (so "all bundles" means something), the second receiving a create then an update. */
async function twoBundles(page: Page) {
  const connection = await apiPost(page, '/api/v1/connections', {
    app: 'bpmonline',
    name: 'CRM for history',
    params: { domain: SANDBOX_URL, auth: 'forms', username: 'Supervisor' },
    secrets: { password: 'Supervisor' },
  });
  const make = async (name: string) => {
    const bundle = await apiPost(page, '/api/v1/bundles', {
      name,
      source: { app: 'webhook', trigger: 'incoming_request' },
      target: { connection_id: connection.id, action: 'create_record', entity: 'Contact' },
      mapping: [
        { target: 'Name', template: '{{ first_name }} {{ last_name }}' },
        { target: 'Email', source: 'email', convert: ['trim', 'lower'] },
      ],
      dedup: { mode: 'update_if_found', match_fields: ['Email'] },
    });
    return apiPost(page, `/api/v1/bundles/${String(bundle.id)}/start`);
  };
  const quiet = await make('Пустая связка');
  const form = await make('Форма → Контакты (история)');
  return { quiet, form };
}

test('history opens on all bundles; an operation shows its data as tables; phone width shows cards', async ({ page }) => {
  test.setTimeout(180_000);
  await login(page, undefined, 'ru');
  const { form } = await twoBundles(page);
  const url = String(form.webhook_url);
  expect((await page.request.post(url, { data: { first_name: 'Анна', last_name: 'Петрова', email: EMAIL } })).status()).toBe(202);

  // «История» from the menu: every bundle's operations (the newest bundle, «Пустая связка», has none).
  await page.getByRole('link', { name: 'История' }).click();
  await expect(page.getByTestId('history-bundle')).toHaveAttribute('placeholder', 'Все связки');
  // Other specs' bundles share the workspace: this bundle's rows are those that name it.
  const ours = page.locator('[data-testid=operation-row]').filter({
    has: page.getByTestId('operation-bundle').getByText('Форма → Контакты (история)', { exact: true }),
  });
  await expect(ours.and(page.locator('[data-status=created]'))).toHaveCount(1, { timeout: 60_000 });
  expect((await page.request.post(url, { data: { first_name: 'Анна', last_name: 'Сидорова', email: EMAIL } })).status()).toBe(202);
  const updated = ours.and(page.locator('[data-status=updated]'));
  await expect(updated).toHaveCount(1, { timeout: 60_000 });
  await expect(updated.getByTestId('operation-bundle')).toHaveText('Форма → Контакты (история)');

  await updated.click();
  const details = page.getByTestId('operation-details');
  await expect(details.getByTestId('operation-source')).toContainText(EMAIL);
  await expect(details.getByTestId('operation-sent')).toContainText('Анна Сидорова');
  const change = details.getByTestId('change-row');
  await expect(change).toHaveCount(1);
  await expect(change).toContainText('Анна Петрова');
  await expect(change).toContainText('Анна Сидорова');
  await expect(details.getByTestId('operation-incoming')).toContainText('POST');
  await expect(details.getByTestId('step-system').first()).toHaveText("bpm'online");
  await expect(details.getByTestId('step-url').first()).not.toContainText('%24');
  await details.getByTestId('operation-sent-toggle').click();
  await expect(details.getByTestId('operation-sent')).toContainText('"Name": "Анна Сидорова"');
  await shot(page, 'history-details-tables');

  // Phone width: cards, nothing scrolls sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  const noSidewaysScroll = async () =>
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.goto('/bundles');
  await expect(page.locator('[data-testid=bundle-row]').first()).toBeVisible();
  await expect(page.locator('[data-testid=bundle-row]').first()).toHaveCSS('display', 'block');
  await noSidewaysScroll();
  await shot(page, 'phone-bundles');
  await page.goto('/history');
  await expect(page.getByTestId('history-cards')).toBeVisible();
  await expect(updated).toHaveCount(1);
  await noSidewaysScroll();
  await shot(page, 'phone-history');
  await updated.click();
  await expect(page.getByTestId('operation-changes')).toBeVisible();
  await noSidewaysScroll();
  await shot(page, 'phone-operation');
  await page.goto('/bundles/new/source');
  await expect(page.getByTestId('wizard-step-source')).toBeVisible();
  await noSidewaysScroll();
  await shot(page, 'phone-wizard');
});
