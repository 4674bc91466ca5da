import { describe, expect, it } from 'vitest';
import { initialValues, toInput } from './ConnectionFormPage';

describe('connection form body', () => {
  it('forms auth: username in params, password in secrets, no OAuth fields', () => {
    const v = initialValues('bpmonline');
    v.name = ' Main CRM ';
    v.params = { ...v.params, domain: 'https://crm.example.com/', username: 'Supervisor', client_id: 'x' };
    v.secrets = { password: 'pw', client_secret: 'zzz' };
    expect(toInput('bpmonline', v)).toEqual({
      app: 'bpmonline',
      name: 'Main CRM',
      params: { domain: 'https://crm.example.com', auth: 'forms', username: 'Supervisor', path_prefix: '/0', odata_version: 4 },
      secrets: { password: 'pw' },
    });
  });

  it('editing keeps stored secrets by leaving them out', () => {
    const v = initialValues('bpmonline', {
      id: '1',
      app: 'bpmonline',
      name: 'CRM',
      params: { domain: 'https://a', auth: 'oauth', client_id: 'cid', odata_version: 3, path_prefix: '' },
      secrets_set: ['client_secret'],
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    });
    const body = toInput('bpmonline', v);
    expect(body.secrets).toBeUndefined();
    expect(body.params).toEqual({ domain: 'https://a', auth: 'oauth', client_id: 'cid', path_prefix: '', odata_version: 3 });
  });
});
