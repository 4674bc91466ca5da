/**
 * The one HTTP client of the SPA, typed by the api's generated OpenAPI `paths`
 * (`src/api/schema.d.ts`): a wrong path, method, path parameter, query or body fails `tsc`.
 *
 *   const bundle = await api.get('/api/v1/bundles/{bundle_id}', { params: { path: { bundle_id: id } } });
 *
 * Same-origin `/api/v1/...` with the session cookie, `X-CSRF-Token` on writes, and every
 * failure thrown as `ApiError`: the API's one error shape `{"error": {code, message, details}}`,
 * FastAPI's bare 422 `{"detail": [...]}`, another status, or the network (status 0).
 * Each method answers the response's data (`undefined` for 204).
 */
import createClient, { type FetchResponse, type MaybeOptionalInit, type Middleware } from 'openapi-fetch';
import type { HttpMethod, PathsWithMethod, RequiredKeysOf } from 'openapi-typescript-helpers';
import type { paths } from '@/api/schema';

export interface FieldError {
  field: string;
  message: string;
  /** A stable code with params for the user's language (`step_ref_forward`), when the api gives one. */
  code?: string | null;
  params?: Record<string, unknown>;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Validation details as a list of `{field, message}` (empty when there are none). */
  get fieldErrors(): FieldError[] {
    if (!Array.isArray(this.details)) return [];
    return this.details.filter(
      (d): d is FieldError =>
        typeof d === 'object' && d !== null && typeof (d as FieldError).field === 'string',
    );
  }
}

export const CSRF_COOKIE = 'bpmlink_csrf';

export function readCookie(name: string): string | undefined {
  const prefix = `${name}=`;
  for (const part of document.cookie.split(';')) {
    const c = part.trim();
    if (c.startsWith(prefix)) return decodeURIComponent(c.slice(prefix.length));
  }
  return undefined;
}

/** A failed answer as `ApiError`; `body` is the parsed JSON (or the text, or undefined when empty). */
function toApiError(res: Response, body: unknown): ApiError {
  const err = (body as Partial<ErrorBody> | undefined)?.error;
  if (err && typeof err.code === 'string') {
    return new ApiError(res.status, err.code, err.message ?? res.statusText, err.details);
  }
  // FastAPI's default 422 shape, in case a route is not wrapped by the error handler.
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (Array.isArray(detail)) {
    const details = detail.map((d: { loc?: unknown[]; msg?: string }) => ({
      field: (d.loc ?? []).filter((p) => p !== 'body').join('.'),
      message: d.msg ?? '',
    }));
    return new ApiError(res.status, 'validation_error', res.statusText, details);
  }
  return new ApiError(res.status, `http_${res.status}`, typeof detail === 'string' ? detail : res.statusText);
}

const session: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const csrf = readCookie(CSRF_COOKIE);
      if (csrf) request.headers.set('X-CSRF-Token', csrf);
    }
    return request;
  },
  onError({ error }) {
    return new ApiError(0, 'network_error', error instanceof Error ? error.message : String(error));
  },
};

const client = createClient<paths>({
  // Absolute, because a Request needs a full URL outside the browser (the unit tests); the same origin in it.
  baseUrl: globalThis.location?.origin ?? '',
  credentials: 'same-origin',
  headers: { Accept: 'application/json' },
  // Looked up on each call, so a test's stubbed fetch is the one used.
  fetch: (request) => globalThis.fetch(request),
});
client.use(session);

type Answer = { data?: unknown; error?: unknown; response: Response };
/** The success branch's data of an openapi-fetch answer. */
type Data<R> = R extends { data: infer D; error?: never } ? D : never;

// The init is required exactly when the operation has a required parameter or body (as in openapi-fetch).
type Init<I> = RequiredKeysOf<I> extends never ? [I?] : [I];
type Call<M extends HttpMethod> = <P extends PathsWithMethod<paths, M>, I extends MaybeOptionalInit<paths[P], M>>(
  path: P,
  ...init: Init<I>
) => Promise<paths[P][M] extends infer O extends Record<string, unknown> ? Data<FetchResponse<O, I, 'application/json'>> : never>;

function call<M extends HttpMethod>(method: M): Call<M> {
  const send = async (path: string, init?: object) => {
    const { data, error, response } = (await client.request(method, path as never, init as never)) as Answer;
    if (!response.ok) throw toApiError(response, error);
    return data;
  };
  return send as unknown as Call<M>;
}

export const api = {
  get: call('get'),
  post: call('post'),
  put: call('put'),
  patch: call('patch'),
  delete: call('delete'),
};

export function isApiError(e: unknown, status?: number): e is ApiError {
  return e instanceof ApiError && (status === undefined || e.status === status);
}
