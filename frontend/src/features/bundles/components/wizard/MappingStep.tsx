import { Alert, Badge, Card, Grid, Group, Loader, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconInfoCircle } from '@tabler/icons-react';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorState } from '@/components/ErrorState';
import { JsonView } from '@/components/JsonView';
import { useEntityFields } from '@/features/connections/api';
import { usePreview, useSample } from '../../api';
import { MappingEditor } from './MappingEditor';
import { flattenSample, localPreview } from './model';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';

export function MappingStep({ draft, update, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const fields = useEntityFields(draft.target.connection_id, draft.target.entity);
  const sample = useSample(ctx.bundle?.id, false);
  const sampleData = sample.data?.data ?? null;
  const sampleFields = useMemo(() => flattenSample(sampleData), [sampleData]);
  const local = useMemo(() => localPreview(draft.mapping, sampleData ?? {}), [draft.mapping, sampleData]);

  // The server's preview runs the real mapping engine; it replaces the local one when it answers.
  const preview = usePreview(ctx.bundle?.id);
  const [debounced] = useDebouncedValue(draft.mapping, 600);
  const [server, setServer] = useState<{ mapped: Record<string, unknown>; errors?: Array<{ field: string; message: string }> } | null>(null);
  useEffect(() => {
    if (!ctx.bundle?.id || !sampleData || debounced.length === 0) return;
    preview.mutate(
      { mapping: debounced, sample: sampleData },
      { onSuccess: (r) => setServer(r), onError: () => setServer(null) },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced, ctx.bundle?.id, sampleData]);

  const shown = server && debounced === draft.mapping ? server.mapped : local;
  const rowErrors: Record<string, string | undefined> = {};
  for (const f of fields.data ?? []) rowErrors[`mapping.${f.name}`] = err(`mapping.${f.name}`);
  for (const e of server?.errors ?? []) rowErrors[`mapping.${e.field}`] ??= e.message;

  if (fields.isError) return <ErrorState error={fields.error} onRetry={() => void fields.refetch()} />;

  return (
    <Grid gutter="lg">
      <Grid.Col span={{ base: 12, md: 7, lg: 8 }}>
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            {t('wizard.mappingIntro', { entity: draft.target.entity })}
          </Text>
          {!sampleData && (
            <Alert icon={<IconInfoCircle size={18} />} color="yellow">
              {t('wizard.mappingNoSample')}
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
            />
          )}
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 5, lg: 4 }}>
        <Card padding="md" style={{ position: 'sticky', top: 76 }}>
          <Group justify="space-between" mb="xs">
            <Title order={5}>{t('wizard.preview')}</Title>
            {preview.isPending ? (
              <Loader size="xs" />
            ) : (
              <Badge size="xs" variant="light" color={server ? 'teal' : 'gray'}>
                {server ? t('wizard.previewServer') : t('wizard.previewLocal')}
              </Badge>
            )}
          </Group>
          <Text size="xs" c="dimmed" mb="xs">
            {t('wizard.previewHelp', { entity: draft.target.entity })}
          </Text>
          <div data-testid="mapping-preview">
            <JsonView value={shown} maxHeight={480} />
          </div>
        </Card>
      </Grid.Col>
    </Grid>
  );
}
