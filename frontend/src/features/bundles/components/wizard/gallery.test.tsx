import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { AppIcon } from '@/components/AppIcon';
import { normalizeApp } from '@/features/connections/api';
import { CATALOG } from '@/test/catalog';
import { renderWithProviders } from '@/test/render';
import { filterApps, normalizeSearch } from './gallery';
import { SourceGallery } from './SourceGallery';

const apps = CATALOG.map(normalizeApp);
const found = (query: string, category: Parameters<typeof filterApps>[2] = 'all') => filterApps(apps, query, category).map((a) => a.name);

describe('gallery search', () => {
  it('finds an app by its name in either alphabet, whatever the case', () => {
    expect(found('тильда')).toEqual(['tilda']);
    expect(found('TILDA')).toEqual(['tilda']);
    expect(found('Яндекс')).toEqual(['yandex_forms']);
    expect(found('yandex forms')).toEqual(['yandex_forms']);
  });

  it('finds by description in ru and en and by keyword', () => {
    expect(found('заявки с форм')).toEqual(['tilda']);
    expect(found('leads from the forms')).toEqual(['tilda']);
    expect(found('лендинг')).toEqual(['tilda']);
    expect(found('сделки')).toEqual(['amocrm']);
  });

  it('treats ё and е alike, both ways', () => {
    expect(normalizeSearch(' Ёлка  ЕЛКА ')).toBe('елка елка');
    expect(found('елка')).toEqual(['yandex_forms']);
    expect(found('ёлка')).toEqual(['yandex_forms']);
    expect(found('анкёта')).toEqual(['yandex_forms']);
  });

  it('needs every word to match, and an empty query shows everything', () => {
    expect(found('tilda amocrm')).toEqual([]);
    expect(found('  ')).toEqual(['webhook', 'tilda', 'yandex_forms', 'amocrm']);
    expect(found('нет такой системы')).toEqual([]);
  });

  it('filters by category, combined with the query', () => {
    expect(found('', 'forms')).toEqual(['tilda', 'yandex_forms']);
    expect(found('', 'crm')).toEqual(['amocrm']);
    expect(found('', 'generic')).toEqual(['webhook']);
    expect(found('', 'shops')).toEqual([]);
    expect(found('яндекс', 'crm')).toEqual([]);
  });
});

describe('SourceGallery', () => {
  it('shows the title, narrows by search and category, and says when nothing is found (ru)', async () => {
    const user = userEvent.setup();
    renderWithProviders(<SourceGallery apps={apps} selected="" onPick={vi.fn()} />, { lang: 'ru' });
    expect(screen.getByRole('heading', { name: "Выберите систему, из которой вы хотите загружать данные в bpm'online" })).toBeInTheDocument();
    await user.type(screen.getByTestId('app-search'), 'тильда');
    expect(screen.getByTestId('source-app-tilda')).toBeInTheDocument();
    expect(screen.queryByTestId('source-app-webhook')).not.toBeInTheDocument();
    await user.clear(screen.getByTestId('app-search'));
    await user.click(screen.getByRole('radio', { name: 'CRM и чаты' }));
    expect(screen.getByTestId('source-app-amocrm')).toBeInTheDocument();
    expect(screen.queryByTestId('source-app-tilda')).not.toBeInTheDocument();
    await user.type(screen.getByTestId('app-search'), 'тильда');
    expect(screen.getByTestId('gallery-empty')).toHaveTextContent('По запросу «тильда» ничего не нашлось');
    await user.click(screen.getByRole('button', { name: 'Показать все системы' }));
    expect(screen.getAllByTestId(/^source-app-/)).toHaveLength(4);
  });

  it('is used from the keyboard: arrows move through the categories, Tab reaches a card, Enter picks it', async () => {
    const onPick = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<SourceGallery apps={apps} selected="tilda" onPick={onPick} />);
    await user.click(screen.getByTestId('app-search'));
    await user.tab();
    expect(screen.getByRole('radio', { name: 'All' })).toHaveFocus();
    await user.keyboard('{ArrowRight}');
    expect(screen.getByRole('radio', { name: 'Forms and sites' })).toBeChecked();
    expect(screen.getAllByTestId(/^source-app-/).map((e) => e.dataset.testid)).toEqual(['source-app-tilda', 'source-app-yandex_forms']);
    await user.keyboard('{ArrowRight}');
    expect(screen.getByRole('radio', { name: 'CRM and chats' })).toBeChecked();
    await user.click(screen.getByTestId('app-search'));
    await user.type(screen.getByTestId('app-search'), 'amo');
    // search → six category chips (one tab stop: a radio group) → the only card
    await user.tab();
    await user.tab();
    expect(screen.getByTestId('source-app-amocrm')).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(onPick).toHaveBeenCalledWith(expect.objectContaining({ name: 'amocrm' }));
  });
});

describe('AppIcon', () => {
  const KEYS = [
    'tilda', 'yandex_forms', 'typeform', 'jotform', 'elementor', 'amocrm', 'bitrix24', 'jivo', 'vk', 'telegram',
    'facebook_leads', 'woocommerce', 'shopify', 'yookassa', 'calendly', 'sheet_url',
    'bpmonline', 'webhook', 'http_polling', 'sql_polling', 'csv_import',
  ];

  it('has a mark of its own for every app of the catalog', () => {
    const { container } = renderWithProviders(
      <>
        {KEYS.map((k) => (
          <AppIcon key={k} app={k} />
        ))}
      </>,
    );
    expect([...container.querySelectorAll('[data-mark]')].map((e) => e.getAttribute('data-mark'))).toEqual(KEYS);
  });

  it('falls back to a neutral mark for an unknown app', () => {
    const { container } = renderWithProviders(<AppIcon app="no_such_app" />);
    expect(container.querySelector('[data-mark]')).toHaveAttribute('data-mark', 'fallback');
  });
});
