import { Alert, Badge, Button, Card, Grid, Group, List, Skeleton, Stack, Text, Title } from '@mantine/core';
import IconInfoCircle from '@tabler/icons-react/icons/IconInfoCircle';
import IconServerBolt from '@tabler/icons-react/icons/IconServerBolt';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { PreviewResult } from '@/api/types';
import { ErrorState, errorMessage } from '@/components/ErrorState';
import { JsonView } from '@/components/JsonView';
import { useMe } from '@/features/auth/api';
import { useEntityFields } from '@/features/connections/api';
import { ApiError } from '@/lib/api-client';
import { usePreview, useSample, useSaveBundle } from '../../api';
import { MappingEditor } from './MappingEditor';
import { type SampleField, errorKeyForPath, flattenSample, localPreview, mergeSourceFields, toBundleInput } from './model';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';

export function MappingStep({ draft, update, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const fields = useEntityFields(draft.target.connection_id, draft.target.entity);
  const me = useMe();
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
  // Live, in the browser; the server check below runs the real engine on the saved mapping.
  const local = useMemo(() => localPreview(draft.mapping, sampleData ?? {}), [draft.mapping, sampleData]);

  const save = useSaveBundle();
  const preview = usePreview(ctx.bundle?.id);
  const [server, setServer] = useState<{ result: PreviewResult; mapping: typeof draft.mapping } | null>(null);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [checkError, setCheckError] = useState<string | null>(null);

  const check = async () => {
    if (!ctx.bundle) return;
    setCheckError(null);
    setServerErrors({});
    try {
      await save.mutateAsync({ id: ctx.bundle.id, body: toBundleInput(draft) });
      const result = await preview.mutateAsync({});
      setServer({ result, mapping: draft.mapping });
      const errs: Record<string, string> = {};
      for (const e of result.errors) errs[`mapping.${e.field}`] = e.message;
      setServerErrors(errs);
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.length) {
        const errs: Record<string, string> = {};
        for (const fe of e.fieldErrors) errs[errorKeyForPath(fe.field, draft)] = fe.message;
        setServerErrors(errs);
      }
      setCheckError(errorMessage(e));
    }
  };

  const fresh = server && server.mapping === draft.mapping ? server.result : null;
  const shown = fresh ? fresh.values : local;
  const rowErrors: Record<string, string | undefined> = {};
  for (const f of fields.data ?? []) rowErrors[`mapping.${f.name}`] = err(`mapping.${f.name}`) ?? serverErrors[`mapping.${f.name}`];

  if (fields.isError) return <ErrorState error={fields.error} onRetry={() => void fields.refetch()} />;

  return (
    <Grid gutter="lg">
      <Grid.Col span={{ base: 12, md: 7, lg: 8 }}>
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            {t('wizard.mappingIntro', { entity: draft.target.entity })}
          </Text>
          {!sampleData && (
            <Alert icon={<IconInfoCircle size={18} />} color={declared.length ? 'blue' : 'yellow'} data-testid="mapping-no-sample">
              {declared.length ? t('wizard.mappingDeclaredFields') : t('wizard.mappingNoSample')}
            </Alert>
          )}
          {err('mapping') && (
            <Alert color="red" role="alert">
              {err('mapping')}
            </Alert>
          )}
          {fields.isPending ? (
            <Skeleton h={300} />
          ) : (
            <MappingEditor
              fields={fields.data ?? []}
              mapping={draft.mapping}
              onChange={(mapping) => update((d) => ({ ...d, mapping }))}
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
            {t('wizard.previewHelp', { entity: draft.target.entity })}
          </Text>
          <div data-testid="mapping-preview">
            <JsonView value={shown} maxHeight={420} />
          </div>
          {fresh && fresh.errors.length + fresh.warnings.length > 0 && (
            <Alert color={fresh.errors.length ? 'red' : 'yellow'} mt="sm" p="xs" title={t('wizard.previewErrors')}>
              <List size="xs">
                {[...fresh.errors, ...fresh.warnings].map((e, i) => (
                  <List.Item key={i}>
                    <b>{e.field}</b>: {e.message}
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
              disabled={draft.mapping.length === 0 || !sampleData}
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
