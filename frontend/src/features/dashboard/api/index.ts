import { useQuery } from '@tanstack/react-query';
import { api } from '@/lib/api-client';

export type Range = '24h' | '7d';

export function useStats(range: Range) {
  return useQuery({
    queryKey: ['stats', range],
    queryFn: () => {
      // Whole hours/days, so the buckets line up with the server's.
      const unit = range === '24h' ? 3600e3 : 86400e3;
      const since = new Date(Math.floor(Date.now() / unit) * unit - (range === '24h' ? 23 : 6) * unit).toISOString();
      return api.get('/api/v1/stats', { params: { query: { since, bucket: range === '24h' ? 'hour' : 'day' } } });
    },
    refetchInterval: 30_000,
  });
}
