import { type Page, expect, request, test } from '@playwright/test';
import { SANDBOX_URL, login, shot } from './helpers';

// The wizard's traps (issue 20), in a Russian browser. What is not the point of a test is set up
// through the api; what is, is read and clicked in the interface.
test.use({ locale: 'ru-RU' });

async function api(page: Page, method: 'post' | 'get', path: string, data?: unknown) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'bpmlink_csrf')?.value ?? '';
  const response = await page.request[method](path, { data, headers: { 'X-CSRF-Token': csrf } });
  expect(response.ok(), `${method} ${path}: ${await response.text()}`).toBeTruthy();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the api's answers, read field by field below
  return (await response.json()) as Record<string, any>;
}

async function bpmConnection(page: Page, name: string): Promise<string> {
  const body = { app: 'bpmonline', name, params: { domain: SANDBOX_URL, auth: 'forms', username: 'Supervisor' }, secrets: { password: 'Supervisor' } };
  return (await api(page, 'post', '/api/v1/connections', body)).id as string;
}

const contactStep = (connection_id: string, mapping: unknown[]) => ({ key: 'contact', name: 'Контакт', action: 'create_record', connection_id, entity: 'Contact', mapping });

test('the Name trap cannot happen: a contact with only Email mapped saves incomplete and is refused at start, naming Name', async ({ page }) => {
  await login(page, undefined, 'ru');
  const cid = await bpmConnection(page, 'CRM для ловушек');
  const body = { name: 'Только e-mail → Контакт', source: { app: 'webhook', trigger: 'incoming_request' }, steps: [contactStep(cid, [{ target: 'Email', source: 'email' }])] };
  const bundle = await api(page, 'post', '/api/v1/bundles', body);
  expect(bundle.incomplete).toBe(true);
  expect(bundle.missing).toEqual([{ step: 'contact', field: 'Name' }]);
  expect(bundle.steps[0].mapping.map((r: { target: string }) => r.target)).toEqual(['Email']); // no placeholder

  await page.goto(`/bundles/${bundle.id}/edit/mapping`);
  await expect(page.getByTestId('mapping-missing')).toContainText('Не заполнены обязательные поля');
  await expect(page.getByTestId('mapping-missing')).toContainText('Name');
  await shot(page, 'traps-1-mapping-missing');

  await page.goto('/bundles');
  const row = page.getByTestId('bundle-row').filter({ hasText: 'Только e-mail → Контакт' });
  await expect(row.getByTestId('bundle-incomplete')).toHaveText('Черновик');
  await row.getByRole('button', { name: 'Запустить' }).click();
  const refusal = page.locator('.mantine-Notification-root').filter({ hasText: 'Name' });
  await expect(refusal).toContainText('Шаг «Контакт»: не заполнено обязательное поле Name');
  await shot(page, 'traps-2-start-refused', { fullPage: false });
  expect((await api(page, 'get', `/api/v1/bundles/${bundle.id}`)).status).toBe('stopped');
});

