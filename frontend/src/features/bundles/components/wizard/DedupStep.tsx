import { useEntities, useEntityFields } from '@/features/connections/api';
import { useSaveBundle } from '../../api';
import { useDedupPreview } from '../../api/dedup';
import { DedupCheck } from './DedupCheck';
import { DedupEditor } from './DedupEditor';
import { validateDedup } from './dedupModel';
import { toBundleInput } from './model';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';

export function DedupStep({ draft, update, errors, ctx }: StepProps) {
  const err = useErrorText(errors);
  const shown: Record<string, string | undefined> = {};
  for (const k of Object.keys(errors)) if (k.startsWith('dedup')) shown[k] = err(k);

  const { connection_id, entity } = draft.target;
  const fields = useEntityFields(connection_id, entity);
  const entities = useEntities(connection_id);
  const captions = new Map((fields.data ?? []).map((f) => [f.name, f.label]));
  const label = (f: string) => captions.get(f) || f;
  const entityLabel = (entities.data ?? []).find((e) => e.name === entity)?.label || entity;

  const save = useSaveBundle();
  const preview = useDedupPreview(ctx.bundle?.id);
  // The api checks the saved policy against the sample, so what is shown is saved first.
  const run = async () => {
    await save.mutateAsync({ id: ctx.bundle!.id, body: toBundleInput(draft) });
    return preview.mutateAsync({});
  };

  // Keyed by the policy: a result shown for another policy would mislead, so an edit clears it.
  const check =
    ctx.bundle && !ctx.readOnly ? (
      <DedupCheck key={JSON.stringify(draft.dedup)} run={run} label={label} entity={entityLabel} disabled={Object.keys(validateDedup(draft.dedup)).length > 0} />
    ) : undefined;

  return (
    <DedupEditor
      dedup={draft.dedup}
      mapping={draft.mapping}
      onChange={(dedup) => update((d) => ({ ...d, dedup }))}
      errors={shown}
      label={label}
      check={check}
      readOnly={ctx.readOnly}
    />
  );
}
