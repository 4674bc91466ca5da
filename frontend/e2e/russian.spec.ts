import { expect, test, type Locator } from '@playwright/test';
import { ADMIN, SANDBOX_URL, login, shot } from './helpers';

test.use({ locale: 'ru-RU' });

/**
 * English sentences in a rendered part of the page: three or more Latin words in a row, outside
 * <code>, URLs, code names (CamelCase such as MobilePhone, snake_case keys) and bpm'online's own
 * words (shown labelled, `data-testid=remote-text`).
 */
async function englishSentences(scope: Locator): Promise<string[]> {
  const text = await scope.evaluate((root) => {
    const parts: string[] = [];
    const walk = (node: Node) => {
      if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent ?? '');
      if (!(node instanceof Element)) return;
      if (node.tagName === 'CODE' || node.getAttribute('data-testid') === 'remote-text') return;
      node.childNodes.forEach(walk);
      if (getComputedStyle(node).display !== 'inline') parts.push('\n');
    };
    walk(root);
    return parts.join('');
  });
  const words = text
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/\b[A-Za-z]*[a-z][A-Z]\w*\b/g, ' ') // CamelCase code names
    .replace(/\b\w+_\w+\b/g, ' '); // snake_case keys
  return [...words.matchAll(/[A-Za-z][A-Za-z'’]*(?:[ ,:;()-]+[A-Za-z][A-Za-z'’]*){2,}/g)].map((m) => m[0]);
}

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
