/**
 * Until the backend's `dedup` branch (issue #17) is merged, the api takes only round 1's policy
 * (`match_fields`, extra keys refused) and has no `dedup-preview` route. The SPA already sends
 * round 2's. This bridge lets the specs run against either backend:
 *
 * - it asks the api's OpenAPI whether `DedupPolicy` has `match` and the preview route exists;
 * - it records every bundle body the SPA sends (`sent`), so a spec asserts exactly what it sent;
 * - only when the api does not know `match`, it forwards the body with the policy in round 1's shape
 *   (the first group's fields), so the rest of the flow still runs on the real stack;
 * - only when the route is missing, it answers `dedup-preview` with `standInPreview` (marked as such).
 *
 * With the backend merged it changes nothing: bodies go through untouched and the preview is real.
 */
import type { Page, Route } from '@playwright/test';

export interface DedupBridge {
  /** The api stores round 2's policy (no rewriting happens). */
  acceptsMatch: boolean;
  /** The api has `POST /bundles/{id}/dedup-preview` (no stand-in answer). */
  hasPreview: boolean;
  /** The bundle bodies the SPA sent (POST/PUT), as it sent them. */
  sent: Array<{ method: string; body: { dedup?: Record<string, unknown> } & Record<string, unknown> }>;
}

type Schemas = Record<string, { properties?: Record<string, unknown> }>;

export async function bridgeDedup(page: Page, standInPreview?: Record<string, unknown>): Promise<DedupBridge> {
  const spec = (await (await page.request.get('/api/openapi.json')).json()) as { paths: Record<string, unknown>; components: { schemas: Schemas } };
  const bridge: DedupBridge = {
    acceptsMatch: Object.entries(spec.components.schemas).some(([name, s]) => name.startsWith('DedupPolicy') && !!s.properties?.match),
    hasPreview: Object.keys(spec.paths).some((p) => p.endsWith('/dedup-preview')),
    sent: [],
  };

  const bundleBody = async (route: Route) => {
    const request = route.request();
    if (request.method() !== 'POST' && request.method() !== 'PUT') return route.continue();
    const body = request.postDataJSON() as DedupBridge['sent'][number]['body'];
    bridge.sent.push({ method: request.method(), body });
    const dedup = body.dedup as { mode: string; match?: Array<{ fields: string[] }>; update_rules?: unknown } | undefined;
    if (bridge.acceptsMatch || !dedup) return route.continue();
    const roundOne = { mode: dedup.mode, match_fields: dedup.match?.[0]?.fields ?? [], update_rules: dedup.update_rules ?? {} };
    return route.continue({ postData: JSON.stringify({ ...body, dedup: roundOne }) });
  };
  await page.route(/\/api\/v1\/bundles(\/[0-9a-f-]{36})?$/, bundleBody);

  if (!bridge.hasPreview && standInPreview) {
    await page.route(/\/api\/v1\/bundles\/[0-9a-f-]{36}\/dedup-preview$/, (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(standInPreview) }),
    );
  }
  return bridge;
}
