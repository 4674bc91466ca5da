import { expect, test } from '@playwright/test';
import { englishSentences } from './english';
import { ADMIN, SANDBOX_URL, login, shot } from './helpers';

test.use({ locale: 'ru-RU' });

test('a wrong-password connection test reads in Russian, bpm\'online\'s words labelled', async ({ page }) => {
  await login(page, ADMIN, 'ru');
  await page.getByRole('link', { name: 'Подключения' }).click();
  await page.getByRole('link', { name: 'Добавить подключение' }).first().click();
  await page.getByTestId('app-bpmonline').click();
  await page.getByRole('textbox', { name: 'Название', exact: true }).fill('Неверный пароль');
  await page.getByRole('textbox', { name: 'Домен' }).fill(SANDBOX_URL);
  await page.getByRole('textbox', { name: 'Имя пользователя' }).fill('Supervisor');
  await page.getByRole('textbox', { name: /^Пароль/ }).fill('nope');
  await page.getByRole('button', { name: 'Сохранить и проверить' }).click();
  const result = page.getByTestId('connection-test-result');
  await expect(result).toHaveAttribute('data-ok', 'false');
  await expect(result).toContainText('Ошибка на этапе: вход в систему');
  await expect(result).toContainText('Неверное имя пользователя или пароль');
  await expect(result.getByTestId('remote-text')).toContainText("Ответ bpm'online:");
  expect(await englishSentences(result)).toEqual([]);
  await shot(page, 'ru-connection-wrong-password');
});

test('an API validation error reads in Russian', async ({ page }) => {
  await login(page, ADMIN, 'ru');
  // The SPA's own checks stop most bad input first; the api's words are the same catalogs' anyway.
  const answer = await page.evaluate(async () => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('bpmlink_csrf='))?.split('=')[1] ?? '';
    const r = await fetch('/api/v1/connections', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf) },
      body: JSON.stringify({ app: 'bpmonline', name: '', params: {} }),
    });
    return r.json();
  });
  expect(answer.error.code).toBe('validation_error');
  expect(answer.error.message).toBe('name: не короче 1 симв.');
});
