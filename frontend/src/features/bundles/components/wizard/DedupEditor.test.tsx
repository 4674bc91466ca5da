import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { MappingRule } from '@/api/types';
import { renderWithProviders } from '@/test/render';
import type { DedupPolicy } from '../../api/dedup';
import { DedupEditor } from './DedupEditor';

const MAPPING: MappingRule[] = [
  { target: 'Name', template: '{{ first_name }}' },
  { target: 'Email', source: 'email' },
  { target: 'MobilePhone', source: 'phone' },
];
const CAPTIONS: Record<string, string> = { MobilePhone: 'Мобильный телефон', Email: 'Email' };
const policy = (over: Partial<DedupPolicy> = {}): DedupPolicy => ({ mode: 'update_if_found', match: [], compare: {}, on_several: 'newest', update_rules: {}, ...over });

function Harness({ initial, onChange }: { initial: DedupPolicy; onChange: (d: DedupPolicy) => void }) {
  const [dedup, setDedup] = useState(initial);
  return (
    <DedupEditor
      dedup={dedup}
      mapping={MAPPING}
      label={(f) => CAPTIONS[f] ?? f}
      onChange={(d) => {
        setDedup(d);
        onChange(d);
      }}
    />
  );
}

const last = (fn: ReturnType<typeof vi.fn>) => fn.mock.calls.at(-1)![0] as DedupPolicy;
const titles = () => screen.getAllByTestId(/^group-\d+-title$/).map((t) => t.textContent);

describe('DedupEditor: search groups', () => {
  it('offers the modes; choosing a search mode opens a first group of the mapped fields', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness initial={policy({ mode: 'always_create' })} onChange={onChange} />);
    expect(screen.getAllByRole('radio')).toHaveLength(4);
    expect(screen.queryByTestId('group-0')).toBeNull();
    await user.click(screen.getByLabelText('Update if found, otherwise create'));
    const boxes = within(screen.getByTestId('group-0')).getAllByRole('checkbox');
    expect(boxes.map((b) => b.getAttribute('value'))).toEqual(['Name', 'Email', 'MobilePhone']);
    expect(last(onChange).match).toEqual([{ fields: [] }]);
  });

  it('builds phone, otherwise e-mail, otherwise create; the text says the order', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness initial={policy({ match: [{ fields: [] }] })} onChange={onChange} />);
    await user.click(screen.getByTestId('group-0-field-MobilePhone'));
    await user.click(screen.getByTestId('add-group'));
    await user.click(screen.getByTestId('group-1-field-Email'));
    expect(titles()).toEqual(['Group 1: Search by Мобильный телефон', 'Group 2: otherwise by Email']);
    expect(screen.getByTestId('groups-otherwise')).toHaveTextContent('otherwise create a new record');
    expect(screen.getByText(/first group that finds a record decides/)).toBeInTheDocument();
    expect(last(onChange)).toEqual({
      mode: 'update_if_found',
      match: [{ fields: ['MobilePhone'] }, { fields: ['Email'] }],
      compare: { MobilePhone: { as: 'phone' }, Email: { as: 'email', gmail: false } },
      on_several: 'newest',
      update_rules: { Name: 'overwrite', Email: 'overwrite', MobilePhone: 'overwrite' },
    });
  });

  it('several fields in a group must all match, in one title', async () => {
    const user = userEvent.setup();
    renderWithProviders(<Harness initial={policy({ match: [{ fields: ['Name'] }] })} onChange={vi.fn()} />);
    await user.click(screen.getByTestId('group-0-field-Email'));
    expect(titles()).toEqual(['Group 1: Search by Name and Email']);
  });

  it('reorders with the keyboard and deletes a group', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness initial={policy({ match: [{ fields: ['Email'] }, { fields: ['MobilePhone'] }, { fields: ['Name'] }] })} onChange={onChange} />);
    expect(screen.getByRole('button', { name: 'Move group 1 up' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Move group 3 down' })).toBeDisabled();
    screen.getByRole('button', { name: 'Move group 2 up' }).focus();
    await user.keyboard('{Enter}');
    expect(last(onChange).match).toEqual([{ fields: ['MobilePhone'] }, { fields: ['Email'] }, { fields: ['Name'] }]);
    // The focus went with the group, to the button that still works at the top: its "down".
    expect(screen.getByRole('button', { name: 'Move group 1 down' })).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(last(onChange).match).toEqual([{ fields: ['Email'] }, { fields: ['MobilePhone'] }, { fields: ['Name'] }]);
    expect(screen.getByRole('button', { name: 'Move group 2 down' })).toHaveFocus();
    await user.keyboard(' ');
    expect(last(onChange).match).toEqual([{ fields: ['Email'] }, { fields: ['Name'] }, { fields: ['MobilePhone'] }]);
    await user.click(screen.getByRole('button', { name: 'Delete group 2' }));
    expect(last(onChange).match).toEqual([{ fields: ['Email'] }, { fields: ['MobilePhone'] }]);
    expect(titles()).toEqual(['Group 1: Search by Email', 'Group 2: otherwise by Мобильный телефон']);
  });

  it('says when a group is empty or repeats an earlier one, and stops saying it once fixed', async () => {
    const user = userEvent.setup();
    renderWithProviders(<Harness initial={policy({ match: [{ fields: ['Email'] }, { fields: ['Email'] }, { fields: [] }] })} onChange={vi.fn()} />);
    expect(within(screen.getByTestId('group-1')).getByText('This group repeats group 1: it would never find anything new.')).toBeInTheDocument();
    expect(within(screen.getByTestId('group-2')).getByText('Choose at least one field for this group.')).toBeInTheDocument();
    await user.click(screen.getByTestId('group-1-field-MobilePhone'));
    await user.click(screen.getByTestId('group-2-field-Name'));
    expect(screen.queryByText(/repeats group/)).toBeNull();
    expect(screen.queryByText('Choose at least one field for this group.')).toBeNull();
  });

  it('update_only ends the groups with "not found", and has its own text in Russian', () => {
    renderWithProviders(<Harness initial={policy({ mode: 'update_only', match: [{ fields: ['MobilePhone'] }, { fields: ['Email'] }] })} onChange={vi.fn()} />, { lang: 'ru' });
    expect(titles()).toEqual(['Группа 1: Искать по: Мобильный телефон', 'Группа 2: иначе по: Email']);
    expect(screen.getByTestId('groups-otherwise')).toHaveTextContent('иначе отметить элемент как «не найдено»');
  });
});

