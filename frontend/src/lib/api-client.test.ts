import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, withQuery } from './api-client';
import { mapServerErrors } from './form-errors';

function mockFetch(status: number, body: unknown) {
  const fn = vi.fn(async () => new Response(body === undefined ? null : JSON.stringify(body), { status }));
  vi.stubGlobal('fetch', fn);
  return fn;
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = 'bpmlink_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
});

describe('api client', () => {
  it('sends the CSRF cookie value on writes, not on reads', async () => {
    document.cookie = 'bpmlink_csrf=tok-123';
    const fetch = mockFetch(200, { ok: true });
    await api.post('/api/v1/x', { a: 1 });
    await api.get('/api/v1/x');
    const [, post] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    const [, get] = fetch.mock.calls[1] as unknown as [string, RequestInit];
    expect((post.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok-123');
    expect((get.headers as Record<string, string>)['X-CSRF-Token']).toBeUndefined();
    expect(post.credentials).toBe('same-origin');
  });

  it('turns the error shape into ApiError with field errors', async () => {
    mockFetch(422, { error: { code: 'invalid', message: 'bad', details: [{ field: 'params.domain', message: 'must be a URL' }] } });
    const err = await api.post('/api/v1/connections', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).fieldErrors).toEqual([{ field: 'params.domain', message: 'must be a URL' }]);
  });

  it('answers undefined for 204', async () => {
    mockFetch(204, undefined);
    await expect(api.delete('/api/v1/x')).resolves.toBeUndefined();
  });

  it('builds query strings without empty values', () => {
    expect(withQuery('/a', { x: 1, y: undefined, z: '', s: ['a', 'b'] })).toBe('/a?x=1&s=a&s=b');
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
