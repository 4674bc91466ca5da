import { Alert, Group, List, Stack, Table, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { StepPreview } from '@/api/types';
import { fieldErrorText, messageText } from '@/lib/messages';

/** A stand-in's words: `steps.contact.Id` → «будет Id шага «Контакт»». */
function standInText(path: string, names: Record<string, string>, t: (k: string, o?: Record<string, unknown>) => string): string {
  const [, key = '', column = 'Id'] = path.split('.');
  return t('steps.preview.standIn', { column, name: names[key] || key });
}

/** One step's server preview: whether it runs, the values it would send (earlier steps' results as stand-ins), its problems. */
export function StepPreviewView({ preview, names }: { preview: StepPreview; names: Record<string, string> }) {
  const { t } = useTranslation();
  const standIns = new Map(Object.entries(preview.stand_ins ?? {}).map(([path, guid]) => [guid, path]));
  const shown = (v: unknown) => {
    const path = typeof v === 'string' ? standIns.get(v) : undefined;
    if (path) return <i data-testid="stand-in">{standInText(path, names, t)}</i>;
    return v === undefined || v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
  };
  if (!preview.runs) {
    const reason = typeof preview.condition_reason === 'string' ? preview.condition_reason : messageText(t, preview.condition_reason);
    return (
      <Alert color="gray" p="xs" data-testid="step-preview-skipped">
        {t('steps.preview.notRun', { reason: reason || t('steps.preview.conditionFalse') })}
      </Alert>
    );
  }
  const values = Object.entries(preview.values ?? {});
  return (
    <Stack gap="xs" data-testid="step-preview" data-key={preview.key}>
      {values.length > 0 && (
        <Table withRowBorders={false} verticalSpacing={2} fz="sm">
          <Table.Tbody>
            {values.map(([field, v]) => (
              <Table.Tr key={field}>
                <Table.Td ff="monospace" fw={600} w="40%">
                  {field}
                </Table.Td>
                <Table.Td style={{ wordBreak: 'break-all' }}>{shown(v)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {(preview.elements ?? []).length > 0 && (
        <Text size="xs" c="dimmed">
          {t('steps.preview.elements', { count: preview.elements!.length })}
        </Text>
      )}
      {preview.errors.length + preview.warnings.length > 0 && (
        <Alert color={preview.errors.length ? 'red' : 'yellow'} p="xs" title={t('wizard.previewErrors')}>
          <List size="xs">
            {[...preview.errors, ...preview.warnings].map((e, i) => (
              <List.Item key={i}>
                <Group gap={4} wrap="nowrap" component="span">
                  <b>{e.field}</b>: {fieldErrorText(t, e)}
                </Group>
              </List.Item>
            ))}
          </List>
        </Alert>
      )}
    </Stack>
  );
}