describe('DedupEditor: comparison and several matches', () => {
  it('a phone field: by number (any format) or exactly as written', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness initial={policy({ match: [{ fields: ['MobilePhone'] }] })} onChange={onChange} />, { lang: 'ru' });
    const row = screen.getByTestId('compare-MobilePhone');
    expect(within(row).getByLabelText('Сравнивать по номеру (любой формат)')).toBeChecked();
    await user.click(within(row).getByText('Точно как записано'));
    expect(last(onChange).compare).toEqual({ MobilePhone: { as: 'exact' } });
    expect(within(row).queryByRole('switch')).toBeNull();
  });

  it('an e-mail field: always without case, and the gmail switch', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness initial={policy({ match: [{ fields: ['Email'] }] })} onChange={onChange} />, { lang: 'ru' });
    const row = screen.getByTestId('compare-Email');
    expect(within(row).getByText('Регистр букв не важен.')).toBeInTheDocument();
    expect(within(row).queryByText('Точно как записано')).toBeNull();
    await user.click(within(row).getByLabelText('gmail.com = googlemail.com, точки не важны'));
    expect(last(onChange).compare).toEqual({ Email: { as: 'email', gmail: true } });
  });

  it('a text field: exact unless "ignore case and ё/е" is on', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness initial={policy({ match: [{ fields: ['Name'] }] })} onChange={onChange} />, { lang: 'ru' });
    const box = within(screen.getByTestId('compare-Name')).getByLabelText('Без учёта регистра и ё/е');
    expect(box).not.toBeChecked();
    await user.click(box);
    expect(last(onChange).compare).toEqual({ Name: { as: 'text', ignore_case: true } });
    await user.click(box);
    expect(last(onChange).compare).toEqual({ Name: { as: 'exact' } });
  });

  it('only the fields searched by are compared', () => {
    renderWithProviders(<Harness initial={policy({ match: [{ fields: ['Email'] }] })} onChange={vi.fn()} />);
    expect(screen.getAllByTestId(/^compare-/).map((r) => r.getAttribute('data-testid'))).toEqual(['compare-Email']);
  });

  it('several matches: the four choices, for the update modes only', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    const { unmount } = renderWithProviders(<Harness initial={policy({ match: [{ fields: ['Email'] }] })} onChange={onChange} />, { lang: 'ru' });
    const group = screen.getByRole('radiogroup', { name: 'Если найдено несколько записей' });
    expect(within(group).getAllByRole('radio').map((r) => r.getAttribute('value'))).toEqual(['newest', 'oldest', 'skip', 'update_all']);
    expect(within(group).getByLabelText('Обновить последнюю изменённую')).toBeChecked();
    await user.click(within(group).getByLabelText('Пропустить как неоднозначную'));
    expect(last(onChange).on_several).toBe('skip');
    await user.click(within(group).getByLabelText('Обновить все (до 10)'));
    expect(last(onChange).on_several).toBe('update_all');
    unmount();
    renderWithProviders(<Harness initial={policy({ mode: 'skip_if_found', match: [{ fields: ['Email'] }] })} onChange={vi.fn()} />);
    expect(screen.queryByText('If several records are found')).toBeNull();
    expect(screen.queryByText('When updating')).toBeNull();
  });

  it('update rules per mapped field', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness initial={policy({ match: [{ fields: ['Email'] }] })} onChange={onChange} />);
    await user.click(within(screen.getByTestId('rule-Name')).getByText('Fill if empty'));
    expect(last(onChange).update_rules).toEqual({ Name: 'fill_if_empty', Email: 'overwrite', MobilePhone: 'overwrite' });
  });
});
