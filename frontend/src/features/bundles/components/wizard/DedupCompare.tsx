import { SegmentedControl, Stack, Switch, Table, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { Compare } from '../../api/dedup';
import { fieldKind } from './dedupModel';

export interface DedupCompareProps {
  /** The fields the groups search by, each with its (normalised) comparison. */
  compare: Record<string, Compare>;
  label: (field: string) => string;
  onChange: (compare: Record<string, Compare>) => void;
  readOnly?: boolean;
}

/** How each searched field is compared: phones by number or as written, e-mails always without case, text optionally. */
export function DedupCompare({ compare, label, onChange, readOnly }: DedupCompareProps) {
  const { t } = useTranslation();
  const fields = Object.keys(compare);
  if (fields.length === 0) return null;
  const set = (f: string, c: Compare) => onChange({ ...compare, [f]: c });

  const control = (f: string, c: Compare) => {
    switch (fieldKind(f, c)) {
      case 'phone':
        return (
          <SegmentedControl
            size="xs"
            disabled={readOnly}
            aria-label={t('dedup.compareFor', { field: label(f) })}
            value={c.as === 'exact' ? 'exact' : 'phone'}
            onChange={(v) => set(f, { as: v === 'exact' ? 'exact' : 'phone' })}
            data={[
              { value: 'phone', label: t('dedup.comparePhone') },
              { value: 'exact', label: t('dedup.compareExact') },
            ]}
          />
        );
      case 'email':
        return (
          <Stack gap={4}>
            <Text size="xs" c="dimmed">
              {t('dedup.emailCase')}
            </Text>
            <Switch
              size="xs"
              disabled={readOnly}
              label={t('dedup.emailGmail')}
              checked={!!c.gmail}
              onChange={(e) => set(f, { as: 'email', gmail: e.currentTarget.checked })}
            />
          </Stack>
        );
      case 'text':
        return (
          <Switch
            size="xs"
            disabled={readOnly}
            label={t('dedup.textIgnoreCase')}
            checked={c.as === 'text'}
            onChange={(e) => set(f, e.currentTarget.checked ? { as: 'text', ignore_case: true } : { as: 'exact' })}
          />
        );
    }
  };

  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        {t('dedup.compareLabel')}
      </Text>
      <Text size="xs" c="dimmed">
        {t('dedup.compareHelp')}
      </Text>
      <Table.ScrollContainer minWidth={420}>
        <Table verticalSpacing={6} withTableBorder>
          <Table.Tbody>
            {fields.map((f) => (
              <Table.Tr key={f} data-testid={`compare-${f}`}>
                <Table.Td fz="sm">{label(f)}</Table.Td>
                <Table.Td>{control(f, compare[f]!)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
