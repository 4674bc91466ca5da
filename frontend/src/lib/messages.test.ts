import { describe, expect, it } from 'vitest';
import i18n from '@/i18n';
import { fieldErrorText, messageText } from './messages';

describe('messages in the user language', () => {
  it('renders a code with its params, a nested message first', async () => {
    await i18n.changeLanguage('ru');
    const error = { code: 'step_not_run', params: { where: 'mapping.LeadId', ref: 'lead', column: 'Id' }, text: 'mapping.LeadId reads steps.lead.Id…' };
    expect(messageText(i18n.t, { code: 'step_failed', params: { name: 'Задача', error }, text: 'step «Задача»: …' })).toBe(
      'шаг «Задача»: mapping.LeadId читает steps.lead.Id, но шаг «lead» не выполнялся',
    );
  });

  it("falls back to the api's English text for a code the dictionaries do not know", async () => {
    await i18n.changeLanguage('ru');
    expect(messageText(i18n.t, { code: 'something_new', params: {}, text: 'something new happened' })).toBe('something new happened');
    expect(fieldErrorText(i18n.t, { message: 'the key is used twice' })).toBe('the key is used twice');
    expect(fieldErrorText(i18n.t, { message: 'the key is used twice', code: 'step_key_twice', params: { step: 'lead' } })).toBe(
      'ключ «lead» используется дважды',
    );
  });

  it('renders a stored operation error, its list of field problems and nested conversions, in Russian', async () => {
    await i18n.changeLanguage('ru');
    const phone = { code: 'not_a_phone', params: { value: "'не телефон'" }, text: "'не телефон' is not a phone number" };
    const conversion = { code: 'conversion_failed', params: { step: 'phone_e164', problem: phone }, text: '…' };
    const errors = [
      { code: 'field_error', params: { field: 'Name', problem: { code: 'field_required_empty', params: {}, text: '…' } }, text: '…' },
      { code: 'field_error', params: { field: 'MobilePhone', problem: conversion }, text: '…' },
    ];
    expect(messageText(i18n.t, { code: 'mapping_failed', params: { errors }, text: 'Name: …' })).toBe(
      "Name: поле обязательное, но значение получилось пустым, MobilePhone: phone_e164: 'не телефон' — не номер телефона",
    );
  });

  it('renders a dedup note and a filtered verdict as stored by the worker, in Russian, plural by count', async () => {
    await i18n.changeLanguage('ru');
    const found = { code: 'dedup_matched', params: { count: 3, group: 2, values: ['Email = a@b'], ids: ['id1', 'id2', 'id3'] }, text: '…' };
    const note = { code: 'dedup_then', params: { first: found, then: { code: 'dedup_used_newest', params: {}, text: '…' } }, text: '…' };
    expect(messageText(i18n.t, note)).toBe('3 записи совпадают по группе 2 (Email = a@b): id1, id2, id3; взята изменённая последней');
    const op = { code: 'filter_op_equals', params: {}, text: 'equals' };
    const condition = { code: 'filter_condition', params: { field: 'city', op, value: "'Казань'" }, text: '…' };
    const why = { code: 'filter_value_is', params: { value: "'Москва'" }, text: '…' };
    expect(messageText(i18n.t, { code: 'filter_did_not_hold', params: { condition, why }, text: '…' })).toBe(
      "условие «city равно 'Казань'» не выполнено: значение — 'Москва'",
    );
  });

  it("renders the api's field codes and pydantic's types with their params", async () => {
    await i18n.changeLanguage('ru');
    expect(fieldErrorText(i18n.t, { message: 'String should have at least 1 character', code: 'field_string_too_short', params: { min_length: 1 } })).toBe(
      'не короче 1 симв.',
    );
    await i18n.changeLanguage('en');
    expect(fieldErrorText(i18n.t, { message: 'Field required', code: 'field_missing' })).toBe('required');
  });

  it('picks the Russian plural forms of a connection test by count', async () => {
    await i18n.changeLanguage('ru');
    const ok = (count: number) => messageText(i18n.t, { code: 'connected_as_user', params: { who: 'Supervisor', version: 4, count }, text: '' });
    expect(ok(1)).toBe('Подключено как Supervisor: OData 4 работает (прочитана 1 запись Contact).');
    expect(ok(3)).toBe('Подключено как Supervisor: OData 4 работает (прочитано 3 записи Contact).');
  });
});
