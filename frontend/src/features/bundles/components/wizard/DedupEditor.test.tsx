import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { Dedup, MappingRule } from '@/api/types';
import { renderWithProviders } from '@/test/render';
import { DedupEditor } from './DedupEditor';

const MAPPING: MappingRule[] = [
  { target: 'Name', template: '{{ first_name }}' },
  { target: 'Email', source: 'email' },
];

function Harness({ initial, onChange }: { initial: Dedup; onChange: (d: Dedup) => void }) {
  const [dedup, setDedup] = useState(initial);
  return (
    <DedupEditor
      dedup={dedup}
      mapping={MAPPING}
      onChange={(d) => {
        setDedup(d);
        onChange(d);
      }}
    />
  );
}

// The policy's groups, comparisons and choice among several matches, as the api answers them by default.
const GROUPS = { match: [], compare: {}, on_several: 'newest' as const };

describe('DedupEditor', () => {
  it('offers the modes, and match fields only after choosing a search mode', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness initial={{ ...GROUPS, mode: 'always_create', match_fields: [], update_rules: {} }} onChange={onChange} />);
    expect(screen.getAllByRole('radio')).toHaveLength(4);
    expect(screen.queryByText('Search by')).toBeNull();
    await user.click(screen.getByLabelText('Update if found, otherwise create'));
    expect(screen.getByText('Search by')).toBeInTheDocument();
  });

  it('match field checkboxes are exactly the mapped fields', () => {
    renderWithProviders(<Harness initial={{ ...GROUPS, mode: 'skip_if_found', match_fields: ['Phone'], update_rules: {} }} onChange={vi.fn()} />);
    const boxes = screen.getAllByRole('checkbox').map((b) => b.getAttribute('value'));
    expect(boxes).toEqual(['Name', 'Email']);
    // A stored match field that is not mapped any more is not shown as chosen.
    expect(screen.getAllByRole('checkbox').every((b) => !(b as HTMLInputElement).checked)).toBe(true);
  });

  it('update_if_found: choose Email and a rule per field', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness initial={{ ...GROUPS, mode: 'update_if_found', match_fields: [], update_rules: {} }} onChange={onChange} />);
    await user.click(screen.getByLabelText('Email'));
    expect(onChange).toHaveBeenLastCalledWith({
      ...GROUPS,
      mode: 'update_if_found',
      match_fields: ['Email'],
      update_rules: { Name: 'overwrite', Email: 'overwrite' },
    });
    await user.click(within(screen.getByTestId('rule-Name')).getByText('Fill if empty'));
    expect(onChange).toHaveBeenLastCalledWith({
      ...GROUPS,
      mode: 'update_if_found',
      match_fields: ['Email'],
      update_rules: { Name: 'fill_if_empty', Email: 'overwrite' },
    });
  });

  it('skip_if_found has no update rules', () => {
    renderWithProviders(<Harness initial={{ ...GROUPS, mode: 'skip_if_found', match_fields: ['Email'], update_rules: {} }} onChange={vi.fn()} />);
    expect(screen.queryByText('When updating')).toBeNull();
  });
});
