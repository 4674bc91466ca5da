import { expect, test } from '@playwright/test';
import { ADMIN, login, shot, startIn } from './helpers';

// Both scenarios in the Russian interface. The e2e stack runs with BPMLINK_SIGNUP=open and no SMTP.
test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

test('регистрация: новый пользователь попадает в собственное пространство', async ({ page }) => {
  const email = `nina-${Date.now()}@example.com`;
  await startIn(page, 'ru');
  await page.goto('/login');
  await page.getByRole('link', { name: 'Создать аккаунт' }).click();
  await expect(page).toHaveURL(/\/signup$/);
  await page.getByRole('textbox', { name: 'Эл. почта' }).fill(email);
  await page.getByRole('textbox', { name: 'Пароль', exact: true }).fill('кот-в-сапогах-2026');
  await page.getByRole('textbox', { name: 'Имя' }).fill('Нина Соколова');
  await page.getByRole('textbox', { name: 'Название пространства' }).fill('Пространство Нины');
  await shot(page, 'signup');
  await page.getByRole('button', { name: 'Зарегистрироваться' }).click();

  // No SMTP: no confirmation step, straight to the dashboard of the new workspace, as its owner.
  const menu = page.getByTestId('user-menu');
  await expect(menu).toContainText('Пространство Нины · Владелец');
  await expect(page.getByRole('heading', { name: 'Обзор' })).toBeVisible();
  await expect(page).toHaveURL(/\/$/);

  // Their own workspace: they are its only member, and it has nothing of anyone else's.
  await page.goto('/settings/members');
  await expect(page.getByTestId('member-row')).toHaveCount(1);
  await expect(page.getByTestId('member-row')).toContainText(email);
  await page.goto('/connections');
  await expect(page.getByRole('heading', { name: 'Подключения' })).toBeVisible();
  await expect(page.getByText('Подключений пока нет')).toBeVisible();
  await shot(page, 'signup-own-workspace');
});

test('приглашение: владелец передаёт ссылку, приглашённый задаёт имя и пароль и входит с нужной ролью', async ({ page, browser }) => {
  const email = `vera-${Date.now()}@example.com`;
  await login(page, ADMIN, 'ru');
  const workspace = ((await (await page.request.get('/api/v1/auth/me')).json()) as { workspace: { name: string } }).workspace.name;

  await page.goto('/settings/members');
  await page.getByRole('button', { name: 'Пригласить участника' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Эл. почта' }).fill(email);
  await dialog.getByRole('textbox', { name: 'Роль' }).click();
  await page.getByRole('option', { name: 'Наблюдатель' }).click();
  await dialog.getByRole('button', { name: 'Пригласить' }).click();

  // No SMTP: the owner gets the link to pass on, and copies it.
  const field = page.getByTestId('invitation-link');
  await expect(field).toBeVisible();
  await page.getByRole('dialog').getByRole('button', { name: 'Копировать' }).click();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toBe(await field.inputValue());
  expect(link).toContain('/invite?token=');
  await shot(page, 'invitation-link');
  await page.getByRole('button', { name: 'Готово' }).click();
  await expect(page.getByTestId('invitation-row').filter({ hasText: email })).toBeVisible();

  // The invitee, in a browser of their own.
  const ctx = await browser.newContext();
  const invitee = await ctx.newPage();
  await startIn(invitee, 'ru');
  await invitee.goto(link);
  await expect(invitee.getByTestId('invitation-summary')).toContainText(`в рабочее пространство ${workspace} с ролью Наблюдатель`);
  await expect(invitee.getByRole('textbox', { name: 'Эл. почта' })).toHaveValue(email);
  await invitee.getByRole('textbox', { name: 'Имя' }).fill('Вера Петрова');
  await invitee.getByRole('textbox', { name: 'Придумайте пароль' }).fill('белые-ночи-2026');
  await shot(invitee, 'invitation-accept');
  await invitee.getByRole('button', { name: 'Присоединиться' }).click();

  const menu = invitee.getByTestId('user-menu');
  await expect(menu).toContainText('Вера Петрова');
  await expect(menu).toContainText(`${workspace} · Наблюдатель`);
  await expect(invitee.getByRole('heading', { name: 'Обзор' })).toBeVisible();
  // A viewer: no write actions.
  await invitee.getByRole('link', { name: 'Подключения' }).click();
  await expect(invitee.getByRole('heading', { name: 'Подключения' })).toBeVisible();
  await expect(invitee.getByRole('link', { name: 'Добавить подключение' })).toHaveCount(0);
  await ctx.close();

  // The owner sees the new member with the invited role; the invitation is used up.
  await page.reload();
  const row = page.getByTestId('member-row').filter({ hasText: email });
  await expect(row).toBeVisible();
  await expect(row.getByRole('textbox', { name: `Роль ${email}` })).toHaveValue('Наблюдатель');
  await expect(page.getByTestId('invitation-row').filter({ hasText: email })).toHaveCount(0);
});
