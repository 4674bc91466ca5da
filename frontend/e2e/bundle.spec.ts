import { expect, test } from '@playwright/test';
import { addSandboxConnection, login, sandboxQuery, shot } from './helpers';

const EMAIL = `anna.${Date.now()}@example.com`;

test('webhook bundle for Contact: template, phone conversion, update_if_found on Email', async ({ page }) => {
  test.setTimeout(180_000);
  await login(page);
  await expect(await addSandboxConnection(page, 'CRM for bundles')).toHaveAttribute('data-ok', 'true');

  // (1) source
  await page.getByRole('link', { name: 'Bundles' }).click();
  await page.getByRole('link', { name: 'New bundle' }).first().click();
  await expect(page.getByTestId('wizard-step-source')).toBeVisible();
  await page.getByTestId('bundle-name').fill('Site form → Contacts');
  await page.getByTestId('source-app-webhook').click();
  await shot(page, 'wizard-1-source');
  await page.getByTestId('wizard-next').click();

  // (2) target
  await expect(page.getByTestId('wizard-step-target')).toBeVisible();
  await page.getByTestId('target-connection').click();
  await page.getByRole('option', { name: 'CRM for bundles' }).click();
  await page.getByTestId('target-entity').click();
  await page.getByTestId('target-entity').fill('Contact');
  await page.getByRole('option', { name: /^(Contact|.* \(Contact\))$/ }).first().click();
  await shot(page, 'wizard-2-target');
  await page.getByTestId('wizard-next').click();

  // (3) sample: the webhook URL, and a test request fills the sample
  await expect(page.getByTestId('wizard-step-sample')).toBeVisible();
  await expect(page).toHaveURL(/\/bundles\/[0-9a-f-]{36}\/edit\/sample$/);
  const bundleId = /\/bundles\/([0-9a-f-]{36})\//.exec(page.url())![1];
  const url = await page.getByTestId('webhook-url').inputValue();
  expect(url).toMatch(/\/hooks\//);
  await expect(page.getByText('Waiting for a test request…')).toBeVisible();
  await shot(page, 'wizard-3-sample-waiting');
  const sample = await page.request.post(url, {
    data: { first_name: 'Anna', last_name: 'Petrova', email: EMAIL, phone: '8 (912) 345-67-89' },
  });
  expect(sample.status()).toBe(202);
  await expect(page.getByTestId('sample-received')).toBeVisible({ timeout: 20_000 });
  await shot(page, 'wizard-3-sample');
  await page.getByTestId('wizard-next').click();

  // (4) mapping
  await expect(page.getByTestId('wizard-step-mapping')).toBeVisible();
  const nameRow = page.getByTestId('mapping-row-Name');
  await nameRow.getByText('Template', { exact: true }).click();
  await nameRow.getByTestId('template-input').fill('{{ first_name }} {{ last_name }}');
  const emailRow = page.getByTestId('mapping-row-Email');
  await emailRow.getByText('Field', { exact: true }).click();
  await emailRow.getByTestId('source-field').fill('email');
  const phoneRow = page.getByTestId('mapping-row-MobilePhone');
  await phoneRow.getByText('Field', { exact: true }).click();
  await phoneRow.getByTestId('source-field').fill('phone');
  await phoneRow.getByTestId('conversions').click();
  await page.getByRole('option', { name: 'Phone → +7… (Russian numbers)' }).click();
  await page.keyboard.press('Escape');
  const preview = page.getByTestId('mapping-preview');
  await expect(preview).toContainText('Anna Petrova');
  await expect(preview).toContainText('+79123456789');
  await shot(page, 'wizard-4-mapping');
  await page.getByTestId('wizard-next').click();

  // (5) duplicates
  await expect(page.getByTestId('wizard-step-dedup')).toBeVisible();
  await page.getByLabel('Update if found, otherwise create').check();
  // The first group's fields are offered only among mapped fields.
  await expect(page.getByTestId('group-0-field-Email')).toBeVisible();
  await expect(page.getByTestId(/^group-0-field-/)).toHaveCount(3);
  await page.getByTestId('group-0-field-Email').check();
  await shot(page, 'wizard-5-dedup');
  await page.getByTestId('wizard-next').click();

  // (6) review and start
  await expect(page.getByTestId('wizard-step-review')).toBeVisible();
  await shot(page, 'wizard-6-review');
  await page.getByTestId('save-and-start').click();
  await expect(page).toHaveURL(/\/bundles$/);
  const row = page.locator('[data-testid=bundle-row][data-name="Site form → Contacts"]');
  await expect(row.getByTestId('bundle-status')).toHaveAttribute('data-status', /waiting|running/);
  await shot(page, 'bundles-list');

  // Two webhooks with the same e-mail: one created, then updated (the history refreshes itself).
  await page.goto(`/history?bundle=${bundleId}`);
  const first = await page.request.post(url, { data: { first_name: 'Anna', last_name: 'Petrova', email: EMAIL, phone: '8 (912) 345-67-89' } });
  expect(first.status()).toBe(202);
  await expect(page.locator('[data-testid=operation-row][data-status=created]')).toHaveCount(1, { timeout: 60_000 });
  const second = await page.request.post(url, { data: { first_name: 'Anna', last_name: 'Sidorova', email: EMAIL, phone: '+7 912 345 67 80' } });
  expect(second.status()).toBe(202);
  await expect(page.locator('[data-testid=operation-row][data-status=updated]')).toHaveCount(1, { timeout: 60_000 });
  await expect(page.locator('[data-testid=operation-row][data-status=created]')).toHaveCount(1);
  // Newest first: updated above created.
  const statuses = await page.getByTestId('operation-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
  expect(statuses.filter((s) => s === 'created' || s === 'updated')).toEqual(['updated', 'created']);
  await page.locator('[data-testid=operation-row][data-status=updated]').click();
  await expect(page.getByTestId('operation-details')).toBeVisible();
  await expect(page.getByTestId('operation-step').first()).toBeVisible();
  await shot(page, 'history-expanded');

  // The sandbox holds one contact with the mapped values.
  const contacts = await sandboxQuery('Contact', `Email eq '${EMAIL}'`);
  expect(contacts).toHaveLength(1);
  expect(contacts[0]).toMatchObject({ Name: 'Anna Sidorova', Email: EMAIL, MobilePhone: '+79123456780' });

  // The same in Russian: the bundle list and the history labels.
  await page.getByTestId('language-switch').getByText('RU').click();
  await page.goto('/bundles');
  await expect(page.getByRole('heading', { name: 'Мои связки' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Подключения' })).toBeVisible();
  await expect(row.getByTestId('bundle-status')).toHaveText(/ожидание|работает/);
  await shot(page, 'ru-bundles-list');
  await page.goto(`/history?bundle=${bundleId}`);
  await expect(page.getByRole('heading', { name: 'История операций' })).toBeVisible();
  await expect(page.locator('[data-testid=operation-row][data-status=created]')).toContainText('создано');
  await expect(page.locator('[data-testid=operation-row][data-status=updated]')).toContainText('обновлено');
  await shot(page, 'ru-history');

  // The dashboard counts the bundle and charts its operations.
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Обзор' })).toBeVisible();
  await expect(page.getByTestId('tile-waiting')).not.toHaveText('0');
  await expect(page.locator('path.recharts-rectangle').first()).toBeVisible();
  await shot(page, 'ru-dashboard');
});
