import { expect, test } from '@playwright/test';
import { login, shot } from './helpers';

test('create an API key, see it once, use it, revoke it', async ({ page }) => {
  await login(page);
  await page.getByRole('link', { name: 'Settings' }).click();
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

test('an owner adds a viewer, who sees no write actions', async ({ page, browser }) => {
  await login(page);
  await page.goto('/settings/users');
  await page.getByRole('button', { name: 'Add user' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'E-mail' }).fill('viewer@example.com');
  await dialog.getByRole('textbox', { name: 'Initial password' }).fill('viewer-pass-123');
  await dialog.getByRole('textbox', { name: 'Role' }).click();
  await page.getByRole('option', { name: 'Viewer' }).click();
  await dialog.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByText('viewer@example.com').first()).toBeVisible();
  await shot(page, 'users');

  const ctx = await browser.newContext();
  const viewer = await ctx.newPage();
  await login(viewer, { email: 'viewer@example.com', password: 'viewer-pass-123' });
  await viewer.getByRole('link', { name: 'Connections' }).click();
  await expect(viewer.getByRole('heading', { name: 'Connections' })).toBeVisible();
  await expect(viewer.getByRole('link', { name: 'Add connection' })).toHaveCount(0);
  await viewer.goto('/settings/users');
  await expect(viewer.getByText('Only the workspace owner can manage users.')).toBeVisible();
  await ctx.close();
});

test('log out from the user menu', async ({ page }) => {
  await login(page);
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/connections');
  await expect(page).toHaveURL(/\/login$/);
});
