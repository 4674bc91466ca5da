import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { EntityField, MappingRule } from '@/api/types';
import { renderWithProviders } from '@/test/render';
import { MappingEditor } from './MappingEditor';
import { flattenSample, localPreview } from './model';

const FIELDS: EntityField[] = [
  { name: 'MobilePhone', type: 'string', required: false, read_only: false },
  { name: 'Email', type: 'string', required: false, read_only: false },
  { name: 'Name', type: 'string', required: true, read_only: false },
  { name: 'AccountId', type: 'guid', required: false, read_only: false, lookup_entity: 'Account' },
];
const SAMPLE = { first_name: 'Anna', last_name: 'Petrova', email: 'anna@example.com' };

function Harness({ onChange }: { onChange?: (m: MappingRule[]) => void }) {
  const [mapping, setMapping] = useState<MappingRule[]>([]);
  return (
    <MappingEditor
      fields={FIELDS}
      mapping={mapping}
      onChange={(m) => {
        setMapping(m);
        onChange?.(m);
      }}
      sampleFields={flattenSample(SAMPLE)}
      preview={localPreview(mapping, SAMPLE)}
    />
  );
}

describe('MappingEditor', () => {
  it('lists every field, required ones first and marked', () => {
    renderWithProviders(<Harness />);
    const rows = screen.getAllByTestId(/^mapping-row-/).map((r) => r.dataset.testid);
    expect(rows).toEqual(['mapping-row-Name', 'mapping-row-AccountId', 'mapping-row-Email', 'mapping-row-MobilePhone']);
    expect(within(screen.getByTestId('mapping-row-Name')).getByText('required')).toBeInTheDocument();
    expect(within(screen.getByTestId('mapping-row-Email')).queryByText('required')).toBeNull();
  });

  it('builds a template with field insertion and previews it', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness onChange={onChange} />);
    const row = screen.getByTestId('mapping-row-Name');
    await user.click(within(row).getByText('Template'));
    const box = within(row).getByLabelText('Template for Name');
    await user.click(within(row).getByRole('button', { name: 'Insert a field' }));
    await user.click(await screen.findByRole('menuitem', { name: /first_name/ }));
    fireEvent.change(box, { target: { value: `${(box as HTMLTextAreaElement).value} {{ last_name }}` } });
    expect(onChange).toHaveBeenLastCalledWith([{ target: 'Name', template: '{{ first_name }} {{ last_name }}' }]);
    expect(within(row).getByTestId('row-preview')).toHaveTextContent('Anna Petrova');
  });

  it('maps a field from the sample and removes the rule again', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness onChange={onChange} />);
    const row = screen.getByTestId('mapping-row-Email');
    await user.click(within(row).getByText('Field'));
    await user.type(within(row).getByLabelText('Source field for Email'), 'email');
    expect(onChange).toHaveBeenLastCalledWith([{ target: 'Email', source: 'email' }]);
    expect(within(row).getByTestId('row-preview')).toHaveTextContent('anna@example.com');
    await user.click(within(row).getByText('—'));
    expect(onChange).toHaveBeenLastCalledWith([]);
  });

  it('a lookup starts from the field’s lookup entity', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    renderWithProviders(<Harness onChange={onChange} />);
    await user.click(within(screen.getByTestId('mapping-row-AccountId')).getByText('Lookup'));
    expect(onChange).toHaveBeenLastCalledWith([
      { target: 'AccountId', lookup: { entity: 'Account', by: 'Name', value: '', create_if_missing: false } },
    ]);
  });

  it('shows the field labels in Russian', () => {
    renderWithProviders(<Harness />, { lang: 'ru' });
    expect(within(screen.getByTestId('mapping-row-Name')).getByText('обязательное')).toBeInTheDocument();
    expect(within(screen.getByTestId('mapping-row-Name')).getByText('Шаблон')).toBeInTheDocument();
  });
});
