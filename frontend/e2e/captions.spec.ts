import { expect, test } from '@playwright/test';
import { addSandboxConnection, login } from './helpers';

const WAITING = 'Ждём тестовый запрос…';

test.use({ locale: 'ru-RU' });

test('captions: Contact’s fields read in Russian, and «Мобильный» finds MobilePhone in the mapping', async ({ page }) => {
  test.setTimeout(180_000);
  await login(page);
  await expect(await addSandboxConnection(page, 'CRM с подписями')).toHaveAttribute('data-ok', 'true');
  // The interface in Russian (saved to the profile): the api answers captions in it.
  await page.getByTestId('language-switch').getByText('RU', { exact: true }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');

  await page.getByRole('link', { name: 'Мои связки' }).click();
  await page.getByRole('link', { name: 'Новая связка' }).first().click();
  await page.getByTestId('bundle-name').fill('Форма → Контакты (подписи)');
  await page.getByTestId('source-app-webhook').click();
  await page.getByTestId('wizard-next').click();
  await page.getByTestId('target-connection').click();
  await page.getByRole('option', { name: 'CRM с подписями' }).click();
  await page.getByTestId('target-entity').click();
  await page.getByTestId('target-entity').fill('Контакт');
  await page.getByRole('option', { name: 'Контакт (Contact)', exact: true }).click();
  await page.getByTestId('wizard-next').click();
  await expect(page.getByTestId('wizard-step-sample')).toBeVisible();
  const url = await page.getByTestId('webhook-url').inputValue();
  await expect(page.getByText(WAITING)).toBeVisible(); // capture is armed
  expect((await page.request.post(url, { data: { name: 'Анна', phone: '+79123456789' } })).status()).toBe(202);
  await expect(page.getByTestId('sample-received')).toBeVisible({ timeout: 20_000 });
  await page.getByTestId('wizard-next').click();
  await expect(page.getByTestId('wizard-step-mapping')).toBeVisible();

  const mobile = page.getByTestId('mapping-row-MobilePhone');
  await expect(mobile).toContainText('Мобильный телефон (MobilePhone)');
  await expect(mobile).toContainText('Строка');
  const account = page.getByTestId('mapping-row-AccountId');
  await expect(account).toContainText('Контрагент (AccountId)');
  await expect(account).toContainText('Справочник: Контрагент');
  await expect(page.getByTestId('mapping-row-Name')).toContainText('ФИО (Name)');

  await page.getByPlaceholder('Найти поле').fill('Мобильный');
  await expect(page.getByTestId(/^mapping-row-/)).toHaveCount(1);
  await expect(page.getByTestId('mapping-row-MobilePhone')).toBeVisible();
  await page.getByPlaceholder('Найти поле').fill('mobile');
  await expect(page.getByTestId('mapping-row-MobilePhone')).toBeVisible();
});
