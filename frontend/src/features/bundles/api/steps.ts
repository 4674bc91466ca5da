/**
 * The bundle-steps parts of the api (issue 16) the schema does not type yet: the preview's per-step
 * results, beside round 1's top-level fields.
 */
import type { PreviewResult, StepPreview } from '@/api/types';

/** `POST /bundles/{id}/preview` with bundle steps: each step's values, errors and stand-ins. */
export type StepsPreviewResult = PreviewResult & { steps?: StepPreview[] };

/** The preview of the step `key`; a round-1 answer (no `steps`) is the preview of the one step. */
export function stepPreview(result: StepsPreviewResult, key: string, only: boolean): StepPreview | null {
  const found = result.steps?.find((s) => s.key === key);
  if (found) return found;
  if (result.steps?.length || !only) return null;
  return {
    key,
    name: '',
    entity: null,
    action: 'create_record',
    runs: result.passed_filter,
    condition_reason: result.filter_reason,
    values: result.values,
    errors: result.errors,
    warnings: result.warnings,
  };
}
