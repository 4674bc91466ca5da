import { ActionIcon, Button, Checkbox, Group, Paper, Stack, Text } from '@mantine/core';
import IconArrowDown from '@tabler/icons-react/icons/IconArrowDown';
import IconArrowUp from '@tabler/icons-react/icons/IconArrowUp';
import IconPlus from '@tabler/icons-react/icons/IconPlus';
import IconTrash from '@tabler/icons-react/icons/IconTrash';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { DedupMode } from '@/api/types';
import type { MatchGroup } from '../../api/dedup';
import { groupProblems, moveGroup } from './dedupModel';

export interface DedupGroupsProps {
  match: MatchGroup[];
  mode: DedupMode;
  /** The mapped target fields, the only ones a group may use. */
  options: string[];
  label: (field: string) => string;
  onChange: (match: MatchGroup[]) => void;
  /** Server messages by group index. */
  errors: Record<number, string | undefined>;
  readOnly?: boolean;
}

/** The search groups in order: the first that finds a record wins; all fields of a group must match. */
export function DedupGroups({ match, mode, options, label, onChange, errors, readOnly }: DedupGroupsProps) {
  const { t } = useTranslation();
  const problems = groupProblems(match);
  const fieldsText = (g: MatchGroup) => (g.fields.length ? g.fields.map(label).join(t('dedup.and')) : t('dedup.groupNoFields'));
  const setGroup = (i: number, fields: string[]) => onChange(match.map((g, j) => (j === i ? { fields } : g)));

  // The keyboard focus follows a moved group (to its button that still works at the new place).
  const buttons = useRef(new Map<string, HTMLButtonElement | null>());
  const [moved, setMoved] = useState<{ to: number; dir: 'up' | 'down' } | null>(null);
  useEffect(() => {
    if (!moved) return;
    const same = buttons.current.get(`${moved.dir}-${moved.to}`);
    const other = buttons.current.get(`${moved.dir === 'up' ? 'down' : 'up'}-${moved.to}`);
    (same && !same.disabled ? same : other)?.focus();
    setMoved(null);
  }, [moved]);
  const move = (i: number, dir: 'up' | 'down') => {
    const delta = dir === 'up' ? -1 : 1;
    onChange(moveGroup(match, i, delta));
    setMoved({ to: i + delta, dir });
  };

  return (
    <Stack gap="xs">
      <div>
        <Text size="sm" fw={500}>
          {t('dedup.groupsLabel')}
        </Text>
        <Text size="xs" c="dimmed">
          {t('dedup.groupsHelp')}
        </Text>
      </div>
      {match.map((g, i) => {
        const problem = problems[i];
        const message = problem ? t(problem.key, { of: problem.of }) : errors[i];
        const n = i + 1;
        return (
          <Paper key={i} withBorder p="sm" data-testid={`group-${i}`} style={{ borderColor: message ? 'var(--mantine-color-red-5)' : undefined }}>
            <Group justify="space-between" wrap="nowrap" align="flex-start">
              <Text size="sm" fw={600} data-testid={`group-${i}-title`}>
                {t('dedup.groupTitle', { n })}: {t(i === 0 ? 'dedup.groupFirst' : 'dedup.groupNext', { fields: fieldsText(g) })}
              </Text>
              {!readOnly && (
                <Group gap={4} wrap="nowrap">
                  <ActionIcon
                    ref={(el) => void buttons.current.set(`up-${i}`, el)}
                    variant="subtle"
                    color="gray"
                    disabled={i === 0}
                    onClick={() => move(i, 'up')}
                    aria-label={t('dedup.moveUp', { n })}
                  >
                    <IconArrowUp size={16} />
                  </ActionIcon>
                  <ActionIcon
                    ref={(el) => void buttons.current.set(`down-${i}`, el)}
                    variant="subtle"
                    color="gray"
                    disabled={i === match.length - 1}
                    onClick={() => move(i, 'down')}
                    aria-label={t('dedup.moveDown', { n })}
                  >
                    <IconArrowDown size={16} />
                  </ActionIcon>
                  <ActionIcon variant="subtle" color="red" onClick={() => onChange(match.filter((_, j) => j !== i))} aria-label={t('dedup.removeGroup', { n })}>
                    <IconTrash size={16} />
                  </ActionIcon>
                </Group>
              )}
            </Group>
            <Checkbox.Group
              mt={6}
              label={t('dedup.groupFields', { n })}
              description={t('dedup.groupFieldsHelp')}
              value={g.fields}
              onChange={(fields) => setGroup(i, options.filter((f) => fields.includes(f)))}
              error={message}
            >
              <Group mt={6} gap="md">
                {options.map((f) => (
                  <Checkbox key={f} value={f} label={label(f) === f ? f : `${label(f)} (${f})`} disabled={readOnly} data-testid={`group-${i}-field-${f}`} />
                ))}
              </Group>
            </Checkbox.Group>
          </Paper>
        );
      })}
      <Text size="sm" c="dimmed" data-testid="groups-otherwise">
        {match.length > 0 && t(mode === 'update_only' ? 'dedup.otherwiseNotFound' : 'dedup.otherwiseCreate')}
      </Text>
      {!readOnly && (
        <Group>
          <Button variant="light" size="xs" leftSection={<IconPlus size={14} />} onClick={() => onChange([...match, { fields: [] }])} data-testid="add-group">
            {t('dedup.addGroup')}
          </Button>
        </Group>
      )}
    </Stack>
  );
}
