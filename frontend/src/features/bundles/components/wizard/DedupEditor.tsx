import { Alert, Checkbox, Group, Paper, Radio, SegmentedControl, Stack, Table, Text } from '@mantine/core';
import IconInfoCircle from '@tabler/icons-react/icons/IconInfoCircle';
import { useTranslation } from 'react-i18next';
import type { Dedup, DedupMode, MappingRule, UpdateRule } from '@/api/types';
import { DEDUP_MODES, UPDATE_RULES, matchFieldOptions, normalizeDedup } from './model';

export interface DedupEditorProps {
  dedup: Dedup;
  mapping: MappingRule[];
  onChange: (dedup: Dedup) => void;
  errors?: Record<string, string | undefined>;
  readOnly?: boolean;
}

/** The duplicate policy: a mode, match fields among the mapped ones, and update rules per field. */
export function DedupEditor({ dedup, mapping, onChange, errors = {}, readOnly }: DedupEditorProps) {
  const { t } = useTranslation();
  const options = matchFieldOptions(mapping);
  const value = normalizeDedup(dedup, mapping);
  const updates = value.mode === 'update_if_found' || value.mode === 'update_only';
  const set = (patch: Partial<Dedup>) => onChange(normalizeDedup({ ...value, ...patch }, mapping));

  return (
    <Stack>
      <Radio.Group
        label={t('dedup.modeLabel')}
        value={value.mode}
        onChange={(m) => set({ mode: m as DedupMode })}
        error={errors['dedup.mode']}
      >
        <Stack gap="xs" mt="xs">
          {DEDUP_MODES.map((m) => (
            <Paper key={m} withBorder p="sm" style={{ borderColor: value.mode === m ? 'var(--mantine-color-indigo-4)' : undefined }}>
              <Radio value={m} disabled={readOnly} label={t(`dedup.mode.${m}`)} description={t(`dedup.modeHelp.${m}`)} data-testid={`dedup-${m}`} />
            </Paper>
          ))}
        </Stack>
      </Radio.Group>

      {value.mode !== 'always_create' && (
        <Checkbox.Group
          label={t('dedup.matchFields')}
          description={t('dedup.matchFieldsHelp')}
          value={value.match_fields}
          onChange={(match_fields) => set({ match_fields })}
          error={errors['dedup.match_fields']}
          withAsterisk
        >
          {options.length === 0 ? (
            <Alert mt="xs" icon={<IconInfoCircle size={18} />} color="yellow">
              {t('dedup.noMappedFields')}
            </Alert>
          ) : (
            <Group mt="xs" gap="md">
              {options.map((f) => (
                <Checkbox key={f} value={f} label={f} disabled={readOnly} data-testid={`match-${f}`} />
              ))}
            </Group>
          )}
        </Checkbox.Group>
      )}

      {updates && options.length > 0 && (
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            {t('dedup.updateRules')}
          </Text>
          <Text size="xs" c="dimmed">
            {t('dedup.updateRulesHelp')}
          </Text>
          <Table.ScrollContainer minWidth={420}>
            <Table verticalSpacing={6} withTableBorder>
              <Table.Tbody>
                {options.map((f) => (
                  <Table.Tr key={f} data-testid={`rule-${f}`}>
                    <Table.Td ff="monospace" fz="sm">
                      {f}
                    </Table.Td>
                    <Table.Td>
                      <SegmentedControl
                        size="xs"
                        disabled={readOnly}
                        aria-label={t('dedup.ruleFor', { field: f })}
                        value={value.update_rules[f] ?? 'overwrite'}
                        onChange={(r) => set({ update_rules: { ...value.update_rules, [f]: r as UpdateRule } })}
                        data={UPDATE_RULES.map((r) => ({ value: r, label: t(`dedup.rule.${r}`) }))}
                      />
                      {errors[`dedup.update_rules.${f}`] && (
                        <Text size="xs" c="red">
                          {errors[`dedup.update_rules.${f}`]}
                        </Text>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Stack>
      )}
    </Stack>
  );
}
