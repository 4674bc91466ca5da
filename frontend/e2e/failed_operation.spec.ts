import { type Page, expect, test } from '@playwright/test';
import { englishIn, englishSentences } from './english';
import { SANDBOX_URL, login, shot } from './helpers';

test.use({ locale: 'ru-RU' });

/** The api as the SPA calls it (the session cookie, the CSRF token on writes). */
async function apiPost(page: Page, path: string, data?: unknown) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'bpmlink_csrf')?.value ?? '';
  const answer = await page.request.post(path, { data, headers: { 'X-CSRF-Token': csrf } });
  expect(answer.ok(), await answer.text()).toBeTruthy();
  return (await answer.json()) as Record<string, unknown>;
}

test('the English-sentence walker finds an English sentence and lets code names and labelled words pass', async ({ page }) => {
  expect(englishIn('MobilePhone: phone_e164: это не номер телефона')).toEqual([]);
  expect(englishIn('Name: the field is required but came out empty')).toEqual(['Name: the field is required but came out empty']);
  await page.setContent(`<div id="sample">
    <p>Поле <code>the raw value here</code> пустое</p>
    <p data-testid="remote-text">Ответ bpm'online: foreign key violation on AccountId</p>
    <p>3 records match by group 2</p>
    <p data-testid="operation-step">Mozilla/5.0 (KHTML, like Gecko)</p>
  </div>`);
  const sample = page.locator('#sample');
  expect(await englishSentences(sample)).toEqual(['records match by group', 'KHTML, like Gecko']);
  expect(await englishSentences(sample, ['operation-step'])).toEqual(['records match by group']);
});

test('a failed operation reads in Russian in the history', async ({ page }) => {
  test.setTimeout(180_000);
  await login(page, undefined, 'ru');
  const connection = await apiPost(page, '/api/v1/connections', {
    app: 'bpmonline',
    name: 'CRM для ошибок',
    params: { domain: SANDBOX_URL, auth: 'forms', username: 'Supervisor' },
    secrets: { password: 'Supervisor' },
  });
  const bundle = await apiPost(page, '/api/v1/bundles', {
    name: 'Телефоны → Контакты',
    source: { app: 'webhook', trigger: 'incoming_request' },
    target: { connection_id: connection.id, action: 'create_record', entity: 'Contact' },
    mapping: [
      { target: 'Name', source: 'name' },
      { target: 'MobilePhone', source: 'phone', convert: [{ name: 'phone_e164', region: 'RU' }] },
    ],
    dedup: { mode: 'always_create' },
  });
  const started = await apiPost(page, `/api/v1/bundles/${String(bundle.id)}/start`);
  const sent = await page.request.post(String(started.webhook_url), { data: { phone: 'не телефон' } });
  expect(sent.status()).toBe(202);

  await page.getByRole('link', { name: 'История' }).click();
  const failed = page.locator('[data-testid=operation-row][data-status=failed]');
  await expect(failed).toHaveCount(1, { timeout: 60_000 });
  await failed.click();
  const note = page.getByTestId('operation-note');
  await expect(note).toHaveAttribute('data-kind', 'error');
  await expect(note).toContainText('поле обязательное, но значение получилось пустым');
  await expect(note).toContainText("'не телефон' — не номер телефона");
  expect(await englishSentences(note)).toEqual([]);
  // The whole detail but the recorded HTTP exchanges (headers, bodies, metadata: protocol data).
  const details = page.getByTestId('operation-details');
  expect(await englishSentences(details, ['operation-incoming', 'operation-step'])).toEqual([]);
  await shot(page, 'ru-failed-operation');
});
