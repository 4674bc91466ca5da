import { useQueries } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { entityFieldsQuery } from '@/features/connections/api';
import { useSample } from '../../api';
import { type SampleField, flattenSample, getPath, mergeSourceFields } from './model';
import { type DraftStep, earlierStepFields, hasRecord } from './stepsModel';
import type { WizardContext } from './types';

/** The source's fields (the trigger's declared ones and the sample's), and the sample itself. */
export function useSourceFields(ctx: WizardContext): { sampleFields: SampleField[]; sampleData: unknown } {
  const sample = useSample(ctx.bundle?.id, false);
  const sampleData = sample.data?.sample ?? null;
  const declared = useMemo(() => ctx.sourceTrigger?.fields ?? [], [ctx.sourceTrigger]);
  const sampleFields = useMemo<SampleField[]>(
    () =>
      mergeSourceFields(
        declared,
        sample.data?.fields?.length ? sample.data.fields.map((f) => ({ path: String(f.path), value: f.value })) : flattenSample(sampleData),
      ),
    [declared, sample.data, sampleData],
  );
  return { sampleFields, sampleData };
}

/** What step `index` may read of the earlier steps: their Ids and their entities' columns (from the instance). */
export function useEarlierFields(steps: DraftStep[], index: number): SampleField[] {
  const { t } = useTranslation();
  const earlier = steps.slice(0, index).filter(hasRecord);
  const results = useQueries({ queries: earlier.map((s) => entityFieldsQuery(s.connection_id, s.entity)) });
  const columns: Record<string, Array<{ name: string; caption?: string | null }>> = {};
  earlier.forEach((s, i) => {
    columns[s.key] = results[i]?.data ?? [];
  });
  return earlierStepFields(steps, index, columns, t).map((f) => ({ path: f.path, label: f.label, value: undefined }));
}

/** In a for_each step: the element's fields (`item.sku`, from the sample's first element) and `index`. */
export function itemFields(step: DraftStep, sampleData: unknown, t: (k: string) => string): SampleField[] {
  if (!step.for_each) return [];
  const list = getPath(sampleData, step.for_each);
  const first = Array.isArray(list) ? list[0] : list;
  const fields = first !== undefined && first !== null && typeof first === 'object' ? flattenSample(first, 'item') : [{ path: 'item', value: first }];
  return [...fields.map((f) => ({ ...f, label: `${t('steps.field.item')} → ${f.path.slice('item.'.length) || f.path}` })), { path: 'index', value: 0, label: t('steps.field.index') }];
}

/** The sample's arrays: what a for_each may run over. */
export function arrayPaths(sampleData: unknown, prefix = '', depth = 0, out: string[] = []): string[] {
  if (sampleData === null || typeof sampleData !== 'object' || depth > 4) return out;
  if (Array.isArray(sampleData)) {
    if (prefix) out.push(prefix);
    return out;
  }
  for (const [k, v] of Object.entries(sampleData)) arrayPaths(v, prefix ? `${prefix}.${k}` : k, depth + 1, out);
  return out;
}
