import { Button, Group, NumberInput, Select, SimpleGrid, Stack, TagsInput, TextInput } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { ActivityOptions } from '@/api/types';
import { useLookupValues } from '@/features/connections/api';
import { ACTIVITY_DEFAULTS } from './stepsModel';

const LOOKUPS = ['type_id', 'category_id', 'status_id', 'priority_id'] as const;
type LookupKey = (typeof LOOKUPS)[number];
/** The bpm'online lookup table each option picks from. */
const TABLES: Record<LookupKey, string> = {
  type_id: 'ActivityType',
  category_id: 'ActivityCategory',
  status_id: 'ActivityStatus',
  priority_id: 'ActivityPriority',
};
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ActivityOptionsEditorProps {
  value: ActivityOptions;
  onChange: (v: ActivityOptions) => void;
  /** Templates of earlier steps' contacts (`{{ steps.contact.Id }}`) offered as participants, with their names. */
  contacts: Array<{ value: string; label: string }>;
  /** The step's bpm'online connection: the pickers list its lookup values. */
  connectionId?: string | null;
  readOnly?: boolean;
}

interface LookupProps {
  field: LookupKey;
  value: string;
  connectionId?: string | null;
  readOnly?: boolean;
  onChange: (id: string) => void;
}

/**
 * One of a task's lookups: the instance's values by name (its language), Creatio's default
 * preselected; without an answer from the instance, its Id as text.
 */
function LookupPicker({ field, value, connectionId, readOnly, onChange }: LookupProps) {
  const { t } = useTranslation();
  const values = useLookupValues(connectionId, TABLES[field]);
  const isDefault = value === ACTIVITY_DEFAULTS[field];
  const reset =
    !isDefault && !readOnly ? (
      <Button size="compact-xs" variant="subtle" onClick={() => onChange(ACTIVITY_DEFAULTS[field])}>
        {t('steps.activity.resetDefault')}
      </Button>
    ) : undefined;
  if (values.data) {
    const data = values.data.map((v) => ({ value: v.id, label: v.name }));
    if (value && !data.some((d) => d.value === value)) data.unshift({ value, label: value });
    return (
      <Select
        label={t(`steps.activity.${field}`)}
        description={isDefault ? t(`steps.activity.default.${field}`) : undefined}
        data={data}
        value={value || null}
        searchable
        allowDeselect={false}
        disabled={readOnly}
        nothingFoundMessage={t('steps.activity.nothingFound')}
        onChange={(v) => v && onChange(v)}
        rightSectionWidth={reset ? 110 : undefined}
        rightSection={reset}
        data-testid={`activity-${field}`}
      />
    );
  }
  return (
    <TextInput
      label={t(`steps.activity.${field}`)}
      description={isDefault ? t(`steps.activity.default.${field}`) : t('steps.activity.customId')}
      value={value}
      disabled={readOnly}
      error={GUID.test(value) ? undefined : t('steps.activity.notGuid')}
      onChange={(e) => onChange(e.currentTarget.value.trim())}
      rightSectionWidth={reset ? 110 : undefined}
      rightSection={reset}
      data-testid={`activity-${field}`}
    />
  );
}

/** «через N минут/часов»: minutes stored, shown in hours when whole. */
function Delay({ label, minutes, onChange, readOnly, testId }: { label: string; minutes: number; onChange: (m: number) => void; readOnly?: boolean; testId: string }) {
  const { t } = useTranslation();
  const hours = minutes > 0 && minutes % 60 === 0;
  const unit = hours ? 60 : 1;
  return (
    <Group gap="xs" align="flex-end" wrap="nowrap">
      <NumberInput
        label={label}
        min={0}
        max={525_600 / unit}
        value={minutes / unit}
        disabled={readOnly}
        onChange={(v) => onChange(Math.max(0, Math.round(Number(v) || 0) * unit))}
        leftSection={<span style={{ fontSize: 12 }}>{t('steps.activity.in')}</span>}
        leftSectionWidth={56}
        data-testid={testId}
        style={{ flex: 1 }}
      />
      <Select
        aria-label={t('steps.activity.unit')}
        w={110}
        disabled={readOnly}
        allowDeselect={false}
        data={[
          { value: '1', label: t('steps.activity.minutes') },
          { value: '60', label: t('steps.activity.hours') },
        ]}
        value={String(unit)}
        onChange={(u) => onChange(u === '60' ? Math.max(60, Math.round(minutes / 60) * 60) : minutes)}
      />
    </Group>
  );
}

/**
 * A task's options: its type, category, status and priority (Creatio's defaults preselected, the
 * others picked from the instance's values), when it starts and is due, and its participants.
 */
export function ActivityOptionsEditor({ value, onChange, contacts, connectionId, readOnly }: ActivityOptionsEditorProps) {
  const { t } = useTranslation();
  const set = (patch: Partial<ActivityOptions>) => onChange({ ...value, ...patch });
  return (
    <Stack gap="sm" data-testid="activity-options">
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        {LOOKUPS.map((k) => (
          <LookupPicker
            key={k}
            field={k}
            value={value[k]}
            connectionId={connectionId}
            readOnly={readOnly}
            onChange={(id) => set({ [k]: id })}
          />
        ))}
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Delay label={t('steps.activity.start')} minutes={value.start_in_minutes} onChange={(m) => set({ start_in_minutes: m })} readOnly={readOnly} testId="activity-start" />
        <Delay label={t('steps.activity.due')} minutes={value.due_in_minutes} onChange={(m) => set({ due_in_minutes: m })} readOnly={readOnly} testId="activity-due" />
      </SimpleGrid>
      <TagsInput
        label={t('steps.activity.participants')}
        description={t('steps.activity.participantsHelp', { example: '{{ steps.contact.Id }}', interpolation: { escapeValue: false } })}
        data={contacts}
        value={value.participants}
        disabled={readOnly}
        maxTags={20}
        onChange={(participants) => set({ participants })}
      />
    </Stack>
  );
}
