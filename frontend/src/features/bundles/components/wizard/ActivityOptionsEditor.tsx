import { Button, Group, NumberInput, Select, SimpleGrid, Stack, TagsInput, TextInput } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { ActivityOptions } from '@/api/types';
import { ACTIVITY_DEFAULTS } from './stepsModel';

const LOOKUPS = ['type_id', 'category_id', 'status_id', 'priority_id'] as const;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ActivityOptionsEditorProps {
  value: ActivityOptions;
  onChange: (v: ActivityOptions) => void;
  /** Templates of earlier steps' contacts (`{{ steps.contact.Id }}`) offered as participants, with their names. */
  contacts: Array<{ value: string; label: string }>;
  readOnly?: boolean;
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
 * A task's options: its type, category, status and priority (Creatio's defaults preselected; the
 * api has no lookup reader yet, so another value is its Id), when it starts and is due, and its participants.
 */
export function ActivityOptionsEditor({ value, onChange, contacts, readOnly }: ActivityOptionsEditorProps) {
  const { t } = useTranslation();
  const set = (patch: Partial<ActivityOptions>) => onChange({ ...value, ...patch });
  return (
    <Stack gap="sm" data-testid="activity-options">
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        {LOOKUPS.map((k) => {
          const isDefault = value[k] === ACTIVITY_DEFAULTS[k];
          return (
            <TextInput
              key={k}
              label={t(`steps.activity.${k}`)}
              description={isDefault ? t(`steps.activity.default.${k}`) : t('steps.activity.customId')}
              value={value[k]}
              disabled={readOnly}
              error={GUID.test(value[k]) ? undefined : t('steps.activity.notGuid')}
              onChange={(e) => set({ [k]: e.currentTarget.value.trim() })}
              rightSectionWidth={isDefault ? undefined : 110}
              rightSection={
                !isDefault && !readOnly ? (
                  <Button size="compact-xs" variant="subtle" onClick={() => set({ [k]: ACTIVITY_DEFAULTS[k] })}>
                    {t('steps.activity.resetDefault')}
                  </Button>
                ) : undefined
              }
            />
          );
        })}
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
