import { Button, Group, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { JsonView } from '@/components/JsonView';
import { changeRows, fieldRows } from '../lib/present';

const CELL = { wordBreak: 'break-word' } as const;

/** A titled block that shows its data as a table, or as the raw JSON one click away. */
function Block({ title, raw, testId, children }: { title: string; raw: unknown; testId: string; children: React.ReactNode }) {
  const { t } = useTranslation();
  const [json, setJson] = useState(false);
  return (
    <Stack gap={4} data-testid={testId}>
      <Group justify="space-between" gap="xs" wrap="nowrap">
        <Text size="sm" fw={600}>
          {title}
        </Text>
        <Button size="compact-xs" variant="subtle" onClick={() => setJson((v) => !v)} data-testid={`${testId}-toggle`}>
          {json ? t('history.asTable') : t('history.asJson')}
        </Button>
      </Group>
      {json ? <JsonView value={raw} maxHeight={240} /> : children}
    </Stack>
  );
}

/** Field → value rows of a data object (source data, what was sent). */
export function FieldTable({ title, data, testId }: { title: string; data: unknown; testId: string }) {
  const { t } = useTranslation();
  const rows = fieldRows(data);
  return (
    <Block title={title} raw={data} testId={testId}>
      {rows.length === 0 ? (
        <Text size="sm" c="dimmed">—</Text>
      ) : (
        <Table withTableBorder verticalSpacing={4} fz="sm" style={{ tableLayout: 'fixed' }}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th w="40%">{t('history.field')}</Table.Th>
              <Table.Th>{t('history.value')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={r.field} data-testid="field-row">
                <Table.Td ff="monospace" style={CELL}>{r.field}</Table.Td>
                <Table.Td style={CELL}>{r.value}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Block>
  );
}

/** An update's changed fields: old → new. */
export function ChangesTable({ changes }: { changes: Record<string, unknown[]> | null | undefined }) {
  const { t } = useTranslation();
  const rows = changeRows(changes);
  if (rows.length === 0) return null;
  return (
    <Block title={t('history.changes')} raw={changes} testId="operation-changes">
      <Table withTableBorder verticalSpacing={4} fz="sm" style={{ tableLayout: 'fixed' }}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th w="30%">{t('history.field')}</Table.Th>
            <Table.Th>{t('history.oldValue')}</Table.Th>
            <Table.Th>{t('history.newValue')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={r.field} data-testid="change-row">
              <Table.Td ff="monospace" style={CELL}>{r.field}</Table.Td>
              <Table.Td c="dimmed" td="line-through" style={CELL}>{r.old}</Table.Td>
              <Table.Td style={CELL}>{r.new}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Block>
  );
}
