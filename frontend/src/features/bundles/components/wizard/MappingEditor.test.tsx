import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { EntityField, MappingRule } from '@/api/types';
import { renderWithProviders } from '@/test/render';
import { MappingEditor } from './MappingEditor';
import { type SampleField, flattenSample, localPreview } from './model';

const FIELDS: EntityField[] = [
  { name: 'MobilePhone', caption: 'Мобильный телефон', type: 'string', type_caption: 'Строка', required: false, read_only: false },
  { name: 'Email', caption: 'Email', type: 'string', type_caption: 'Строка', required: false, read_only: false },
  { name: 'Name', caption: 'ФИО', type: 'string', type_caption: 'Строка', required: true, read_only: false },
  { name: 'AccountId', caption: 'Контрагент', type: 'guid', type_caption: 'Справочник: Контрагент', required: false, read_only: false, lookup_entity: 'Account' },
  { name: 'BirthDate', caption: 'Дата рождения', type: 'datetime', type_caption: 'Дата', required: false, read_only: false },
];
const SAMPLE = { first_name: 'Anna', last_name: 'Petrova', email: 'anna@example.com' };

function Harness({
  onChange,
  initial = [],
  profileTimeZone,
  sampleFields = flattenSample(SAMPLE),
}: {
  onChange?: (m: MappingRule[]) => void;
  initial?: MappingRule[];
  profileTimeZone?: string;
  sampleFields?: SampleField[];
}) {
  const [mapping, setMapping] = useState<MappingRule[]>(initial);
  return (
    <MappingEditor
      fields={FIELDS}
      mapping={mapping}
      onChange={(m) => {
        setMapping(m);
        onChange?.(m);
      }}
      sampleFields={sampleFields}
      preview={localPreview(mapping, SAMPLE)}
      profileTimeZone={profileTimeZone}
    />
  );
}

describe('MappingEditor', () => {
  it('lists every field, required ones first and marked', () => {
    renderWithProviders(<Harness />);
    const rows = screen.getAllByTestId(/^mapping-row-/).map((r) => r.dataset.testid);
    expect(rows).toEqual(['mapping-row-Name', 'mapping-row-AccountId', 'mapping-row-BirthDate', 'mapping-row-Email', 'mapping-row-MobilePhone']);
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

  it('a date conversion names the profile time zone as its default and takes another one', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    const initial = [{ target: 'BirthDate', source: 'born', convert: ['trim', 'date'] }];
    renderWithProviders(<Harness initial={initial} onChange={onChange} profileTimeZone="Europe/Moscow" />);
    const zone = within(screen.getByTestId('mapping-row-BirthDate')).getByLabelText('Time zone of the dates for BirthDate');
    expect(zone).toHaveAttribute('placeholder', 'Default: Europe/Moscow (your profile)');
    expect(zone).toHaveValue('');
    await user.type(zone, 'Asia/Tok');
    await user.click(await screen.findByRole('option', { name: 'Asia/Tokyo' }));
    expect(onChange).toHaveBeenLastCalledWith([{ target: 'BirthDate', source: 'born', convert: ['trim', { name: 'date', timezone: 'Asia/Tokyo' }] }]);
    expect(zone).toHaveValue('Asia/Tokyo');
  });

  it('a date step’s own time zone is shown; in Russian the default says it comes from the profile', () => {
    const initial = [
      { target: 'BirthDate', source: 'born', convert: [{ name: 'date', timezone: 'Asia/Tokyo' }] },
      { target: 'Email', source: 'email', convert: ['date'] },
    ];
    renderWithProviders(<Harness initial={initial} profileTimeZone="Europe/Moscow" />, { lang: 'ru' });
    expect(within(screen.getByTestId('mapping-row-BirthDate')).getByTestId('date-timezone')).toHaveValue('Asia/Tokyo');
    expect(within(screen.getByTestId('mapping-row-Email')).getByTestId('date-timezone')).toHaveAttribute(
      'placeholder',
      'По умолчанию: Europe/Moscow (из профиля)',
    );
    expect(within(screen.getByTestId('mapping-row-Name')).queryByTestId('date-timezone')).toBeNull();
  });

  it('shows each field as «Caption (Code)» with its type in words', () => {
    renderWithProviders(<Harness />, { lang: 'ru' });
    const row = within(screen.getByTestId('mapping-row-AccountId'));
    expect(row.getByText('Контрагент (AccountId)')).toBeInTheDocument();
    expect(row.getByText(/Справочник: Контрагент/)).toBeInTheDocument();
    expect(within(screen.getByTestId('mapping-row-MobilePhone')).getByText('Мобильный телефон (MobilePhone)')).toBeInTheDocument();
  });

  it.each(['Мобильный', 'mobile', 'МОБИЛЬНЫЙ ТЕЛ'])('finding «%s» finds MobilePhone by its caption or its code', async (query) => {
    const user = userEvent.setup();
    renderWithProviders(<Harness />, { lang: 'ru' });
    await user.type(screen.getByPlaceholderText('Найти поле'), query);
    const rows = screen.getAllByTestId(/^mapping-row-/).map((r) => r.dataset.testid);
    expect(rows).toEqual(['mapping-row-MobilePhone']);
  });

  it('shows the field labels in Russian', () => {
    renderWithProviders(<Harness />, { lang: 'ru' });
    expect(within(screen.getByTestId('mapping-row-Name')).getByText('обязательное')).toBeInTheDocument();
    expect(within(screen.getByTestId('mapping-row-Name')).getByText('Шаблон')).toBeInTheDocument();
  });

  it('finds a labelled field by its label, shows its example, and marks a field seen only in the sample', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    const fields: SampleField[] = [
      { path: 'Phone', label: 'Телефон', value: '+7 (912) 345-67-89', example: true },
      { path: 'Name', label: 'Имя', value: 'Ирина' },
      { path: 'Comment', value: 'перезвонить', fromSample: true },
    ];
    renderWithProviders(<Harness onChange={onChange} sampleFields={fields} />, { lang: 'ru' });
    const row = screen.getByTestId('mapping-row-MobilePhone');
    await user.click(within(row).getByText('Поле'));
    await user.click(within(row).getByTestId('source-field'));
    const option = (path: string) => document.querySelector(`[data-testid=source-field-option][data-path="${path}"]`);
    expect(option('Phone')).toHaveTextContent('напр. +7 (912) 345-67-89');
    expect(option('Name')).toHaveTextContent('Ирина');
    expect(option('Name')).not.toHaveTextContent('напр.');
    expect(option('Comment')).toHaveTextContent('из примера');
    expect(option('Phone')).not.toHaveTextContent('из примера');
    await user.type(within(row).getByTestId('source-field'), 'телеф');
    expect(option('Phone')).not.toBeNull();
    expect(option('Name')).toBeNull();
    await user.click(option('Phone')!);
    expect(onChange).toHaveBeenLastCalledWith([{ target: 'MobilePhone', source: 'Phone' }]);
  });
});
