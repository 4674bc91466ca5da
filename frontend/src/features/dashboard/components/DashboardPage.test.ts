import { describe, expect, it } from 'vitest';
import type { Bundle } from '@/api/types';
import { chartData, failingFirst } from './DashboardPage';

describe('dashboard', () => {
  it('charts 24 hourly rows, summing statuses over bundles, empty hours included', () => {
    const now = Date.parse('2026-11-27T21:30:00Z');
    const rows = chartData(
      [
        { bucket: '2026-11-27T21:00:00Z', bundle_id: 'a', status: 'created', count: 2 },
        { bucket: '2026-11-27T21:00:00Z', bundle_id: 'b', status: 'created', count: 3 },
        { bucket: '2026-11-27T20:00:00Z', bundle_id: 'a', status: 'failed', count: 1 },
        { bucket: '2026-11-27T21:00:00Z', bundle_id: 'a', status: 'test', count: 1 },
      ],
      '24h',
      now,
    );
    expect(rows).toHaveLength(24);
    expect(rows[23]).toMatchObject({ created: 5, failed: 0, test: 1 });
    expect(rows[22]).toMatchObject({ created: 0, failed: 1 });
    expect(rows[0]).toMatchObject({ created: 0, updated: 0 });
  });

  it('lists failing bundles first', () => {
    const b = (id: string, status: Bundle['status'], failed: number, created: number) =>
      ({ id, status, counts: { failed, created } }) as unknown as Bundle;
    expect(failingFirst([b('ok', 'waiting', 0, 9), b('fails', 'waiting', 2, 1), b('stopped', 'error', 0, 0)]).map((x) => x.id)).toEqual([
      'stopped',
      'fails',
      'ok',
    ]);
  });
});
