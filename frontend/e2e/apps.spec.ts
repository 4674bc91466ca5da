import { expect, test } from '@playwright/test';
import { ADMIN, addSandboxConnection, login, shot } from './helpers';

test('gallery: «тильда» finds Tilda, categories narrow the list, nothing found is said, and it fits a phone', async ({ page }) => {
  await login(page, ADMIN, 'ru');
  await page.goto('/bundles/new/source');
  await expect(page.getByRole('heading', { name: "Выберите систему, из которой вы хотите загружать данные в bpm'online" })).toBeVisible();
  await expect(page.getByTestId('source-app-tilda')).toBeVisible();
  await expect(page.getByTestId('source-app-webhook')).toBeVisible();
  await shot(page, 'apps-1-gallery');

  const search = page.getByTestId('app-search');
  await search.fill('тильда');
  await expect(page.getByTestId(/^source-app-/)).toHaveCount(1);
  await expect(page.getByTestId('source-app-tilda')).toBeVisible();
  await shot(page, 'apps-2-search-tilda');
  await search.fill('ТИЛЬДА');
  await expect(page.getByTestId('source-app-tilda')).toBeVisible();

  await search.fill('');
  await page.getByText('Универсальные', { exact: true }).click();
  await expect(page.getByTestId('source-app-webhook')).toBeVisible();
  await expect(page.getByTestId('source-app-tilda')).toHaveCount(0);
  await page.getByText('Формы и сайты', { exact: true }).click();
  await expect(page.getByTestId('source-app-tilda')).toBeVisible();
  await expect(page.getByTestId('source-app-webhook')).toHaveCount(0);
  await shot(page, 'apps-3-category-forms');

  await search.fill('несуществующая система');
  await expect(page.getByTestId('gallery-empty')).toContainText('По запросу «несуществующая система» ничего не нашлось');
  await shot(page, 'apps-4-nothing-found');
  await page.getByRole('button', { name: 'Показать все системы' }).click();
  await expect(page.getByTestId('source-app-webhook')).toBeVisible();

  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload(); // laid out from the start at a phone's width, as a phone opens it
  await expect(page.getByTestId('source-app-tilda')).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, 'apps-5-gallery-narrow');
});

test('Tilda bundle: the app’s instructions with the bundle’s URL, its labelled fields in the mapping before and after a request', async ({ page }) => {
  test.setTimeout(180_000);
  await login(page);
  await expect(await addSandboxConnection(page, 'CRM for Tilda')).toHaveAttribute('data-ok', 'true');
  await page.getByTestId('language-switch').getByText('RU').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');

  // (1) the gallery, then Tilda's trigger in its own words
  await page.goto('/bundles/new/source');
  await page.getByTestId('bundle-name').fill('Tilda → Контакты');
  await page.getByTestId('app-search').fill('тильда');
  await page.getByTestId('source-app-tilda').click();
  await expect(page.getByTestId('trigger-form_submission')).toContainText('Новая заявка с формы');
  await expect(page.getByRole('textbox', { name: 'Заголовок API-ключа (необязательно)' })).toBeVisible();
  await expect(page.getByTestId('webhook-secret')).toHaveAttribute('type', 'password');
  await page.getByTestId('webhook-secret').fill('tilda-api-key-123');
  await expect(page.getByTestId('source-connection')).toHaveCount(0); // Tilda needs none
  await shot(page, 'apps-tilda-1-source');
  await page.getByTestId('wizard-next').click();

  // (2) target
  await expect(page.getByTestId('wizard-step-target')).toBeVisible();
  await page.getByTestId('target-connection').click();
  await page.getByRole('option', { name: 'CRM for Tilda' }).click();
  await page.getByTestId('target-entity').click();
  await page.getByTestId('target-entity').fill('Contact');
  await page.getByRole('option', { name: /^(Contact|.* \(Contact\))$/ }).first().click();
  await page.getByTestId('wizard-next').click();

  // (3) the webhook URL beside Tilda's instructions, with that URL in them
  await expect(page.getByTestId('wizard-step-sample')).toBeVisible();
  const url = await page.getByTestId('webhook-url').inputValue();
  expect(url).toMatch(/\/hooks\//);
  await expect(page.getByRole('heading', { name: 'Как подключить Tilda' })).toBeVisible();
  const instructions = page.getByTestId('app-instructions');
  await expect(instructions.locator('li')).toHaveCount(4);
  await expect(instructions.locator('strong').first()).toHaveText('Настройки сайта → Формы → Webhook');
  await expect(instructions.locator('code')).toHaveText(url);
  await expect(instructions).not.toContainText('{url}');
  await expect(page.getByText('Ждём тестовый запрос…')).toBeVisible();
  await shot(page, 'apps-tilda-2-instructions');
  // What Tilda sends when the webhook is connected, to the gateway itself: answered `ok`, shown as a test.
  const answer = await page.request.post(url, { form: { test: 'test' } });
  expect(answer.status()).toBe(200);
  expect(await answer.text()).toBe('ok');
  await expect(page.getByTestId('test-request-received')).toBeVisible();
  // The secret was saved with the bundle and is not shown back: only that it is set.
  await page.getByTestId('step-source').click();
  await expect(page.getByTestId('secret-set')).toBeVisible();
  await expect(page.getByTestId('webhook-secret')).toHaveValue('');
  await page.getByTestId('step-sample').click();
  await page.getByTestId('wizard-next').click();

  // (4) before any request: Tilda's labelled fields with example values
  await expect(page.getByTestId('wizard-step-mapping')).toBeVisible();
  await expect(page.getByTestId('mapping-no-sample')).toContainText('поля, которые отправляет эта система');
  const phoneRow = page.getByTestId('mapping-row-MobilePhone');
  await phoneRow.getByText('Поле', { exact: true }).click();
  await phoneRow.getByTestId('source-field').click();
  const option = (path: string) => page.locator(`[data-testid=source-field-option][data-path="${path}"]`).filter({ visible: true });
  await expect(option('Phone')).toContainText('Телефон');
  await expect(option('Phone')).toContainText('напр. +7 (912) 345-67-89');
  await expect(option('Name')).toContainText('Имя');
  await expect(option('utm_source')).toContainText('UTM-метка source');
  await shot(page, 'apps-tilda-3-mapping-labelled', { fullPage: false });
  await option('Phone').click();
  await expect(phoneRow.getByTestId('source-field')).toHaveValue('Phone');

  // A submission's fields as Tilda sends them, with a variable of the form's own, given as the sample.
  await page.getByTestId('step-sample').click();
  const submission = { Name: 'Ирина Смирнова', Phone: '+7 (900) 111-22-33', Email: 'irina@example.ru', Comment: 'перезвонить после 18:00', tranid: '1111111:42' };
  await page.getByRole('textbox', { name: 'Или вставьте пример данных (JSON)' }).fill(JSON.stringify(submission));
  await page.getByRole('button', { name: 'Использовать как пример' }).click();
  await expect(page.getByTestId('sample-received')).toBeVisible();
  await page.getByTestId('step-mapping').click();
  await expect(page.getByTestId('mapping-no-sample')).toHaveCount(0);
  const nameRow = page.getByTestId('mapping-row-Name');
  await nameRow.getByText('Поле', { exact: true }).click();
  await nameRow.getByTestId('source-field').click();
  await expect(option('Phone')).toContainText('+7 (900) 111-22-33');
  await expect(option('Phone')).not.toContainText('напр.');
  await expect(option('Comment')).toContainText('из примера');
  await expect(option('Comment')).toContainText('перезвонить после 18:00');
  await shot(page, 'apps-tilda-4-mapping-merged', { fullPage: false });
});
