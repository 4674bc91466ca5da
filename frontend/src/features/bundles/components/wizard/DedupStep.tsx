import { Alert, Stack } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useEntities, useEntityFields } from '@/features/connections/api';
import { useSaveBundle } from '../../api';
import { useDedupPreview } from '../../api/dedup';
import { DedupCheck } from './DedupCheck';
import { DedupEditor } from './DedupEditor';
import { validateDedup } from './dedupModel';
import { currentIndex, currentStep, toBundleInput, updateCurrent } from './model';
import { StepPicker } from './StepPicker';
import { SEARCHING, stepTitle } from './stepsModel';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';
import { captionLabel } from '@/lib/captions';

/** The duplicates of the chosen step (the steps that search: find, create, update). */
export function DedupStep({ draft, update, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const index = currentIndex(draft);
  const step = currentStep(draft);
  const prefix = `steps.${index}.`;
  const shown: Record<string, string | undefined> = {};
  for (const k of Object.keys(errors)) if (k.startsWith(`${prefix}dedup`)) shown[k.slice(prefix.length)] = err(k);

  const { connection_id, entity } = step;
  const fields = useEntityFields(connection_id, entity);
  const entities = useEntities(connection_id);
  const captions = new Map((fields.data ?? []).map((f) => [f.name, f.caption]));
  const label = (f: string) => captionLabel(captions.get(f), f);
  const entityLabel = (entities.data ?? []).find((e) => e.name === entity)?.caption || entity;

  const save = useSaveBundle();
  const preview = useDedupPreview(ctx.bundle?.id);
  // The api checks the saved policy against the sample, so what is shown is saved first.
  const run = async () => {
    await save.mutateAsync({ id: ctx.bundle!.id, body: toBundleInput(draft) });
    return preview.mutateAsync(draft.steps.length > 1 ? { step: step.key } : {});
  };

  // Keyed by the step and its policy: a result shown for another would mislead, so an edit clears it.
  const check =
    ctx.bundle && !ctx.readOnly ? (
      <DedupCheck key={`${step.key}:${JSON.stringify(step.dedup)}`} run={run} label={label} entity={entityLabel} disabled={Object.keys(validateDedup(step.dedup)).length > 0} />
    ) : undefined;

  return (
    <Stack>
      <StepPicker steps={draft.steps} current={index} onSelect={(current) => update((d) => ({ ...d, current }))} enabled={(s) => SEARCHING.has(s.action)} />
      {SEARCHING.has(step.action) ? (
        <DedupEditor
          dedup={step.dedup}
          mapping={step.mapping}
          onChange={(dedup) => update((d) => updateCurrent(d, (s) => ({ ...s, dedup })))}
          errors={shown}
          label={label}
          check={check}
          readOnly={ctx.readOnly}
        />
      ) : (
        <Alert color="gray" data-testid="dedup-not-searching">
          {t('steps.noDedup', { name: stepTitle(step, t), action: t(`steps.action.${step.action}.title`) })}
        </Alert>
      )}
    </Stack>
  );
}
