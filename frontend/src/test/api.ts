import { vi } from 'vitest';

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

type Answer = { status?: number; body?: unknown };
type Handler = Answer | ((body: unknown, url: URL) => Answer);

/**
 * Replaces `fetch` with a fake api: handlers keyed by "METHOD /path" (without the query).
 * Unknown routes answer 404 in the api's error shape. Returns the calls made, in order.
 */
export function mockApi(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url);
      const method = request.method;
      const json = request.headers.get('Content-Type') === 'application/json';
      const body = json ? (JSON.parse(await request.text()) as unknown) : undefined;
      calls.push({ method, path: url.pathname + url.search, body });
      const handler = handlers[`${method} ${url.pathname}`];
      const answer: Answer = !handler
        ? { status: 404, body: { error: { code: 'not_found', message: `${method} ${url.pathname}` } } }
        : typeof handler === 'function'
          ? handler(body, url)
          : handler;
      return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status ?? 200 });
    }),
  );
  return calls;
}

/** The api's error body. */
export function apiError(status: number, code: string, message: string, details?: unknown): Answer {
  return { status, body: { error: { code, message, details } } };
}

export const ME = {
  user: { id: 'u1', email: 'anna@example.com', name: 'Anna', language: 'en', timezone: 'Europe/Moscow' },
  workspace: { id: 'w1', name: 'Acme', role: 'owner' },
  role: 'owner',
  workspaces: [
    { id: 'w1', name: 'Acme', role: 'owner' },
    { id: 'w2', name: 'Side project', role: 'viewer' },
  ],
};
