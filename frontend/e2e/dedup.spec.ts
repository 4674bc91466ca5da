import { expect, test } from '@playwright/test';
import { bridgeDedup } from './dedup-bridge';
import { addSandboxConnection, login, shot } from './helpers';

const EMAIL = `ivan.${Date.now()}@example.com`;
/** What the preview answers while the api has no dedup-preview route (see dedup-bridge.ts). */
const STAND_IN = {
  group: 0,
  fields: ['MobilePhone'],
  values: { MobilePhone: '+79123456789' },
  candidates: [{ id: '00000000-0000-4000-8000-000000000001', name: 'Иван Петров' }],
  phone_search: 'exact_fallback',
  action: 'update',
};

test('duplicates: search by phone, otherwise by e-mail, otherwise create; check on the sample; save', async ({ page }) => {
  test.setTimeout(180_000);
  await login(page);
  const bridge = await bridgeDedup(page, STAND_IN);
  await expect(await addSandboxConnection(page, 'CRM for duplicates')).toHaveAttribute('data-ok', 'true');

  // Source, target, sample, mapping: a webhook into Contact with a name, an e-mail and a phone.
  await page.getByRole('link', { name: 'Bundles' }).click();
  await page.getByRole('link', { name: 'New bundle' }).first().click();
  await page.getByTestId('bundle-name').fill('Leads → Contacts (phone, e-mail)');
  await page.getByTestId('source-app-webhook').click();
  await page.getByTestId('wizard-next').click();
  await page.getByTestId('target-connection').click();
  await page.getByRole('option', { name: 'CRM for duplicates' }).click();
  await page.getByTestId('target-entity').click();
  await page.getByTestId('target-entity').fill('Contact');
  await page.getByRole('option', { name: /^Contact/ }).first().click();
  await page.getByTestId('wizard-next').click();
  await expect(page.getByTestId('wizard-step-sample')).toBeVisible();
  const bundleId = /\/bundles\/([0-9a-f-]{36})\//.exec(page.url())![1];
  const url = await page.getByTestId('webhook-url').inputValue();
  await expect(page.getByText('Waiting for a test request…')).toBeVisible(); // capture is armed
  const sample = await page.request.post(url, { data: { name: 'Иван Петров', email: EMAIL, phone: '8 (912) 345-67-89' } });
  expect(sample.status()).toBe(202);
  await expect(page.getByTestId('sample-received')).toBeVisible({ timeout: 20_000 });
  await page.getByTestId('wizard-next').click();
  await expect(page.getByTestId('wizard-step-mapping')).toBeVisible();
  const nameRow = page.getByTestId('mapping-row-Name');
  await nameRow.getByText('Field', { exact: true }).click();
  await nameRow.getByTestId('source-field').fill('name');
  const emailRow = page.getByTestId('mapping-row-Email');
  await emailRow.getByText('Field', { exact: true }).click();
  await emailRow.getByTestId('source-field').fill('email');
  const phoneRow = page.getByTestId('mapping-row-MobilePhone');
  await phoneRow.getByText('Field', { exact: true }).click();
  await phoneRow.getByTestId('source-field').fill('phone');
  await phoneRow.getByTestId('conversions').click();
  await page.getByRole('option', { name: 'Phone → +7… (Russian numbers)' }).click();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('mapping-preview')).toContainText('+79123456789');
  await page.getByTestId('wizard-next').click();

  // Duplicates: group 1 the phone, group 2 the e-mail; the order is said in words.
  await expect(page.getByTestId('wizard-step-dedup')).toBeVisible();
  await page.getByLabel('Update if found, otherwise create').check();
  await page.getByTestId('group-0-field-MobilePhone').check();
  await page.getByTestId('add-group').click();
  await expect(page.getByTestId('group-1')).toContainText('Choose at least one field for this group.');
  await page.getByTestId('group-1-field-Email').check();
  await expect(page.getByTestId('group-1')).not.toContainText('Choose at least one field');
  await expect(page.getByTestId('group-0-title')).toHaveText(/^Group 1: Search by .*phone/i);
  await expect(page.getByTestId('group-1-title')).toHaveText(/^Group 2: otherwise by .*mail/i);
  await expect(page.getByTestId('groups-otherwise')).toHaveText('otherwise create a new record');
  // Reorder with the keyboard and back: e-mail first, then phone first again.
  await page.getByRole('button', { name: 'Move group 2 up' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('group-0-title')).toHaveText(/mail/i);
  await page.getByRole('button', { name: 'Move group 2 up' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('group-1-title')).toHaveText(/mail/i);
  // Comparison: the phone by number (the default), gmail = googlemail; several: the oldest.
  await expect(page.getByTestId('compare-MobilePhone').getByLabel('By the number (any format)')).toBeChecked();
  await page.getByTestId('compare-Email').getByText('gmail.com = googlemail.com, dots do not matter').click();
  await page.getByLabel('Update the oldest').check();
  await shot(page, 'dedup-1-groups');

  // The check on the sample (the real preview once the api has it, else the bridge's stand-in).
  await page.getByTestId('dedup-check').click();
  const result = page.getByTestId('dedup-check-result');
  await expect(result).toBeVisible({ timeout: 30_000 });
  if (bridge.hasPreview) {
    await expect(result).toHaveAttribute('data-action', /create|update/);
  } else {
    await expect(result).toContainText(/Found by group 1: .*\+79123456789 → .*Иван Петров/);
    await expect(page.getByTestId('dedup-exact-fallback')).toContainText('Only numbers written exactly the same way are found');
  }
  await shot(page, 'dedup-2-check');

  // The same step in Russian.
  await page.getByTestId('language-switch').getByText('RU').click();
  await expect(page.getByTestId('group-0-title')).toHaveText(/^Группа 1: Искать по: /);
  await expect(page.getByTestId('group-1-title')).toHaveText(/^Группа 2: иначе по: /);
  await expect(page.getByTestId('groups-otherwise')).toHaveText('иначе создать новую запись');
  await expect(page.getByLabel('Обновить самую старую')).toBeChecked();
  await shot(page, 'dedup-3-ru');
  await page.getByTestId('language-switch').getByText('EN').click();

  // Save: what the SPA sends is round 2's policy exactly.
  await page.getByTestId('wizard-next').click();
  await expect(page.getByTestId('wizard-step-review')).toBeVisible();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page).toHaveURL(/\/bundles$/);
  const last = bridge.sent.at(-1)!;
  expect(last.method).toBe('PUT');
  expect(last.body.dedup).toEqual({
    mode: 'update_if_found',
    match: [{ fields: ['MobilePhone'] }, { fields: ['Email'] }],
    compare: { MobilePhone: { as: 'phone' }, Email: { as: 'email', gmail: true } },
    on_several: 'oldest',
    update_rules: { Name: 'overwrite', Email: 'overwrite', MobilePhone: 'overwrite' },
  });

  if (bridge.acceptsMatch) {
    // Stored as sent: the edit opens with the same groups.
    await page.goto(`/bundles/${bundleId}/edit/dedup`);
    await expect(page.getByTestId('group-0-field-MobilePhone')).toBeChecked();
    await expect(page.getByTestId('group-1-field-Email')).toBeChecked();
    await expect(page.getByLabel('Update the oldest')).toBeChecked();
  }
  await shot(page, 'dedup-4-saved');
});
