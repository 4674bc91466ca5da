import { expect, test } from '@playwright/test';
import { ADMIN, addSandboxConnection, login, shot } from './helpers';

test('a wrong password is refused with a message', async ({ page }) => {
  await page.goto('/login');
  await page.getByRole('textbox', { name: 'E-mail' }).fill(ADMIN.email);
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Wrong e-mail or password');
  await shot(page, 'login-error');
});

test('add a bpm\'online connection to the sandbox, test it, edit it, delete it', async ({ page }) => {
  await login(page);
  const result = await addSandboxConnection(page, 'Sandbox CRM');
  await expect(result).toHaveAttribute('data-ok', 'true');
  await expect(result).toContainText('Connection works');
  // Secrets are write-only: the form shows that the password is set, not its value.
  await expect(page.getByTestId('secret-set')).toBeVisible();
  await expect(page.getByRole('textbox', { name: /^Password/ })).toHaveValue('');
  await shot(page, 'connection-tested');

  // Rename without retyping the password: the stored secret is kept and the test still passes.
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Sandbox CRM (main)');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Connection "Sandbox CRM (main)" saved')).toBeVisible();
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await expect(page.getByTestId('connection-test-result')).toHaveAttribute('data-ok', 'true');

  await page.getByRole('link', { name: 'Connections' }).first().click();
  const row = page.locator('[data-testid=connection-row][data-name="Sandbox CRM (main)"]');
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: 'Test' }).click();
  await expect(page.getByTestId('connection-test-result')).toContainText('Connection works');
  await shot(page, 'connections-list');

  // A wrong password fails at the sign-in stage, in words.
  const bad = await addSandboxConnection(page, 'Wrong password', 'nope');
  await expect(bad).toHaveAttribute('data-ok', 'false');
  await expect(bad).toContainText('Connection failed at step');
  await shot(page, 'connection-failed');

  await page.getByRole('link', { name: 'Connections' }).first().click();
  const badRow = page.locator('[data-testid=connection-row][data-name="Wrong password"]');
  await badRow.getByRole('button', { name: 'More actions' }).click();
  await page.getByRole('menuitem', { name: 'Delete' }).click();
  await expect(page.getByText('"Wrong password" will be deleted')).toBeVisible();
  await page.getByRole('button', { name: 'Delete' }).click();
  await expect(badRow).toHaveCount(0);
});

test('server validation errors appear beside the field', async ({ page }) => {
  await login(page);
  await page.goto('/connections/new?app=bpmonline');
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Broken');
  await page.getByRole('textbox', { name: 'Domain' }).fill('ftp://nowhere');
  await page.getByRole('textbox', { name: 'User name' }).fill('Supervisor');
  await page.getByRole('textbox', { name: /^Password/ }).fill('x');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText(/must be an http\(s\) address/)).toBeVisible();
});
