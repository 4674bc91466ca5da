import { expect, test } from '@playwright/test';
import { addSandboxConnection, login, sandboxCreate, sandboxQuery, shot } from './helpers';

const STAMP = String(Date.now());
const EMAIL = `ivan.${STAMP}@example.com`;
const NAME = `Иван Петров ${STAMP}`;
// A number of this run's own (other specs write +7 912 … contacts): 9 + the stamp's last nine digits.
const DIGITS = `9${STAMP.slice(-9)}`;
const STORED = `+7 (${DIGITS.slice(0, 3)}) ${DIGITS.slice(3, 6)}-${DIGITS.slice(6, 8)}-${DIGITS.slice(8)}`;
const SENT = `8${DIGITS}`;
const E164 = `+7${DIGITS}`;

test('duplicates: search by phone, otherwise by e-mail, otherwise create; check on the sample; save', async ({ page }) => {
  test.setTimeout(180_000);
  await login(page);
  // Someone entered the contact in bpm'online by hand: the phone in its own format, no e-mail.
  const existing = await sandboxCreate('Contact', { Name: NAME, MobilePhone: STORED });
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
  await page.getByRole('option', { name: /^(Contact|.* \(Contact\))$/ }).first().click();
  await page.getByTestId('wizard-next').click();
  await expect(page.getByTestId('wizard-step-sample')).toBeVisible();
  const bundleId = /\/bundles\/([0-9a-f-]{36})\//.exec(page.url())![1];
  const url = await page.getByTestId('webhook-url').inputValue();
  await expect(page.getByText('Waiting for a test request…')).toBeVisible(); // capture is armed
  const sample = await page.request.post(url, { data: { name: NAME, email: EMAIL, phone: SENT } });
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
  await expect(page.getByTestId('mapping-preview')).toContainText(E164);
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

  // The check on the sample, against the sandbox now: the hand-entered contact, found by its number.
  await page.getByTestId('dedup-check').click();
  const result = page.getByTestId('dedup-check-result');
  await expect(result).toBeVisible({ timeout: 30_000 });
  await expect(result).toHaveAttribute('data-action', 'update');
  await expect(result).toContainText(`Found by group 1`);
  await expect(result).toContainText(E164);
  await expect(result).toContainText(NAME);
  await expect(page.getByTestId('dedup-exact-fallback')).toHaveCount(0); // the sandbox searches phones as Creatio does
  await shot(page, 'dedup-2-check');

  // The same step in Russian.
  await page.getByTestId('language-switch').getByText('RU').click();
  await expect(page.getByTestId('group-0-title')).toHaveText(/^Группа 1: Искать по: /);
  await expect(page.getByTestId('group-1-title')).toHaveText(/^Группа 2: иначе по: /);
  await expect(page.getByTestId('groups-otherwise')).toHaveText('иначе создать новую запись');
  await expect(page.getByLabel('Обновить самую старую')).toBeChecked();
  await shot(page, 'dedup-3-ru');
  await page.getByTestId('language-switch').getByText('EN').click();

  // Save, and the policy is stored as the wizard shows it.
  await page.getByTestId('wizard-next').click();
  await expect(page.getByTestId('wizard-step-review')).toBeVisible();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page).toHaveURL(/\/bundles$/);
  const stored = await (await page.request.get(`/api/v1/bundles/${bundleId}`)).json();
  expect(stored.dedup).toMatchObject({
    mode: 'update_if_found',
    match: [{ fields: ['MobilePhone'] }, { fields: ['Email'] }],
    compare: { MobilePhone: { as: 'phone' }, Email: { as: 'email', gmail: true } },
    on_several: 'oldest',
  });
  await page.goto(`/bundles/${bundleId}/edit/dedup`);
  await expect(page.getByTestId('group-0-field-MobilePhone')).toBeChecked();
  await expect(page.getByTestId('group-1-field-Email')).toBeChecked();
  await expect(page.getByLabel('Update the oldest')).toBeChecked();
  await shot(page, 'dedup-4-saved');

  // Started, the same person writes again with the number as 8…: the hand-entered contact gets the e-mail,
  // and no second contact appears.
  await page.goto('/bundles');
  const row = page.locator('[data-testid=bundle-row][data-name="Leads → Contacts (phone, e-mail)"]');
  await row.getByRole('button', { name: 'Start' }).click();
  await expect(row.getByTestId('bundle-status')).toHaveAttribute('data-status', /waiting|running/);
  expect((await page.request.post(url, { data: { name: NAME, email: EMAIL, phone: SENT } })).status()).toBe(202);
  await expect
    .poll(async () => (await sandboxQuery('Contact', `Id eq ${String(existing.Id)}`))[0]?.Email, { timeout: 30_000 })
    .toBe(EMAIL);
  expect(await sandboxQuery('Contact', `Name eq '${NAME}'`)).toHaveLength(1);
});
