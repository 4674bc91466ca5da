import { Autocomplete, Divider, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { STEP_ACTIONS, type StepAction } from '@/api/types';
import { useEntities } from '@/features/connections/api';
import { ActivityOptionsEditor } from './ActivityOptionsEditor';
import { ConditionEditor } from './ConditionEditor';
import type { SampleField } from './model';
import { type DraftStep, hasRecord, renameStep, setEntity, stepTitle, withActionParts } from './stepsModel';
import { captionFilter, captionLabel } from '@/lib/captions';

export interface StepEditorProps {
  steps: DraftStep[];
  index: number;
  onChange: (steps: DraftStep[]) => void;
  connections: Array<{ value: string; label: string }>;
  /** Fields the condition and for_each may read: the source's and the earlier steps'. */
  fields: SampleField[];
  /** The sample's arrays (for_each candidates). */
  arrays: string[];
  /** The message at a path (`steps.1.entity`); `keys`: every path that has one (the api's may be deeper: `steps.1.file.attach_to`). */
  errors: (path: string) => string | undefined;
  errorKeys: string[];
  readOnly?: boolean;
}

/** One step's settings: name and key, action, connection and entity, the action's own options, condition, for_each. */
export function StepEditor({ steps, index, onChange, connections, fields, arrays, errors, errorKeys, readOnly }: StepEditorProps) {
  const { t } = useTranslation();
  const step = steps[index]!;
  const entities = useEntities(step.connection_id || null);
  const put = (patch: Partial<DraftStep>) => onChange(steps.map((s, j) => (j === index ? { ...s, ...patch } : s)));
  // A part's own message, else the first of a path inside it (the api names the exact field).
  const err = (part: string) => {
    const path = `steps.${index}.${part}`;
    const inner = errorKeys.find((k) => k.startsWith(`${path}.`));
    return errors(path) ?? (inner ? errors(inner) : undefined);
  };
  const contacts = steps
    .slice(0, index)
    .filter((s) => s.entity === 'Contact')
    .map((s) => ({ value: `{{ steps.${s.key}.Id }}`, label: stepTitle(s, t) }));
  const earlierWithRecord = steps.slice(0, index).filter(hasRecord);

  return (
    <Stack gap="sm" data-testid="step-editor">
      <Title order={5}>{t('steps.editing', { n: index + 1, name: stepTitle(step, t) })}</Title>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput
          label={t('steps.name')}
          placeholder={step.entity || t(`steps.action.${step.action}.title`)}
          value={step.name}
          disabled={readOnly}
          onChange={(e) => onChange(renameStep(steps, index, e.currentTarget.value))}
          data-testid="step-name"
        />
        <TextInput
          label={t('steps.key')}
          description={t('steps.keyHelp', { key: step.key })}
          value={step.key}
          disabled={readOnly}
          onChange={(e) => put({ key: e.currentTarget.value.trim() })}
          error={err('key') ?? err('refs')}
          data-testid="step-key"
        />
      </SimpleGrid>
      <Select
        label={t('wizard.action')}
        description={t(`steps.action.${step.action}.help`)}
        required
        disabled={readOnly}
        allowDeselect={false}
        data={STEP_ACTIONS.map((a) => ({ value: a, label: t(`steps.action.${a}.title`) }))}
        value={step.action}
        onChange={(v) => put(withActionParts({ ...step, action: (v ?? 'create_record') as StepAction }))}
        data-testid="step-action"
      />
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Select
          label={t('wizard.targetConnection')}
          required
          disabled={readOnly}
          placeholder={t('wizard.pickConnection')}
          data={connections}
          value={step.connection_id || null}
          onChange={(v) => put({ connection_id: v ?? '', ...(v === step.connection_id ? {} : { mapping: [] }) })}
          error={err('connection_id')}
          data-testid="target-connection"
        />
        {step.action !== 'run_process' && (
          <Select
            label={step.action === 'attach_file' ? t('steps.file.entity') : t('wizard.entity')}
            description={step.action === 'attach_file' ? t('steps.file.entityHelp') : t('wizard.entityHelp')}
            required={step.action !== 'attach_file'}
            searchable
            filter={captionFilter}
            disabled={readOnly || !step.connection_id}
            placeholder={entities.isFetching ? t('common.loading') : t('wizard.pickEntity')}
            nothingFoundMessage={t('common.nothingFound')}
            data={(entities.data ?? []).map((e) => ({ value: e.name, label: captionLabel(e.caption, e.name) }))}
            value={step.entity || null}
            onChange={(v) => onChange(setEntity(steps, index, v ?? ''))}
            error={err('entity') ?? (entities.isError ? entities.error.message : undefined)}
            data-testid="target-entity"
          />
        )}
      </SimpleGrid>

      {step.action === 'find_record' && (
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            {t('steps.notFound.label')}
          </Text>
          <SegmentedControl
            disabled={readOnly}
            value={step.not_found}
            onChange={(v) => put({ not_found: v as DraftStep['not_found'] })}
            data={[
              { value: 'stop', label: t('steps.notFound.stop') },
              { value: 'continue', label: t('steps.notFound.continue') },
            ]}
            aria-label={t('steps.notFound.label')}
            w="fit-content"
            data-testid="not-found"
          />
          {err('dedup') && (
            <Text size="xs" c="red">
              {err('dedup')}
            </Text>
          )}
        </Stack>
      )}
      {step.action === 'create_activity' && step.activity && (
        <ActivityOptionsEditor value={step.activity} onChange={(activity) => put({ activity })} contacts={contacts} connectionId={step.connection_id || null} readOnly={readOnly} />
      )}
      {err('activity') && (
        <Text size="xs" c="red" role="alert">
          {err('activity')}
        </Text>
      )}
      {step.action === 'run_process' && step.process && (
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label={t('steps.process.schema')}
            description={t('steps.process.schemaHelp')}
            required
            value={step.process.schema_name}
            disabled={readOnly}
            onChange={(e) => put({ process: { ...step.process!, schema_name: e.currentTarget.value.trim() } })}
            error={err('process')}
            data-testid="process-schema"
          />
          <TextInput
            label={t('steps.process.result')}
            description={t('steps.process.resultHelp', { key: step.key })}
            value={step.process.result_parameter ?? ''}
            disabled={readOnly}
            onChange={(e) => put({ process: { ...step.process!, result_parameter: e.currentTarget.value.trim() || null } })}
          />
        </SimpleGrid>
      )}
      {step.action === 'attach_file' && step.file && (
        <Select
          label={t('steps.file.attachTo')}
          description={t('steps.file.attachToHelp')}
          required
          disabled={readOnly}
          data={earlierWithRecord.map((s) => ({ value: s.key, label: stepTitle(s, t) }))}
          value={step.file.attach_to || null}
          onChange={(v) => put({ file: { ...step.file!, attach_to: v ?? '' } })}
          error={err('file')}
          nothingFoundMessage={t('steps.file.noEarlier')}
          data-testid="attach-to"
        />
      )}

      <Divider label={t('steps.condition.title')} labelPosition="left" mt="xs" />
      <ConditionEditor condition={step.condition} onChange={(condition) => put({ condition })} fields={fields} readOnly={readOnly} />
      {err('condition') && (
        <Text size="xs" c="red" role="alert">
          {err('condition')}
        </Text>
      )}

      <Divider label={t('steps.forEach.title')} labelPosition="left" mt="xs" />
      <Autocomplete
        label={t('steps.forEach.label')}
        description={t('steps.forEach.help')}
        placeholder={t('steps.forEach.placeholder')}
        data={arrays}
        value={step.for_each ?? ''}
        disabled={readOnly}
        onChange={(v) => put({ for_each: v.trim() || null })}
        error={err('for_each')}
        data-testid="for-each"
      />
    </Stack>
  );
}
