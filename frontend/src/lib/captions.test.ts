import { describe, expect, it } from 'vitest';
import { captionFilter, captionLabel, matchesQuery } from './captions';

describe('captions', () => {
  it('labels by caption with the code beside it, the code alone when they are the same', () => {
    expect(captionLabel('Мобильный телефон', 'MobilePhone')).toBe('Мобильный телефон (MobilePhone)');
    expect(captionLabel('Email', 'Email')).toBe('Email');
    expect(captionLabel(undefined, 'UsrScore')).toBe('UsrScore');
  });

  it('matches the caption or the code, whatever the case, ё read as е', () => {
    expect(matchesQuery('мобильный', 'Мобильный телефон', 'MobilePhone')).toBe(true);
    expect(matchesQuery('mobile', 'Мобильный телефон', 'MobilePhone')).toBe(true);
    expect(matchesQuery('Подтвержден', 'Подтверждён', 'Confirmed')).toBe(true);
    expect(matchesQuery('подтверждён', 'Подтвержден', 'Confirmed')).toBe(true);
    expect(matchesQuery('email', 'Мобильный телефон', 'MobilePhone')).toBe(false);
  });

  it('filters Select options by label or value', () => {
    const options = [
      { value: 'Contact', label: 'Контакт (Contact)' },
      { value: 'Account', label: 'Контрагент (Account)' },
    ];
    const found = (search: string) => (captionFilter({ options, search, limit: 10 }) as typeof options).map((o) => o.value);
    expect(found('контр')).toEqual(['Account']);
    expect(found('contact')).toEqual(['Contact']);
  });
});
