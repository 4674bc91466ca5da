import { Alert, Paper, Radio, SegmentedControl, Stack, Table, Text } from '@mantine/core';
import IconInfoCircle from '@tabler/icons-react/icons/IconInfoCircle';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { DedupMode, MappingRule, UpdateRule } from '@/api/types';
import type { DedupPolicy, OnSeveral } from '../../api/dedup';
import { DedupCompare } from './DedupCompare';
import { DedupGroups } from './DedupGroups';
import { DEDUP_MODES, ON_SEVERAL, UPDATE_RULES, matchFieldOptions, normalizeDedup } from './dedupModel';

export interface DedupEditorProps {
  dedup: DedupPolicy;
  mapping: MappingRule[];
  onChange: (dedup: DedupPolicy) => void;
  /** Messages by path (`dedup.match`, `dedup.match.1`, `dedup.update_rules.Name`). */
  errors?: Record<string, string | undefined>;
  /** A field's caption, when known (`Мобильный телефон`); its name otherwise. */
  label?: (field: string) => string;
  /** The check against the sample, shown under the search settings. */
  check?: ReactNode;
  readOnly?: boolean;
}

/**
 * The duplicate policy: a mode; search groups among the mapped fields, tried in order; how each
 * field is compared; what to do with several matches; and update rules per field.
 */
export function DedupEditor({ dedup, mapping, onChange, errors = {}, label = (f) => f, check, readOnly }: DedupEditorProps) {
  const { t } = useTranslation();
  const options = matchFieldOptions(mapping);
  const value = normalizeDedup(dedup, mapping);
  const updates = value.mode === 'update_if_found' || value.mode === 'update_only';
  const set = (patch: Partial<DedupPolicy>) => onChange(normalizeDedup({ ...value, ...patch }, mapping));
  const groupErrors = Object.fromEntries(value.match.map((_, i) => [i, errors[`dedup.match.${i}`]]));

  return (
    <Stack>
      <Radio.Group
        label={t('dedup.modeLabel')}
        value={value.mode}
        onChange={(m) => set({ mode: m as DedupMode, match: value.match.length ? value.match : [{ fields: [] }] })}
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

      {value.mode !== 'always_create' &&
        (options.length === 0 ? (
          <Alert icon={<IconInfoCircle size={18} />} color="yellow">
            {t('dedup.noMappedFields')}
          </Alert>
        ) : (
          <Stack gap="md">
            <DedupGroups
              match={value.match}
              mode={value.mode}
              options={options}
              label={label}
              onChange={(match) => set({ match })}
              errors={groupErrors}
              readOnly={readOnly}
            />
            {errors['dedup.match'] && (
              <Text size="sm" c="red" role="alert" data-testid="dedup-match-error">
                {errors['dedup.match']}
              </Text>
            )}
            <DedupCompare compare={value.compare} label={label} onChange={(compare) => set({ compare })} readOnly={readOnly} />
            {updates && (
              <Radio.Group label={t('dedup.severalLabel')} value={value.on_several} onChange={(v) => set({ on_several: v as OnSeveral })}>
                <Stack gap={6} mt="xs">
                  {ON_SEVERAL.map((v) => (
                    <Radio key={v} value={v} disabled={readOnly} label={t(`dedup.several.${v}`)} data-testid={`several-${v}`} />
                  ))}
                </Stack>
              </Radio.Group>
            )}
            {check}
          </Stack>
        ))}

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
                    <Table.Td fz="sm">{label(f)}</Table.Td>
                    <Table.Td>
                      <SegmentedControl
                        size="xs"
                        disabled={readOnly}
                        aria-label={t('dedup.ruleFor', { field: label(f) })}
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
