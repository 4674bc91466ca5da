import { Alert, Anchor, Grid, Select, Stack, Text } from '@mantine/core';
import IconInfoCircle from '@tabler/icons-react/icons/IconInfoCircle';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { currentIndex } from './model';
import { StepEditor } from './StepEditor';
import { StepList } from './StepList';
import { StepTemplates } from './StepTemplates';
import { withConnection } from './templates';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';
import { arrayPaths, useEarlierFields, useSourceFields } from './useStepFields';

/** The wizard's «Шаги»: the bundle's steps in order, and the chosen step's settings. */
export function TargetStep({ draft, update, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const connections = ctx.connections.filter((c) => c.app === 'bpmonline').map((c) => ({ value: c.id, label: c.name }));
  const index = currentIndex(draft);
  const { sampleFields, sampleData } = useSourceFields(ctx);
  const earlier = useEarlierFields(draft.steps, index);
  const fields = useMemo(() => [...sampleFields, ...earlier], [sampleFields, earlier]);
  const arrays = useMemo(() => arrayPaths(sampleData), [sampleData]);
  const invalid = new Set(Object.keys(errors).flatMap((k) => (/^steps\.(\d+)\./.exec(k) ? [Number(/^steps\.(\d+)\./.exec(k)![1])] : [])));
  const first = draft.steps[0];
  // The templates are offered while the bundle has only its first, untouched step.
  const fresh = draft.steps.length === 1 && !!first && !first.entity && first.mapping.length === 0;
  const shared = new Set(draft.steps.map((s) => s.connection_id));

  return (
    <Stack>
      {connections.length === 0 && (
        <Alert icon={<IconInfoCircle size={18} />} color="blue">
          {t('wizard.noTargetConnections')}{' '}
          <Anchor component={Link} to="/connections/new?app=bpmonline">
            {t('connections.add')}
          </Anchor>
        </Alert>
      )}
      {err('steps') && (
        <Alert color="red" role="alert">
          {err('steps')}
        </Alert>
      )}
      {fresh && !ctx.readOnly && <StepTemplates onPick={(steps) => update((d) => ({ ...d, steps: withConnection(steps, first.connection_id), current: 0 }))} />}
      {draft.steps.length > 1 && (
        <Select
          label={t('steps.connectionForAll')}
          description={t('steps.connectionForAllHelp')}
          placeholder={shared.size > 1 ? t('steps.connectionsDiffer') : t('wizard.pickConnection')}
          disabled={ctx.readOnly}
          data={connections}
          value={shared.size === 1 ? [...shared][0] || null : null}
          onChange={(v) => v && update((d) => ({ ...d, steps: withConnection(d.steps, v) }))}
          data-testid="connection-for-all"
          maw={420}
        />
      )}
      <Grid gutter="lg">
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Text size="sm" fw={600} mb={6}>
            {t('steps.title')}
          </Text>
          <StepList
            steps={draft.steps}
            current={index}
            invalid={invalid}
            readOnly={ctx.readOnly}
            onSelect={(current) => update((d) => ({ ...d, current }))}
            onChange={(steps, current) => update((d) => ({ ...d, steps, current }))}
          />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <StepEditor
            steps={draft.steps}
            index={index}
            onChange={(steps) => update((d) => ({ ...d, steps }))}
            connections={connections}
            fields={fields}
            arrays={arrays}
            errors={err}
            errorKeys={Object.keys(errors)}
            readOnly={ctx.readOnly}
          />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
