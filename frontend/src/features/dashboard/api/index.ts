import { useQuery } from '@tanstack/react-query';
import type { Stats } from '@/api/types';
import { api } from '@/lib/api-client';

export type Range = '24h' | '7d';

export function useStats(range: Range) {
  return useQuery({
    queryKey: ['stats', range],
    queryFn: async () => {
      const now = Date.now();
      const from = new Date(now - (range === '24h' ? 86400e3 : 7 * 86400e3)).toISOString();
      const data = await api.get<Stats & { items?: Stats['series'] }>('/api/v1/stats', {
        from,
        bucket: range === '24h' ? 'hour' : 'day',
      });
      return { ...data, series: data.series ?? data.items ?? [] };
    },
    refetchInterval: 30_000,
  });
}