test('a polling bundle loads its sample from the source with a button', async ({ page }) => {
  await login(page, undefined, 'ru');
  const cid = await bpmConnection(page, 'CRM для опроса');
  // The JSON source polled: the sandbox's OData, with a bearer token of its demo OAuth client.
  const sandbox = await request.newContext({ baseURL: SANDBOX_URL });
  const token = await sandbox.post('/connect/token', { form: { grant_type: 'client_credentials', client_id: 'bpmlink-sandbox', client_secret: 'bpmlink-sandbox-secret' } });
  expect(token.ok()).toBeTruthy();
  const source = await api(page, 'post', '/api/v1/connections', {
    app: 'http_polling',
    name: 'Контакты из OData',
    params: { base_url: `${SANDBOX_URL}/0/odata`, auth: 'bearer' },
    secrets: { auth_value: ((await token.json()) as { access_token: string }).access_token },
  });
  // Tested for real: a request to its base URL, kept as the connection's state in the list.
  expect((await api(page, 'post', `/api/v1/connections/${source.id}/test`)).code).toBe('url_answered');
  const broken = await api(page, 'post', '/api/v1/connections', { app: 'http_polling', name: 'Нерабочий API', params: { base_url: 'http://127.0.0.1:9/api', auth: 'none' } });
  expect((await api(page, 'post', `/api/v1/connections/${broken.id}/test`)).ok).toBe(false);
  await page.goto('/connections');
  const state = (name: string) => page.getByTestId('connection-row').filter({ hasText: name }).getByTestId('connection-state');
  await expect(state('Контакты из OData')).toHaveAttribute('data-state', 'ok');
  await expect(state('Нерабочий API')).toHaveAttribute('data-state', 'failed');
  await expect(page.getByTestId('connection-row').filter({ hasText: 'Нерабочий API' })).toContainText('Не удалось подключиться');
  await shot(page, 'traps-0-connection-states');

  const bundle = await api(page, 'post', '/api/v1/bundles', {
    name: 'Опрос OData → Контакт',
    source: { app: 'http_polling', trigger: 'new_items', connection_id: source.id, config: { path: '/Contact', items_path: 'value', id_field: 'Id', cursor_field: 'ModifiedOn' } },
    steps: [contactStep(cid, [{ target: 'Name', source: 'Name' }, { target: 'Email', source: 'Email' }])],
  });

  await page.goto(`/bundles/${bundle.id}/edit/sample`);
  await expect(page.getByText(/нажмите «Загрузить пример»/)).toBeVisible();
  await page.getByTestId('fetch-sample').click();
  await expect(page.getByTestId('sample-received')).toBeVisible();
  await expect(page.getByTestId('fetch-sample')).toHaveText('Загрузить заново');
  await shot(page, 'traps-3-polling-sample');

  // The source step: the simple fields first, paging and cursors under «Дополнительно».
  await page.goto(`/bundles/${bundle.id}/edit/source`);
  await expect(page.getByTestId('advanced-config')).toContainText('Дополнительно');
  await shot(page, 'traps-4-polling-simple');
});

test('after start, the webhook URL is on the bundle list’s menu, with a copy button', async ({ page }) => {
  await login(page, undefined, 'ru');
  const cid = await bpmConnection(page, 'CRM для вебхука');
  const mapping = [
    { target: 'Name', source: 'name' },
    { target: 'Email', source: 'email' },
  ];
  const bundle = await api(page, 'post', '/api/v1/bundles', { name: 'Форма → Контакт (вебхук)', source: { app: 'webhook', trigger: 'incoming_request' }, steps: [contactStep(cid, mapping)] });
  await api(page, 'post', `/api/v1/bundles/${bundle.id}/start`);

  await page.goto('/bundles');
  await expect(page.getByTestId('counts-legend')).toContainText('ошибка');
  const row = page.getByTestId('bundle-row').filter({ hasText: 'Форма → Контакт (вебхук)' });
  await expect(row.getByRole('button', { name: 'Остановить' })).toBeEnabled();
  await shot(page, 'traps-5-bundle-list');
  await row.getByRole('button', { name: 'Другие действия' }).click();
  await page.getByTestId('menu-webhook-url').click();
  await expect(page.getByTestId('bundle-webhook-url')).toHaveValue(bundle.webhook_url as string);
  await expect(page.getByRole('dialog').getByRole('button', { name: 'Копировать' })).toBeVisible();
  await shot(page, 'traps-6-webhook-url', { fullPage: false });

  // The webhook's source step: verifications in words, the header only when one is used.
  await page.keyboard.press('Escape');
  await page.goto(`/bundles/${bundle.id}/edit/source`);
  await expect(page.getByRole('textbox', { name: 'Проверка подписи' })).toHaveValue('Без проверки');
  await expect(page.getByRole('textbox', { name: 'Заголовок с секретом или подписью' })).toHaveCount(0);
  await shot(page, 'traps-7-webhook-source');
});
