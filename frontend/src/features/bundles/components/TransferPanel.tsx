import { Alert, Button, FileInput, Group, Progress, Stack, Text } from '@mantine/core';
import IconDatabaseImport from '@tabler/icons-react/icons/IconDatabaseImport';
import IconFileUpload from '@tabler/icons-react/icons/IconFileUpload';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { BackfillProgress, Bundle, ImportProgress } from '@/api/types';
import { errorMessage } from '@/components/ErrorState';
import { useBackfill, useBundle, useImport, useUploadImport } from '../api';

/** Long work with a progress bar: a CSV import, or the transfer of existing source data. */
export function TransferPanel({ bundle, canWrite }: { bundle: Bundle; canWrite: boolean }) {
  return bundle.source.app === 'csv_import' ? <ImportPanel bundle={bundle} canWrite={canWrite} /> : <BackfillPanel bundle={bundle} canWrite={canWrite} />;
}

export function ProgressLine({ found, processed, stored, failed, status }: { found: number; processed?: number | null; stored?: number; failed?: number | null; status: string }) {
  const { t } = useTranslation();
  const done = processed ?? stored ?? 0;
  const pct = found > 0 ? Math.min(100, Math.round((done / found) * 100)) : status === 'done' ? 100 : 0;
  const running = status === 'queued' || status === 'running';
  return (
    <Stack gap={4}>
      <Progress value={pct} animated={running} striped={running} color={status === 'failed' ? 'red' : status === 'done' ? 'teal' : 'indigo'} aria-label={t('transfer.progress')} />
      <Text size="xs" c="dimmed">
        {t(`transfer.status.${status}`, { defaultValue: status })} · {t('transfer.counts', { done, found, failed: failed ?? 0 })}
      </Text>
    </Stack>
  );
}

function BackfillPanel({ bundle, canWrite }: { bundle: Bundle; canWrite: boolean }) {
  const { t } = useTranslation();
  const start = useBackfill(bundle.id);
  const running = (b?: BackfillProgress | null) => !!b && (b.status === 'queued' || b.status === 'running');
  const live = useBundle(bundle.id, (b) => (running(b?.polling?.backfill) ? 1500 : false));
  const progress = live.data?.polling?.backfill ?? bundle.polling?.backfill ?? null;
  return (
    <Stack gap="xs">
      <Text size="sm">{t('transfer.backfillText')}</Text>
      {progress && <ProgressLine {...progress} />}
      {progress?.error && <Alert color="red">{progress.error}</Alert>}
      {start.isError && <Alert color="red">{errorMessage(start.error)}</Alert>}
      {canWrite && (
        <Group>
          <Button leftSection={<IconDatabaseImport size={16} />} loading={start.isPending} disabled={running(progress)} onClick={() => start.mutate(null)}>
            {t('transfer.backfillStart')}
          </Button>
        </Group>
      )}
    </Stack>
  );
}

function ImportPanel({ bundle, canWrite }: { bundle: Bundle; canWrite: boolean }) {
  const { t } = useTranslation();
  const [file, setFile] = useState<File | null>(null);
  const [importId, setImportId] = useState<string | null>(null);
  const upload = useUploadImport(bundle.id);
  const progress = useImport(importId);
  const p: ImportProgress | undefined = progress.data;
  return (
    <Stack gap="xs">
      <Text size="sm">{t('transfer.importText')}</Text>
      {canWrite && (
        <Group align="flex-end">
          <FileInput
            label={t('transfer.file')}
            placeholder={t('transfer.pickFile')}
            accept=".csv,.xlsx,text/csv"
            value={file}
            onChange={setFile}
            w={320}
            clearable
          />
          <Button
            leftSection={<IconFileUpload size={16} />}
            disabled={!file}
            loading={upload.isPending}
            onClick={() => file && upload.mutate(file, { onSuccess: (r) => setImportId(r.id) })}
          >
            {t('transfer.upload')}
          </Button>
        </Group>
      )}
      {upload.isError && <Alert color="red">{errorMessage(upload.error)}</Alert>}
      {p && <ProgressLine {...p} />}
      {p?.error && <Alert color="red">{p.error}</Alert>}
    </Stack>
  );
}
