import {
  ActionIcon,
  Autocomplete,
  Badge,
  Checkbox,
  type ComboboxItem,
  Group,
  Menu,
  MultiSelect,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
  Tooltip,
} from '@mantine/core';
import IconBraces from '@tabler/icons-react/icons/IconBraces';
import IconSearch from '@tabler/icons-react/icons/IconSearch';
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { EntityField, MappingRule } from '@/api/types';
import { captionLabel, matchesQuery } from '@/lib/captions';
import { timeZones } from '@/lib/format';
import {
  CONVERSIONS,
  type MappingMode,
  type SampleField,
  conversionName,
  orderFields,
  putRule,
  ruleMode,
  setConversions,
  setRuleMode,
  stepTimeZone,
  withTimeZone,
} from './model';

export interface MappingEditorProps {
  fields: EntityField[];
  mapping: MappingRule[];
  onChange: (mapping: MappingRule[]) => void;
  sampleFields: SampleField[];
  preview?: Record<string, unknown>;
  errors?: Record<string, string | undefined>;
  readOnly?: boolean;
  /** The user's profile time zone: what a date conversion without one is saved with. */
  profileTimeZone?: string;
}

function short(v: unknown): string {
  if (v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Every field of the entity, required ones first, each with how its value is built. */
export function MappingEditor({ fields, mapping, onChange, sampleFields, preview, errors = {}, readOnly, profileTimeZone }: MappingEditorProps) {
  const { t } = useTranslation();
  const [query, setQuery] = useState('');
  const [onlyMapped, setOnlyMapped] = useState(false);
  const mapped = new Set(mapping.map((r) => r.target));
  const ordered = orderFields(fields).filter(
    (f) =>
      matchesQuery(query, f.caption, f.name) &&
      (!onlyMapped || f.required || mapped.has(f.name)),
  );
  return (
    <Stack gap="xs" data-testid="mapping-editor">
      <Group gap="sm" wrap="wrap">
        <TextInput
          placeholder={t('wizard.findField')}
          aria-label={t('wizard.findField')}
          leftSection={<IconSearch size={14} />}
          value={query}
          onChange={(e) => setQuery(e.currentTarget.value)}
          style={{ flex: 1, minWidth: 200 }}
        />
        <Switch
          label={t('wizard.onlyMapped', { count: mapping.length })}
          checked={onlyMapped}
          onChange={(e) => setOnlyMapped(e.currentTarget.checked)}
        />
      </Group>
      {ordered.length === 0 && (
        <Text size="sm" c="dimmed" ta="center" py="md">
          {t('common.nothingFound')}
        </Text>
      )}
      {ordered.map((field) => (
        <MappingRow
          key={field.name}
          field={field}
          rule={mapping.find((r) => r.target === field.name)}
          onRule={(rule) => onChange(putRule(mapping, field.name, rule))}
          sampleFields={sampleFields}
          preview={preview?.[field.name]}
          hasPreview={!!preview && field.name in preview}
          error={errors[`mapping.${field.name}`]}
          readOnly={readOnly}
          profileTimeZone={profileTimeZone}
        />
      ))}
    </Stack>
  );
}

function MappingRow(props: {
  field: EntityField;
  rule?: MappingRule;
  onRule: (r: MappingRule | null) => void;
  sampleFields: SampleField[];
  preview: unknown;
  hasPreview: boolean;
  error?: string;
  readOnly?: boolean;
  profileTimeZone?: string;
}) {
  const { t } = useTranslation();
  const { field, rule, onRule, sampleFields } = props;
  const mode: MappingMode | 'none' = rule ? ruleMode(rule) : 'none';
  const modes = ['none', 'source', 'template', 'constant', 'lookup'] as const;

  const setMode = (m: string) => {
    if (m === 'none') onRule(null);
    else {
      const base = rule ?? { target: field.name };
      const next = setRuleMode(base, m as MappingMode);
      if (m === 'lookup' && next.lookup && !next.lookup.entity && field.lookup_entity) next.lookup = { ...next.lookup, entity: field.lookup_entity };
      onRule(next);
    }
  };

  return (
    <Paper
      withBorder
      p="sm"
      data-testid={`mapping-row-${field.name}`}
      style={{ borderColor: props.error ? 'var(--mantine-color-red-5)' : rule ? 'var(--mantine-color-indigo-2)' : undefined }}
    >
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
        <Stack gap={2} miw={160}>
          <Group gap={6}>
            <Text fw={600} size="sm" data-testid="mapping-field-caption">
              {captionLabel(field.caption, field.name)}
            </Text>
            {field.required && (
              <Badge size="xs" color="red" variant="light" aria-label={t('wizard.requiredField')}>
                {t('wizard.required')}
              </Badge>
            )}
          </Group>
          <Text size="xs" c="dimmed">
            {field.type_caption || field.type}
            {field.lookup_entity && field.lookup_caption && field.lookup_caption !== field.lookup_entity ? ` → ${field.lookup_entity}` : ''}
          </Text>
        </Stack>
        <SegmentedControl
          size="xs"
          value={mode}
          onChange={setMode}
          disabled={props.readOnly}
          aria-label={t('wizard.mappingModeFor', { field: field.name })}
          style={{ maxWidth: '100%', overflowX: 'auto' }}
          data={modes.map((m) => ({ value: m, label: t(`wizard.mode.${m}`) }))}
        />
      </Group>
      {rule && (
        <Stack gap="xs" mt="sm">
          {mode === 'source' && (
            <Autocomplete
              aria-label={t('wizard.sourceFieldFor', { field: field.name })}
              placeholder={t('wizard.sourceFieldPlaceholder')}
              disabled={props.readOnly}
              value={rule.source ?? ''}
              onChange={(v) => onRule({ ...rule, source: v })}
              data={sampleFields.map((s) => s.path)}
              filter={({ options, search }) => {
                const q = search.trim().toLowerCase();
                return (options as ComboboxItem[]).filter((o) => {
                  const s = sampleFields.find((f) => f.path === o.value);
                  return !q || o.value.toLowerCase().includes(q) || !!s?.label?.toLowerCase().includes(q);
                });
              }}
              renderOption={({ option }) => <SourceFieldOption field={sampleFields.find((s) => s.path === option.value) ?? { path: option.value, value: undefined }} />}
              comboboxProps={{ withinPortal: true }}
              limit={50}
              data-testid="source-field"
            />
          )}
          {mode === 'template' && (
            <TemplateInput
              label={t('wizard.templateFor', { field: field.name })}
              value={rule.template ?? ''}
              onChange={(v) => onRule({ ...rule, template: v })}
              sampleFields={sampleFields}
              readOnly={props.readOnly}
              multiline
            />
          )}
          {mode === 'constant' && (
            <TextInput
              aria-label={t('wizard.constantFor', { field: field.name })}
              placeholder={t('wizard.constantPlaceholder')}
              disabled={props.readOnly}
              value={String(rule.constant ?? '')}
              onChange={(e) => onRule({ ...rule, constant: e.currentTarget.value })}
            />
          )}
          {mode === 'lookup' && rule.lookup && (
            <Stack gap="xs">
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <TextInput
                  label={t('wizard.lookupEntity')}
                  size="xs"
                  disabled={props.readOnly}
                  value={rule.lookup.entity}
                  onChange={(e) => onRule({ ...rule, lookup: { ...rule.lookup!, entity: e.currentTarget.value } })}
                />
                <TextInput
                  label={t('wizard.lookupBy')}
                  size="xs"
                  disabled={props.readOnly}
                  value={rule.lookup.by}
                  onChange={(e) => onRule({ ...rule, lookup: { ...rule.lookup!, by: e.currentTarget.value } })}
                />
              </SimpleGrid>
              <TemplateInput
                label={t('wizard.lookupValue')}
                value={rule.lookup.value}
                onChange={(v) => onRule({ ...rule, lookup: { ...rule.lookup!, value: v } })}
                sampleFields={sampleFields}
                readOnly={props.readOnly}
              />
              <Checkbox
                size="xs"
                label={t('wizard.lookupCreate')}
                disabled={props.readOnly}
                checked={!!rule.lookup.create_if_missing}
                onChange={(e) => onRule({ ...rule, lookup: { ...rule.lookup!, create_if_missing: e.currentTarget.checked } })}
              />
            </Stack>
          )}
          {mode !== 'lookup' && (
            <MultiSelect
              size="xs"
              aria-label={t('wizard.conversionsFor', { field: field.name })}
              placeholder={rule.convert?.length ? undefined : t('wizard.conversions')}
              disabled={props.readOnly}
              data={CONVERSIONS.map((c) => ({ value: c, label: t(`conversions.${c}`) }))}
              value={(rule.convert ?? []).map(conversionName)}
              onChange={(names) => onRule({ ...rule, convert: setConversions(rule.convert, names) })}
              clearable
              comboboxProps={{ withinPortal: true }}
              data-testid="conversions"
            />
          )}
          {mode !== 'lookup' &&
            (rule.convert ?? []).map(
              (step, i) =>
                conversionName(step) === 'date' && (
                  <DateTimeZoneSelect
                    key={i}
                    field={field.name}
                    value={stepTimeZone(step)}
                    onChange={(tz) => onRule({ ...rule, convert: rule.convert!.map((s, j) => (j === i ? withTimeZone(s, tz) : s)) })}
                    profileTimeZone={props.profileTimeZone}
                    readOnly={props.readOnly}
                  />
                ),
            )}
          {props.error && (
            <Text size="xs" c="red" role="alert">
              {props.error}
            </Text>
          )}
          {props.hasPreview && (
            <Text size="xs" c="dimmed" data-testid="row-preview">
              {t('wizard.previewValue')}:{' '}
              <Text span ff="monospace" c="dark" size="xs">
                {props.preview === undefined || props.preview === '' ? '∅' : short(props.preview)}
              </Text>
            </Text>
          )}
        </Stack>
      )}
    </Paper>
  );
}

/**
 * The zone a date conversion reads local times in. Left empty, the bundle is saved with the
 * saving user's profile zone, which the placeholder names.
 */
function DateTimeZoneSelect(props: {
  field: string;
  value: string | null;
  onChange: (tz: string | null) => void;
  profileTimeZone?: string;
  readOnly?: boolean;
}) {
  const { t } = useTranslation();
  const zones = useMemo(() => {
    const list = timeZones();
    return props.value && !list.includes(props.value) ? [props.value, ...list] : list;
  }, [props.value]);
  return (
    <Select
      size="xs"
      label={t('wizard.dateTimeZone')}
      aria-label={t('wizard.dateTimeZoneFor', { field: props.field })}
      placeholder={
        props.profileTimeZone ? t('wizard.dateTimeZoneDefault', { zone: props.profileTimeZone }) : t('wizard.dateTimeZoneDefaultProfile')
      }
      data={zones}
      value={props.value}
      onChange={props.onChange}
      searchable
      clearable
      disabled={props.readOnly}
      nothingFoundMessage={t('common.nothingFound')}
      maxDropdownHeight={240}
      comboboxProps={{ withinPortal: true }}
      data-testid="date-timezone"
    />
  );
}

/** A source field as the pickers list it: its path, the app's name for it, its value or example. */
function SourceFieldOption({ field }: { field: SampleField }) {
  const { t } = useTranslation();
  const value = short(field.value);
  return (
    <Group justify="space-between" wrap="nowrap" w="100%" gap="md" data-testid="source-field-option" data-path={field.path}>
      <Stack gap={0} miw={0}>
        <Text size="sm" ff="monospace">
          {field.path}
        </Text>
        {field.label && (
          <Text size="xs" c="dimmed">
            {field.label}
          </Text>
        )}
      </Stack>
      <Group gap={6} wrap="nowrap" miw={0}>
        {field.fromSample && (
          <Badge size="xs" variant="light" color="grape">
            {t('wizard.fromSample')}
          </Badge>
        )}
        {value && (
          <Text size="xs" c="dimmed" truncate>
            {field.example ? t('wizard.exampleValue', { value }) : value}
          </Text>
        )}
      </Group>
    </Group>
  );
}

/** A template box with an "insert field" menu that puts `{{ path }}` at the cursor. */
export function TemplateInput(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  sampleFields: SampleField[];
  readOnly?: boolean;
  multiline?: boolean;
}) {
  const { t } = useTranslation();
  const ref = useRef<HTMLTextAreaElement & HTMLInputElement>(null);
  const insert = (path: string) => {
    const el = ref.current;
    const token = `{{ ${path} }}`;
    const start = el?.selectionStart ?? props.value.length;
    const end = el?.selectionEnd ?? props.value.length;
    const next = props.value.slice(0, start) + token + props.value.slice(end);
    props.onChange(next);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(start + token.length, start + token.length);
    });
  };
  const menu = (
    <Menu position="bottom-end" withinPortal shadow="md" disabled={props.readOnly}>
      <Menu.Target>
        <Tooltip label={t('wizard.insertField')}>
          <ActionIcon variant="subtle" aria-label={t('wizard.insertField')} disabled={props.readOnly}>
            <IconBraces size={16} />
          </ActionIcon>
        </Tooltip>
      </Menu.Target>
      <Menu.Dropdown mah={300} style={{ overflowY: 'auto' }}>
        {props.sampleFields.length === 0 && <Menu.Label>{t('wizard.noSampleFields')}</Menu.Label>}
        {props.sampleFields.map((s) => (
          <Menu.Item key={s.path} onClick={() => insert(s.path)}>
            <SourceFieldOption field={s} />
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
  const common = {
    'aria-label': props.label,
    value: props.value,
    disabled: props.readOnly,
    placeholder: '{{ first_name }} {{ last_name }}',
    rightSection: menu,
    styles: { input: { fontFamily: 'var(--mantine-font-family-monospace)' } },
    'data-testid': 'template-input',
  } as const;
  return props.multiline ? (
    <Textarea ref={ref} autosize minRows={1} {...common} onChange={(e) => props.onChange(e.currentTarget.value)} />
  ) : (
    <TextInput ref={ref} size="xs" label={props.label} {...common} onChange={(e) => props.onChange(e.currentTarget.value)} />
  );
}
