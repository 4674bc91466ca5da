import { DedupEditor } from './DedupEditor';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';

export function DedupStep({ draft, update, errors, ctx }: StepProps) {
  const err = useErrorText(errors);
  const shown: Record<string, string | undefined> = {};
  for (const k of Object.keys(errors)) if (k.startsWith('dedup')) shown[k] = err(k);
  return (
    <DedupEditor
      dedup={draft.dedup}
      mapping={draft.mapping}
      onChange={(dedup) => update((d) => ({ ...d, dedup }))}
      errors={shown}
      readOnly={ctx.readOnly}
    />
  );
}
