import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api } from './api-client';
import { mapServerErrors } from './form-errors';

function mockFetch(status: number, body: unknown) {
  const fn = vi.fn(async (_request: Request) => new Response(body === undefined ? null : JSON.stringify(body), { status }));
  vi.stubGlobal('fetch', fn);
  return fn;
}

function sent(fetch: ReturnType<typeof mockFetch>, call: number): Request {
  return fetch.mock.calls[call]![0];
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = 'bpmlink_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
});

describe('api client', () => {
  it('sends the CSRF cookie value on writes, not on reads, with the session cookie', async () => {
    document.cookie = 'bpmlink_csrf=tok-123';
    const fetch = mockFetch(200, { items: [] });
    await api.post('/api/v1/api-keys', { body: { name: 'ci' } });
    await api.get('/api/v1/api-keys');
    await api.delete('/api/v1/api-keys/{key_id}', { params: { path: { key_id: 'k1' } } });
    expect(sent(fetch, 0).headers.get('X-CSRF-Token')).toBe('tok-123');
    expect(sent(fetch, 1).headers.get('X-CSRF-Token')).toBeNull();
    expect(sent(fetch, 2).headers.get('X-CSRF-Token')).toBe('tok-123');
    expect(sent(fetch, 0).credentials).toBe('same-origin');
  });

  it('sends the path, query and JSON body the schema describes', async () => {
    const fetch = mockFetch(200, { items: [], next_cursor: null });
    await api.get('/api/v1/bundles/{bundle_id}/operations', {
      params: { path: { bundle_id: 'b 1' }, query: { status: ['failed', 'held'], since: undefined, limit: 50 } },
    });
    await api.post('/api/v1/api-keys', { body: { name: 'ci' } });
    const url = new URL(sent(fetch, 0).url);
    expect(url.pathname + url.search).toBe('/api/v1/bundles/b%201/operations?status=failed&status=held&limit=50');
    expect(sent(fetch, 1).headers.get('Content-Type')).toBe('application/json');
    expect(await sent(fetch, 1).json()).toEqual({ name: 'ci' });
  });

  it('turns the error shape into ApiError with field errors', async () => {
    mockFetch(422, { error: { code: 'invalid', message: 'bad', details: [{ field: 'params.domain', message: 'must be a URL' }] } });
    const err = await api.post('/api/v1/connections', { body: { app: 'bpmonline', name: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).code).toBe('invalid');
    expect((err as ApiError).fieldErrors).toEqual([{ field: 'params.domain', message: 'must be a URL' }]);
  });

  it('turns FastAPI’s bare 422 into field errors without the body prefix', async () => {
    mockFetch(422, { detail: [{ loc: ['body', 'email'], msg: 'field required' }] });
    const err = (await api.post('/api/v1/auth/password/forgot', { body: { email: '' } }).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('validation_error');
    expect(err.fieldErrors).toEqual([{ field: 'email', message: 'field required' }]);
  });

  it('a 401 without a body is an ApiError with that status', async () => {
    mockFetch(401, undefined);
    const err = (await api.get('/api/v1/auth/me').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(401);
    expect(err.code).toBe('http_401');
  });

  it('a network failure is an ApiError with status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const err = (await api.get('/api/v1/auth/me').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.code).toBe('network_error');
  });

  it('answers undefined for 204', async () => {
    mockFetch(204, undefined);
    await expect(api.delete('/api/v1/bundles/{bundle_id}', { params: { path: { bundle_id: 'b1' } } })).resolves.toBeUndefined();
  });
});

describe('mapServerErrors', () => {
  it('puts known fields on the form and keeps the rest as messages', () => {
    const e = new ApiError(422, 'invalid', 'bad', [
      { field: 'params.domain', message: 'must be a URL' },
      { field: 'body.name', message: 'required' },
      { field: 'other', message: 'nope' },
    ]);
    expect(mapServerErrors(e, ['name', 'params.domain'])).toEqual({
      fields: { 'params.domain': 'must be a URL', name: 'required' },
      rest: ['other: nope'],
    });
  });

  it('a plain error becomes one message', () => {
    expect(mapServerErrors(new ApiError(500, 'x', 'boom'), ['name'])).toEqual({ fields: {}, rest: ['boom'] });
  });

  it('a known error code gives its translated text, on the fields or as the message', () => {
    const weak = new ApiError(422, 'weak_password', 'too common', [{ field: 'password', message: 'too common' }]);
    expect(mapServerErrors(weak, ['new_password'], { password: 'new_password' }, { weak_password: 'Too easy' })).toEqual({
      fields: { new_password: 'Too easy' },
      rest: [],
    });
    const lastOwner = new ApiError(409, 'last_owner', 'The workspace must keep an owner');
    expect(mapServerErrors(lastOwner, [], {}, { last_owner: 'Keep one owner' })).toEqual({ fields: {}, rest: ['Keep one owner'] });
  });
});
