import type { components } from '@/api/schema';

type SchemaApp = components['schemas']['App'];

/**
 * Catalog entries as `GET /api/v1/apps` sends them, shortened from `bpmlink/catalog`: Tilda
 * (forms, no connection, labelled fields, instructions), amoCRM (crm, a connection), the
 * universal webhook and Yandex Forms (a body template).
 */
const L = (en: string, ru: string) => ({ en, ru });

export const TILDA: SchemaApp = {
  key: 'tilda',
  label: L('Tilda', 'Tilda'),
  category: 'forms',
  description: L('Leads from the forms of a Tilda site', 'Заявки с форм сайта на Tilda'),
  keywords: ['tilda', 'тильда', 'лендинг', 'landing', 'форма'],
  is_source: true,
  is_target: false,
  needs_connection: false,
  triggers: [
    {
      key: 'form_submission',
      label: L('New form submission', 'Новая заявка с формы'),
      description: L('Each submitted form', 'Каждая отправленная форма'),
      kind: 'webhook',
      config_fields: [
        { name: 'api_key_header', label: L('API key header (optional)', 'Заголовок API-ключа (необязательно)'), type: 'string', required: false, secret: false, advanced: false },
      ],
      webhook: {
        answer: { status: 200, content_type: 'text/plain', body: 'text' },
        verification: { mode: 'header_secret', header_field: 'api_key_header', optional: true, encoding: 'auto', prefix: '', tolerance_seconds: 300 },
      },
      fields: [
        { path: 'Name', label: L('Name', 'Имя'), example: 'Иван Петров' },
        { path: 'Phone', label: L('Phone', 'Телефон'), example: '+7 (912) 345-67-89' },
        { path: 'utm_source', label: L('UTM source', 'UTM-метка source'), example: 'yandex' },
      ],
      instructions: L(
        '1. In Tilda open **Site settings → Forms → Webhook**.\n2. Paste the URL `{url}` and save.',
        '1. В Tilda откройте **Настройки сайта → Формы → Webhook**.\n2. Вставьте адрес `{url}` и сохраните.',
      ),
    },
  ],
};

export const AMOCRM: SchemaApp = {
  key: 'amocrm',
  label: L('amoCRM', 'amoCRM'),
  category: 'crm',
  description: L('Leads and contacts from amoCRM', 'Сделки и контакты из amoCRM'),
  keywords: ['амо', 'amo', 'сделки'],
  is_source: true,
  is_target: false,
  needs_connection: true,
  connection_fields: [{ name: 'subdomain', label: L('Subdomain', 'Поддомен'), type: 'string', required: true, secret: false, advanced: false }],
  triggers: [
    {
      key: 'lead_added',
      label: L('New lead', 'Новая сделка'),
      kind: 'webhook',
      config_fields: [
        { name: 'account_secret', label: L('Account secret', 'Секрет аккаунта'), type: 'password', required: false, secret: true, advanced: false },
        { name: 'networks', label: L('Allowed networks', 'Разрешённые сети'), type: 'text', required: false, secret: false, advanced: false },
      ],
    },
  ],
};

export const YANDEX_FORMS: SchemaApp = {
  key: 'yandex_forms',
  label: L('Yandex Forms', 'Яндекс Формы'),
  category: 'forms',
  description: L('Answers to a Yandex form', 'Ответы на Яндекс Форму'),
  keywords: ['ёлка', 'анкета'],
  is_source: true,
  is_target: false,
  needs_connection: false,
  triggers: [{ key: 'answer', label: L('New answer', 'Новый ответ'), kind: 'webhook', body_template: '{"name": "{{ name }}"}' }],
};

export const WEBHOOK: SchemaApp = {
  key: 'webhook',
  label: L('Incoming webhook', 'Входящий webhook'),
  category: 'generic',
  description: L('Any system that can send an HTTP request', 'Любая система, которая умеет отправлять HTTP-запрос'),
  keywords: ['http', 'api'],
  is_source: true,
  is_target: false,
  needs_connection: false,
  triggers: [{ key: 'incoming_request', label: L('Incoming request', 'Входящий запрос'), kind: 'webhook' }],
};

export const CATALOG: SchemaApp[] = [WEBHOOK, TILDA, YANDEX_FORMS, AMOCRM];
