import { SegmentedControl, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { type DraftStep, stepTitle } from './stepsModel';

/** Which step the page edits, when the bundle has several (the mapping and duplicates pages). */
export function StepPicker({ steps, current, onSelect, enabled }: { steps: DraftStep[]; current: number; onSelect: (i: number) => void; enabled?: (s: DraftStep) => boolean }) {
  const { t } = useTranslation();
  if (steps.length < 2) return null;
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500} id="step-picker-label">
        {t('steps.pickStep')}
      </Text>
      <SegmentedControl
        aria-labelledby="step-picker-label"
        value={String(current)}
        onChange={(v) => onSelect(Number(v))}
        data={steps.map((s, i) => ({ value: String(i), label: `${i + 1}. ${stepTitle(s, t)}`, disabled: enabled ? !enabled(s) : false }))}
        data-testid="step-picker"
        style={{ alignSelf: 'flex-start' }}
      />
    </Stack>
  );
}
