import { expect, test } from '@playwright/test';
import { login, shot } from './helpers';

test('create an API key, see it once, use it, revoke it', async ({ page }) => {
  await login(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('tab', { name: 'API keys' }).click();
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('textbox', { name: 'Name' }).fill('Import script');
  await page.getByRole('dialog').getByRole('button', { name: 'Create key' }).click();
  const value = page.getByTestId('api-key-value');
  await expect(value).toBeVisible();
  const key = await value.inputValue();
  expect(key.length).toBeGreaterThan(20);
  await shot(page, 'api-key-created');

  // The key works as a Bearer token.
  const res = await page.request.get('/api/v1/connections', { headers: { Authorization: `Bearer ${key}` } });
  expect(res.status()).toBe(200);

  await page.getByRole('button', { name: 'Done' }).click();
  const row = page.getByTestId('api-key-row').filter({ hasText: 'Import script' });
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  // A revoked key either leaves the list or stays marked as revoked, without a revoke button.
  await expect(row.getByRole('button', { name: 'Revoke' })).toHaveCount(0);
  const after = await page.request.get('/api/v1/connections', { headers: { Authorization: `Bearer ${key}` } });
  expect(after.status()).toBe(401);
});

test('log out from the user menu', async ({ page }) => {
  await login(page);
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/connections');
  await expect(page).toHaveURL(/\/login$/);
});

test('create a second workspace from the user menu, see none of the first one, switch back', async ({ page }) => {
  await login(page);
  const first = ((await (await page.request.get('/api/v1/auth/me')).json()) as { workspace: { name: string } }).workspace.name;
  const menu = page.getByTestId('user-menu');
  await menu.click();
  await page.getByRole('menuitem', { name: 'New workspace' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Name' }).fill('Second workspace');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(menu).toContainText('Second workspace · Owner');
  await page.getByRole('link', { name: 'Connections' }).click();
  await expect(page.getByText('No connections yet')).toBeVisible();
  await shot(page, 'second-workspace');

  await menu.click();
  await page.getByTestId('workspace-item').filter({ hasText: first }).click();
  await expect(menu).toContainText(`${first} · Owner`);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
});

test('profile: the language switches the interface, the time zone is used in the audit log', async ({ page }) => {
  await login(page);
  // Something for the audit log, whatever ran before.
  const csrf = (await page.context().cookies()).find((c) => c.name === 'bpmlink_csrf')?.value ?? '';
  const key = await page.request.post('/api/v1/api-keys', { data: { name: 'Audited key' }, headers: { 'X-CSRF-Token': csrf } });
  expect(key.status()).toBe(201);
  await page.goto('/settings/profile');
  const zone = page.getByRole('textbox', { name: 'Time zone' });
  await zone.click();
  await zone.fill('Tokyo');
  await page.getByRole('option', { name: /^Asia\/Tokyo/ }).click();
  await page.getByRole('textbox', { name: 'Interface language' }).click();
  await page.getByRole('option', { name: 'Русский' }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: 'Настройки' })).toBeVisible();
  await shot(page, 'profile');

  await page.getByRole('tab', { name: 'Журнал действий' }).click();
  const log = page.getByTestId('audit-table');
  await expect(log).toContainText('Время (Asia/Tokyo)');
  await expect(page.getByTestId('audit-row').filter({ hasText: 'Audited key' }).first()).toBeVisible();
  await shot(page, 'audit-log');
});
