import { Alert, Badge, Button, Card, Grid, Group, List, Skeleton, Stack, Text, Title } from '@mantine/core';
import IconInfoCircle from '@tabler/icons-react/icons/IconInfoCircle';
import IconServerBolt from '@tabler/icons-react/icons/IconServerBolt';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MappingRule, StepPreview } from '@/api/types';
import { ErrorState, errorMessage } from '@/components/ErrorState';
import { JsonView } from '@/components/JsonView';
import { useMe } from '@/features/auth/api';
import { ApiError } from '@/lib/api-client';
import { fieldErrorText } from '@/lib/messages';
import { usePreview, useSaveBundle } from '../../api';
import { type StepsPreviewResult, stepPreview } from '../../api/steps';
import { MappingEditor } from './MappingEditor';
import { currentIndex, currentStep, errorKeyForPath, localPreview, toBundleInput, unmappedRequired, updateCurrent } from './model';
import { StepPicker } from './StepPicker';
import { stepTitle } from './stepsModel';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';
import { ParameterAdder, useStepTargets } from './useStepTargets';
import { itemFields, useEarlierFields, useSourceFields } from './useStepFields';

export function MappingStep({ draft, update, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const index = currentIndex(draft);
  const step = currentStep(draft);
  const prefix = `steps.${index}.`;
  const fields = useStepTargets(step);
  const me = useMe();
  const { sampleFields: source, sampleData } = useSourceFields(ctx);
  const earlier = useEarlierFields(draft.steps, index);
  const declared = ctx.sourceTrigger?.fields ?? [];
  // The source's fields, then (in a for_each step) the element's, then what the earlier steps give.
  const sampleFields = useMemo(() => [...source, ...itemFields(step, sampleData, t), ...earlier], [source, step, sampleData, t, earlier]);
  // Live, in the browser; the server check below runs the real engine on the saved mapping.
  const local = useMemo(() => localPreview(step.mapping, sampleData ?? {}), [step.mapping, sampleData]);

  const save = useSaveBundle();
  const preview = usePreview(ctx.bundle?.id);
  const [server, setServer] = useState<{ result: StepPreview | null; mapping: MappingRule[] } | null>(null);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [checkError, setCheckError] = useState<string | null>(null);

  const check = async () => {
    if (!ctx.bundle) return;
    setCheckError(null);
    setServerErrors({});
    try {
      await save.mutateAsync({ id: ctx.bundle.id, body: toBundleInput(draft) });
      const result = stepPreview((await preview.mutateAsync({})) as StepsPreviewResult, step.key, draft.steps.length === 1);
      setServer({ result, mapping: step.mapping });
      const errs: Record<string, string> = {};
      for (const e of result?.errors ?? []) errs[`mapping.${e.field}`] = fieldErrorText(t, e);
      setServerErrors(errs);
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.length) {
        const errs: Record<string, string> = {};
        for (const fe of e.fieldErrors) errs[errorKeyForPath(fe.field, draft).replace(prefix, '')] = fieldErrorText(t, fe);
        setServerErrors(errs);
      }
      setCheckError(errorMessage(e));
    }
  };

  const fresh = server && server.mapping === step.mapping ? server.result : null;
  const shown = fresh ? fresh.values : local;
  const rowErrors: Record<string, string | undefined> = {};
  for (const f of fields.data ?? []) rowErrors[`mapping.${f.name}`] = err(`${prefix}mapping.${f.name}`) ?? serverErrors[`mapping.${f.name}`];
  const entity = step.entity || step.process?.schema_name || stepTitle(step, t);
  // Live from the entity's fields; the api keeps the same list on the saved bundle (`missing`) and refuses to start it.
  const missing = useMemo(() => unmappedRequired(step, fields.data ?? []), [step, fields.data]);

  if (fields.isError) return <ErrorState error={fields.error} onRetry={() => void fields.refetch()} />;

  return (
    <Grid gutter="lg">
      <Grid.Col span={{ base: 12, md: 7, lg: 8 }}>
        <Stack gap="sm">
          <StepPicker steps={draft.steps} current={index} onSelect={(current) => update((d) => ({ ...d, current }))} />
          <Text size="sm" c="dimmed">
            {t(step.action === 'run_process' ? 'steps.process.mappingIntro' : 'wizard.mappingIntro', { entity })}
          </Text>
          {step.action === 'run_process' && !ctx.readOnly && (
            <ParameterAdder
              taken={step.mapping.map((r) => r.target)}
              onAdd={(target) => update((d) => updateCurrent(d, (s) => ({ ...s, mapping: [...s.mapping, { target, source: '' }] })))}
            />
          )}
          {!sampleData && (
            <Alert icon={<IconInfoCircle size={18} />} color={declared.length ? 'blue' : 'yellow'} data-testid="mapping-no-sample">
              {declared.length ? t('wizard.mappingDeclaredFields') : t('wizard.mappingNoSample')}
            </Alert>
          )}
          {missing.length > 0 && (
            <Alert color="yellow" icon={<IconInfoCircle size={18} />} title={t('wizard.missingTitle')} data-testid="mapping-missing">
              {t('wizard.missingHelp', { fields: missing.join(', '), count: missing.length })}
            </Alert>
          )}
          {err(`${prefix}mapping`) && (
            <Alert color="red" role="alert">
              {err(`${prefix}mapping`)}
            </Alert>
          )}
          {fields.isPending ? (
            <Skeleton h={300} />
          ) : (
            <MappingEditor
              fields={fields.data ?? []}
              mapping={step.mapping}
              onChange={(mapping) => update((d) => updateCurrent(d, (s) => ({ ...s, mapping })))}
              sampleFields={sampleFields}
              preview={shown}
              errors={rowErrors}
              readOnly={ctx.readOnly}
              profileTimeZone={me.data?.user.timezone}
            />
          )}
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 5, lg: 4 }}>
        <Card padding="md" style={{ position: 'sticky', top: 76 }}>
          <Group justify="space-between" mb="xs">
            <Title order={5}>{t('wizard.preview')}</Title>
            <Badge size="xs" variant="light" color={fresh ? 'teal' : 'gray'}>
              {fresh ? t('wizard.previewServer') : t('wizard.previewLocal')}
            </Badge>
          </Group>
          <Text size="xs" c="dimmed" mb="xs">
            {t('wizard.previewHelp', { entity })}
          </Text>
          <div data-testid="mapping-preview">
            <JsonView value={shown} maxHeight={420} />
          </div>
          {fresh && fresh.errors.length + fresh.warnings.length > 0 && (
            <Alert color={fresh.errors.length ? 'red' : 'yellow'} mt="sm" p="xs" title={t('wizard.previewErrors')}>
              <List size="xs">
                {[...fresh.errors, ...fresh.warnings].map((e, i) => (
                  <List.Item key={i}>
                    <b>{e.field}</b>: {fieldErrorText(t, e)}
                  </List.Item>
                ))}
              </List>
            </Alert>
          )}
          {checkError && (
            <Alert color="red" mt="sm" p="xs" style={{ whiteSpace: 'pre-line' }}>
              {checkError}
            </Alert>
          )}
          {!ctx.readOnly && ctx.bundle && (
            <Button
              mt="sm"
              fullWidth
              variant="light"
              leftSection={<IconServerBolt size={16} />}
              loading={save.isPending || preview.isPending}
              disabled={step.mapping.length === 0 || !sampleData}
              onClick={() => void check()}
              data-testid="check-preview"
            >
              {t('wizard.checkOnServer')}
            </Button>
          )}
        </Card>
      </Grid.Col>
    </Grid>
  );
}
