import { Button, Group, TextInput } from '@mantine/core';
import IconPlus from '@tabler/icons-react/icons/IconPlus';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { EntityField } from '@/api/types';
import { useEntityFields } from '@/features/connections/api';
import type { DraftStep } from './stepsModel';

const field = (name: string, required = false): EntityField => ({ name, caption: name, type: 'text', type_caption: '', required, read_only: false });

/**
 * What a step's mapping fills: its entity's columns; a process's parameters (free names: those
 * mapped so far); a file's `Url` (required) and `Name`.
 */
export function useStepTargets(step: DraftStep) {
  const own = step.action === 'run_process' || step.action === 'attach_file';
  const query = useEntityFields(own ? null : step.connection_id, own ? null : step.entity);
  if (step.action === 'run_process') return { ...query, isPending: false, isError: false as const, data: step.mapping.map((r) => field(r.target)) };
  if (step.action === 'attach_file') return { ...query, isPending: false, isError: false as const, data: [field('Url', true), field('Name')] };
  return query;
}

/** Adds a process parameter (a mapping target by its code). */
export function ParameterAdder({ taken, onAdd }: { taken: string[]; onAdd: (name: string) => void }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const valid = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !taken.includes(name);
  const add = () => {
    if (!valid) return;
    onAdd(name);
    setName('');
  };
  return (
    <Group gap="xs" align="flex-end">
      <TextInput
        label={t('steps.process.parameter')}
        placeholder="ContactId"
        value={name}
        onChange={(e) => setName(e.currentTarget.value.trim())}
        onKeyDown={(e) => e.key === 'Enter' && add()}
        error={name && !valid ? t('steps.process.parameterInvalid') : undefined}
        data-testid="process-parameter"
      />
      <Button variant="light" leftSection={<IconPlus size={14} />} disabled={!valid} onClick={add}>
        {t('steps.process.addParameter')}
      </Button>
    </Group>
  );
}
