import { ActionIcon, Badge, Button, Group, Menu, Paper, Stack, Text, UnstyledButton } from '@mantine/core';
import { modals } from '@mantine/modals';
import IconArrowDown from '@tabler/icons-react/icons/IconArrowDown';
import IconArrowUp from '@tabler/icons-react/icons/IconArrowUp';
import IconPlus from '@tabler/icons-react/icons/IconPlus';
import IconTrash from '@tabler/icons-react/icons/IconTrash';
import { useTranslation } from 'react-i18next';
import { STEP_ACTIONS, type StepAction } from '@/api/types';
import { type DraftStep, MAX_STEPS, addStep, moveStep, removeStep, stepTitle } from './stepsModel';

export interface StepListProps {
  steps: DraftStep[];
  current: number;
  onSelect: (i: number) => void;
  /** The new list, and which step to show after the change. */
  onChange: (steps: DraftStep[], current: number) => void;
  /** Step index → has a problem (shown as a red mark). */
  invalid?: Set<number>;
  readOnly?: boolean;
}

/** The bundle's steps in order: select one to edit, add (by action), move up/down, delete (confirmed). */
export function StepList({ steps, current, onSelect, onChange, invalid, readOnly }: StepListProps) {
  const { t } = useTranslation();
  const add = (action: StepAction) => {
    const next = addStep(steps, action);
    onChange(next, next.length - 1);
  };
  const confirmDelete = (i: number) =>
    modals.openConfirmModal({
      title: t('steps.deleteTitle'),
      children: <Text size="sm">{t('steps.deleteText', { name: stepTitle(steps[i]!, t) })}</Text>,
      labels: { confirm: t('common.delete'), cancel: t('common.cancel') },
      confirmProps: { color: 'red', 'data-testid': 'confirm-delete-step' } as Record<string, string>,
      onConfirm: () => onChange(removeStep(steps, i), Math.max(0, Math.min(current, steps.length - 2))),
    });

  return (
    <Stack gap="xs" data-testid="step-list" role="list" aria-label={t('steps.title')}>
      {steps.map((s, i) => (
        <Paper
          key={`${s.key}-${i}`}
          withBorder
          p="xs"
          role="listitem"
          data-testid={`step-item-${i}`}
          style={{ borderColor: i === current ? 'var(--mantine-color-blue-5)' : invalid?.has(i) ? 'var(--mantine-color-red-5)' : undefined }}
        >
          <Group gap="xs" wrap="nowrap">
            <Badge size="sm" variant={i === current ? 'filled' : 'outline'} circle>
              {i + 1}
            </Badge>
            <UnstyledButton onClick={() => onSelect(i)} style={{ flex: 1, minWidth: 0 }} aria-current={i === current ? 'step' : undefined} data-testid={`select-step-${i}`}>
              <Text size="sm" fw={600} truncate>
                {stepTitle(s, t)}
              </Text>
              <Text size="xs" c="dimmed" truncate>
                {t(`steps.action.${s.action}.title`)}
                {s.entity ? ` · ${s.entity}` : ''} · <code>steps.{s.key}</code>
              </Text>
            </UnstyledButton>
            {!readOnly && (
              <Group gap={2} wrap="nowrap">
                <ActionIcon variant="subtle" color="gray" disabled={i === 0} onClick={() => onChange(moveStep(steps, i, -1), i - 1)} aria-label={t('steps.moveUp', { name: stepTitle(s, t) })}>
                  <IconArrowUp size={16} />
                </ActionIcon>
                <ActionIcon variant="subtle" color="gray" disabled={i === steps.length - 1} onClick={() => onChange(moveStep(steps, i, 1), i + 1)} aria-label={t('steps.moveDown', { name: stepTitle(s, t) })}>
                  <IconArrowDown size={16} />
                </ActionIcon>
                <ActionIcon variant="subtle" color="red" disabled={steps.length === 1} onClick={() => confirmDelete(i)} aria-label={t('steps.delete', { name: stepTitle(s, t) })}>
                  <IconTrash size={16} />
                </ActionIcon>
              </Group>
            )}
          </Group>
        </Paper>
      ))}
      {!readOnly && (
        <Menu position="bottom-start" width={340} withinPortal>
          <Menu.Target>
            <Button variant="light" leftSection={<IconPlus size={16} />} disabled={steps.length >= MAX_STEPS} data-testid="add-step">
              {t('steps.add')}
            </Button>
          </Menu.Target>
          <Menu.Dropdown>
            {STEP_ACTIONS.map((a) => (
              <Menu.Item key={a} onClick={() => add(a)} data-testid={`add-step-${a}`}>
                <Text size="sm" fw={600}>
                  {t(`steps.action.${a}.title`)}
                </Text>
                <Text size="xs" c="dimmed">
                  {t(`steps.action.${a}.help`)}
                </Text>
              </Menu.Item>
            ))}
          </Menu.Dropdown>
        </Menu>
      )}
    </Stack>
  );
}
