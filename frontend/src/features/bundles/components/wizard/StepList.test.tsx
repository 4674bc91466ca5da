import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { renderWithProviders } from '@/test/render';
import { StepList } from './StepList';
import { type DraftStep, newStep } from './stepsModel';

function Harness({ initial }: { initial: DraftStep[] }) {
  const [steps, setSteps] = useState(initial);
  const [current, setCurrent] = useState(0);
  return (
    <>
      <StepList steps={steps} current={current} onSelect={setCurrent} onChange={(s, c) => (setSteps(s), setCurrent(c))} />
      <output data-testid="keys">{steps.map((s) => s.key).join(',')}</output>
      <output data-testid="current">{current}</output>
    </>
  );
}

const named = (key: string, name: string): DraftStep => ({ ...newStep('create_record', []), key, name, entity: 'Contact' });

describe('StepList', () => {
  it('adds a step by action, each action with its description', async () => {
    const user = userEvent.setup();
    renderWithProviders(<Harness initial={[named('contact', 'Контакт')]} />, { lang: 'ru' });
    await user.click(screen.getByRole('button', { name: 'Добавить шаг' }));
    const item = await screen.findByTestId('add-step-create_activity');
    expect(item).toHaveTextContent('Создать задачу');
    expect(item).toHaveTextContent('Задача (активность)');
    await user.click(item);
    expect(screen.getByTestId('keys')).toHaveTextContent('contact,step');
    expect(screen.getByTestId('current')).toHaveTextContent('1');
    expect(screen.getByTestId('step-item-1')).toHaveTextContent('Activity');
  });

  it('moves a step with the keyboard, and the first cannot move up', async () => {
    const user = userEvent.setup();
    renderWithProviders(<Harness initial={[named('contact', 'Контакт'), named('lead', 'Лид')]} />, { lang: 'ru' });
    expect(screen.getByRole('button', { name: 'Поднять шаг «Контакт»' })).toBeDisabled();
    screen.getByRole('button', { name: 'Поднять шаг «Лид»' }).focus();
    await user.keyboard('{Enter}');
    expect(screen.getByTestId('keys')).toHaveTextContent('lead,contact');
    expect(screen.getByTestId('current')).toHaveTextContent('0');
  });

  it('deletes only after a confirmation', async () => {
    const user = userEvent.setup();
    renderWithProviders(<Harness initial={[named('contact', 'Контакт'), named('lead', 'Лид')]} />, { lang: 'ru' });
    await user.click(screen.getByRole('button', { name: 'Удалить шаг «Лид»' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('Шаг «Лид» будет удалён');
    await user.click(within(dialog).getByRole('button', { name: 'Отмена' }));
    expect(screen.getByTestId('keys')).toHaveTextContent('contact,lead');
    await user.click(screen.getByRole('button', { name: 'Удалить шаг «Лид»' }));
    await user.click(await screen.findByTestId('confirm-delete-step'));
    expect(screen.getByTestId('keys')).toHaveTextContent(/^contact$/);
  });
});
