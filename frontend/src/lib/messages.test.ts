import { describe, expect, it } from 'vitest';
import i18n from '@/i18n';
import { fieldErrorText, messageText } from './messages';

describe('messages in the user language', () => {
  it('renders a code with its params, a nested message first', async () => {
    await i18n.changeLanguage('ru');
    const error = { code: 'step_not_run', params: { where: 'mapping.LeadId', ref: 'lead', column: 'Id' }, text: 'mapping.LeadId reads steps.lead.Id…' };
    expect(messageText(i18n.t, { code: 'step_failed', params: { name: 'Задача', error }, text: 'step «Задача»: …' })).toBe(
      'Шаг «Задача»: mapping.LeadId читает steps.lead.Id, но шаг «lead» не выполнялся',
    );
  });

  it("falls back to the api's English text for a code the dictionaries do not know", async () => {
    await i18n.changeLanguage('ru');
    expect(messageText(i18n.t, { code: 'something_new', params: {}, text: 'something new happened' })).toBe('something new happened');
    expect(fieldErrorText(i18n.t, { message: 'the key is used twice' })).toBe('the key is used twice');
    expect(fieldErrorText(i18n.t, { message: 'the key is used twice', code: 'step_key_twice', params: { step: 'lead' } })).toBe(
      'Ключ «lead» используется дважды',
    );
  });
});
