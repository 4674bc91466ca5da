import { ActionIcon, Autocomplete, Button, Group, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import IconPlus from '@tabler/icons-react/icons/IconPlus';
import IconTrash from '@tabler/icons-react/icons/IconTrash';
import { useTranslation } from 'react-i18next';
import type { FilterCondition, FilterGroup, FilterOperator } from '@/api/types';
import type { SampleField } from './model';

const OPERATORS: FilterOperator[] = ['equals', 'not_equals', 'contains', 'not_contains', 'starts_with', 'ends_with', 'is_empty', 'not_empty', 'matches', 'gt', 'ge', 'lt', 'le', 'before', 'after'];
const NO_VALUE = new Set<FilterOperator>(['is_empty', 'not_empty']);

export interface ConditionEditorProps {
  condition: FilterGroup | null;
  onChange: (condition: FilterGroup | null) => void;
  /** What a condition may test: the source's fields and the earlier steps' results. */
  fields: SampleField[];
  readOnly?: boolean;
}

const isCondition = (c: FilterCondition | FilterGroup): c is FilterCondition => !('conditions' in c);

/** A step's condition: tests joined by AND/OR; without one the step always runs. Nested groups (from the api) are kept as they are. */
export function ConditionEditor({ condition, onChange, fields, readOnly }: ConditionEditorProps) {
  const { t } = useTranslation();
  const group: FilterGroup = condition ?? { join: 'and', conditions: [] };
  const set = (conditions: FilterGroup['conditions']) => onChange(conditions.length ? { ...group, conditions } : null);
  const put = (i: number, c: FilterCondition) => set(group.conditions.map((x, j) => (j === i ? c : x)));
  const options = fields.map((f) => ({ value: f.path, label: f.label ? `${f.label} · ${f.path}` : f.path }));

  return (
    <Stack gap="xs" data-testid="condition-editor">
      {group.conditions.length === 0 && (
        <Text size="sm" c="dimmed">
          {t('steps.condition.none')}
        </Text>
      )}
      {group.conditions.length > 1 && (
        <SegmentedControl
          size="xs"
          disabled={readOnly}
          value={group.join}
          onChange={(v) => onChange({ ...group, join: v as FilterGroup['join'] })}
          data={[
            { value: 'and', label: t('steps.condition.and') },
            { value: 'or', label: t('steps.condition.or') },
          ]}
          aria-label={t('steps.condition.join')}
          w="fit-content"
        />
      )}
      {group.conditions.map((c, i) =>
        isCondition(c) ? (
          <Group key={i} gap="xs" wrap="nowrap" align="flex-start">
            <Autocomplete
              aria-label={t('steps.condition.field')}
              placeholder={t('steps.condition.field')}
              data={options.map((o) => o.value)}
              renderOption={({ option }) => <Text size="sm">{options.find((o) => o.value === option.value)?.label ?? option.value}</Text>}
              value={c.field}
              disabled={readOnly}
              onChange={(field) => put(i, { ...c, field })}
              style={{ flex: 2 }}
            />
            <Select
              aria-label={t('steps.condition.op')}
              data={OPERATORS.map((op) => ({ value: op, label: t(`steps.condition.ops.${op}`) }))}
              value={c.op}
              disabled={readOnly}
              allowDeselect={false}
              onChange={(op) => put(i, { ...c, op: (op ?? 'equals') as FilterOperator, ...(NO_VALUE.has(op as FilterOperator) ? { value: null } : {}) })}
              style={{ flex: 1 }}
            />
            {!NO_VALUE.has(c.op) && (
              <TextInput
                aria-label={t('steps.condition.value')}
                placeholder={t('steps.condition.value')}
                value={c.value == null ? '' : String(c.value)}
                disabled={readOnly}
                onChange={(e) => put(i, { ...c, value: e.currentTarget.value })}
                style={{ flex: 1 }}
              />
            )}
            {!readOnly && (
              <ActionIcon variant="subtle" color="red" onClick={() => set(group.conditions.filter((_, j) => j !== i))} aria-label={t('steps.condition.remove')} mt={4}>
                <IconTrash size={16} />
              </ActionIcon>
            )}
          </Group>
        ) : (
          <Text key={i} size="sm" c="dimmed">
            {t('steps.condition.nested', { count: c.conditions.length })}
          </Text>
        ),
      )}
      {!readOnly && (
        <Button
          variant="subtle"
          size="xs"
          leftSection={<IconPlus size={14} />}
          w="fit-content"
          onClick={() => set([...group.conditions, { field: '', op: 'equals', value: '' }])}
          data-testid="add-condition"
        >
          {t('steps.condition.add')}
        </Button>
      )}
    </Stack>
  );
}
