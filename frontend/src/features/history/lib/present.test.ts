import { describe, expect, it } from 'vitest';
import { changeRows, decodeUrl, fieldRows, systemName } from './present';

describe('decodeUrl', () => {
  it('decodes an OData query as a person reads it', () => {
    const sent = "https://crm.example/0/odata/Contact?%24filter=tolower(Email)%20eq%20%27anna%40example.com%27&%24top=2";
    expect(decodeUrl(sent)).toBe("https://crm.example/0/odata/Contact?$filter=tolower(Email) eq 'anna@example.com'&$top=2");
  });

  it('keeps a malformed escape as sent', () => {
    expect(decodeUrl('https://x.example/a?q=100%&b=%D0%90')).toBe('https://x.example/a?q=100%&b=А');
  });
});

describe('systemName', () => {
  const apps = [{ name: 'tilda', label: { en: 'Tilda', ru: 'Tilda' } }, { name: 'http_polling', label: { en: 'HTTP API', ru: 'HTTP API' } }];

  it("names bpm'online and the source apps from the catalog", () => {
    expect(systemName('bpmonline', apps, 'ru')).toBe("bpm'online");
    expect(systemName('tilda', apps, 'ru')).toBe('Tilda');
    expect(systemName('http_polling', apps, 'en')).toBe('HTTP API');
    expect(systemName('unknown_app', apps, 'en')).toBe('unknown_app');
  });
});

describe('fieldRows and changeRows', () => {
  it('flattens nested data into field/value rows', () => {
    expect(fieldRows({ Email: 'a@b.ru', address: { city: 'Москва' }, tags: ['x'], Phone: null })).toEqual([
      { field: 'Email', value: 'a@b.ru' },
      { field: 'address.city', value: 'Москва' },
      { field: 'tags', value: '["x"]' },
      { field: 'Phone', value: '—' },
    ]);
    expect(fieldRows(null)).toEqual([]);
  });

  it('turns an update into old → new rows', () => {
    expect(changeRows({ Name: ['Анна', 'Анна Смит'], MobilePhone: [null, '+79120000000'] })).toEqual([
      { field: 'Name', old: 'Анна', new: 'Анна Смит' },
      { field: 'MobilePhone', old: '—', new: '+79120000000' },
    ]);
  });
});
