import { expect, test } from '@playwright/test';
import { addSandboxConnection, login, sandboxQuery, shot } from './helpers';

const EMAIL = `olga.${Date.now()}@example.com`;
const REQUEST = { name: 'Ольга Смирнова', email: EMAIL, phone: '8 (912) 000-11-22', comment: 'Перезвоните после обеда' };

test('a bundle of steps from the template: website request → contact + lead + task, in Russian', async ({ page }) => {
  test.setTimeout(240_000);
  await login(page);
  await expect(await addSandboxConnection(page, 'CRM for steps')).toHaveAttribute('data-ok', 'true');
  await page.getByTestId('language-switch').getByText('RU').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');

  // (1) the source
  await page.goto('/bundles/new/source');
  await page.getByTestId('bundle-name').fill('Заявка с сайта → Контакт + Лид + Задача');
  await page.getByTestId('source-app-webhook').click();
  await page.getByTestId('wizard-next').click();

  // (2) the steps: the template fills them, one picker sets the connection of all three
  await expect(page.getByTestId('wizard-step-target')).toBeVisible();
  await expect(page.getByTestId('step-templates')).toContainText('Заявка с сайта → Контакт + Лид + Задача');
  await shot(page, 'steps-1-templates');
  await page.getByTestId('template-lead').click();
  await expect(page.getByTestId('step-list').getByRole('listitem')).toHaveCount(3);
  await page.getByTestId('connection-for-all').click();
  await page.getByRole('option', { name: 'CRM for steps' }).click();
  await expect(page.getByTestId('target-connection')).toHaveValue('CRM for steps');
  await page.getByTestId('select-step-2').click();
  await expect(page.getByTestId('step-editor')).toContainText('Шаг 3: Задача');
  await expect(page.getByTestId('activity-due')).toHaveValue('2');
  await shot(page, 'steps-2-list-task');
  await page.getByTestId('wizard-next').click();

  // (3) the sample
  await expect(page.getByTestId('wizard-step-sample')).toBeVisible();
  await expect(page).toHaveURL(/\/bundles\/[0-9a-f-]{36}\/edit\/sample$/);
  const bundleId = /\/bundles\/([0-9a-f-]{36})\//.exec(page.url())![1];
  const url = await page.getByTestId('webhook-url').inputValue();
  // A person sends the request once the step says it waits (capture is armed when the step opens).
  await expect(page.getByTestId('sample-waiting')).toHaveAttribute('data-capturing', 'true');
  expect((await page.request.post(url, { data: REQUEST })).status()).toBe(202);
  await expect(page.getByTestId('sample-received')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('wizard-next').click();

  // (4) the mapping of the lead offers the contact's results, and never its own or the task's
  await expect(page.getByTestId('wizard-step-mapping')).toBeVisible();
  await page.getByTestId('step-picker').getByText('2. Лид').click();
  const contactRow = page.getByTestId('mapping-row-QualifiedContactId');
  await expect(contactRow.getByTestId('source-field')).toHaveValue('steps.contact.Id');
  // Typing «steps.» in a field lists what the earlier steps give.
  const email = page.getByTestId('mapping-row-Email').getByTestId('source-field');
  await email.fill('steps.');
  const options = page.getByRole('listbox').locator('[data-testid=source-field-option]');
  await expect(options.locator('xpath=self::*[@data-path="steps.contact.Id"]')).toBeVisible();
  await expect(options.locator('xpath=self::*[@data-path="steps.contact.OwnerId"]')).toBeVisible();
  const paths = await options.evaluateAll((els) => els.map((e) => e.getAttribute('data-path') ?? ''));
  expect(paths.length).toBeGreaterThan(2);
  expect(paths.filter((p) => !p.startsWith('steps.contact.'))).toEqual([]);
  await shot(page, 'steps-3-mapping-lead', { fullPage: false });
  await email.fill('email');
  await page.keyboard.press('Escape');
  await page.getByTestId('wizard-next').click();

  // (5) duplicates: the contact's policy from the template (update if found by Email)
  await expect(page.getByTestId('wizard-step-dedup')).toBeVisible();
  await page.getByTestId('step-picker').getByText('1. Контакт').click();
  await expect(page.getByTestId('group-0-field-Email')).toBeChecked();
  await shot(page, 'steps-4-dedup-contact');
  await page.getByTestId('wizard-next').click();

  // (6) review: every step's preview, the contact's Id as a stand-in
  await expect(page.getByTestId('wizard-step-review')).toBeVisible();
  await page.getByTestId('check-steps').click();
  await expect(page.getByTestId('step-preview')).toHaveCount(3, { timeout: 30_000 });
  await expect(page.getByTestId('review-step-1').getByTestId('stand-in').first()).toHaveText('будет Id шага «Контакт»');
  await expect(page.getByTestId('review-step-0')).toContainText('Ольга Смирнова');
  await shot(page, 'steps-5-review');
  await page.getByTestId('save-and-start').click();
  await expect(page).toHaveURL(/\/bundles$/);
  // The list names the steps' entities (a bundle of several steps has no round-1 target).
  const bundleRow = page.locator('[data-testid=bundle-row][data-name="Заявка с сайта → Контакт + Лид + Задача"]');
  await expect(bundleRow).toContainText('Contact → Lead → Activity');
  await expect(bundleRow.getByTestId('bundle-status')).toHaveAttribute('data-status', /waiting|running/);

  // A webhook runs the three steps.
  await page.goto(`/history?bundle=${bundleId}`);
  expect((await page.request.post(url, { data: REQUEST })).status()).toBe(202);
  const row = page.locator('[data-testid=operation-row][data-status=created]');
  await expect(row).toHaveCount(1, { timeout: 90_000 });
  await row.click();
  const results = page.getByTestId('step-result');
  await expect(results).toHaveCount(3);
  await expect(results.nth(0)).toHaveAttribute('data-key', 'contact');
  await expect(results.nth(0)).toContainText('создана');
  await expect(results.nth(1)).toHaveAttribute('data-key', 'lead');
  await expect(results.nth(2)).toHaveAttribute('data-key', 'task');
  await expect(results.nth(2)).toContainText('Создать задачу');
  await expect(page.getByTestId('operation-step').first()).toBeVisible();
  await shot(page, 'steps-6-history');

  // The sandbox: one contact, one lead qualified with it, one task linked to both.
  const contacts = await sandboxQuery('Contact', `Email eq '${EMAIL}'`);
  expect(contacts).toHaveLength(1);
  const contactId = String(contacts[0]!.Id);
  expect(contacts[0]).toMatchObject({ Name: 'Ольга Смирнова', MobilePhone: '+79120001122' });
  const leads = await sandboxQuery('Lead', `Email eq '${EMAIL}'`);
  expect(leads).toHaveLength(1);
  expect(leads[0]).toMatchObject({ QualifiedContactId: contactId, Commentary: 'Перезвоните после обеда' });
  const leadId = String(leads[0]!.Id);
  const tasks = await sandboxQuery('Activity', `Contact/Id eq ${contactId} and Lead/Id eq ${leadId}`);
  expect(tasks).toHaveLength(1);
  expect(String(tasks[0]!.Title)).toContain('Ольга Смирнова');
  await expect(results.nth(0)).toContainText(contactId);
  await expect(results.nth(1)).toContainText(leadId);
});
