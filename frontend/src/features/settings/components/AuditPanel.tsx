import { Alert, Badge, Button, Group, Select, Stack, Table, Text } from '@mantine/core';
import IconClipboardList from '@tabler/icons-react/icons/IconClipboardList';
import IconInfoCircle from '@tabler/icons-react/icons/IconInfoCircle';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { AUDIT_ENTITY_TYPES, type AuditEntityType, type AuditEntry } from '@/api/types';
import { DataTable } from '@/components/DataTable';
import { EmptyState } from '@/components/EmptyState';
import { usePermissions } from '@/features/auth/api';
import { formatDateTime, getDisplayTimeZone } from '@/lib/format';
import { useAuditLog } from '../api';

/** An entry's details in one line: `changed: name, params.domain · app: bpmonline`. */
export function describeDetails(details: Record<string, unknown> | null | undefined): string {
  if (!details) return '';
  return Object.entries(details)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => {
      const value = Array.isArray(v) ? v.map(String).join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
      return `${k}: ${value}`;
    })
    .join(' · ');
}

export function AuditPanel() {
  const { t } = useTranslation();
  const { isOwner } = usePermissions();
  if (!isOwner) {
    return (
      <Alert icon={<IconInfoCircle size={18} />} color="blue">
        {t('audit.ownerOnly')}
      </Alert>
    );
  }
  return <AuditLog />;
}

function AuditLog() {
  const { t } = useTranslation();
  const [entityType, setEntityType] = useState<AuditEntityType | null>(null);
  const log = useAuditLog(entityType);
  const rows: AuditEntry[] = log.data?.pages.flatMap((p) => p.items) ?? [];
  const tz = getDisplayTimeZone() ?? Intl.DateTimeFormat().resolvedOptions().timeZone;

  const who = (e: AuditEntry) => {
    if (e.actor) return e.actor.name || e.actor.email;
    return t(`audit.via.${e.via}`, { defaultValue: e.via });
  };

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Text c="dimmed" size="sm" maw={640}>
          {t('audit.description')}
        </Text>
        <Select
          label={t('audit.entityType')}
          placeholder={t('audit.allTypes')}
          data={AUDIT_ENTITY_TYPES.map((e) => ({ value: e, label: t(`audit.entity.${e}`) }))}
          value={entityType}
          onChange={(v) => setEntityType(v as AuditEntityType | null)}
          clearable
          w={220}
        />
      </Group>
      <DataTable
        query={log}
        rows={rows}
        empty={<EmptyState icon={<IconClipboardList />} title={t('audit.empty')} />}
        minWidth={720}
        verticalSpacing="sm"
        horizontalSpacing="md"
        data-testid="audit-table"
        head={
          <>
            <Table.Th>{t('audit.time', { tz })}</Table.Th>
            <Table.Th>{t('audit.who')}</Table.Th>
            <Table.Th>{t('audit.action')}</Table.Th>
            <Table.Th>{t('audit.object')}</Table.Th>
            <Table.Th>{t('audit.details')}</Table.Th>
          </>
        }
      >
        {(rows) =>
          rows.map((e) => (
            <Table.Tr key={e.id} data-testid="audit-row">
              <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(e.at)}</Table.Td>
              <Table.Td>
                <Text size="sm">{who(e)}</Text>
                {e.actor && e.via !== 'session' && (
                  <Text size="xs" c="dimmed">
                    {t(`audit.via.${e.via}`, { defaultValue: e.via })}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Badge variant="light" color={e.action === 'deleted' || e.action === 'removed' || e.action === 'revoked' ? 'red' : 'indigo'}>
                  {t(`audit.actions.${e.action}`, { defaultValue: e.action })}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Text size="xs" c="dimmed">
                  {t(`audit.entity.${e.entity_type}`, { defaultValue: e.entity_type })}
                </Text>
                <Text size="sm" fw={500}>
                  {e.entity_name}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="xs" c="dimmed" style={{ wordBreak: 'break-word' }}>
                  {describeDetails(e.details)}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))
        }
      </DataTable>
      {log.hasNextPage && (
        <Group justify="center">
          <Button variant="default" onClick={() => void log.fetchNextPage()} loading={log.isFetchingNextPage}>
            {t('audit.loadMore')}
          </Button>
        </Group>
      )}
    </Stack>
  );
}
