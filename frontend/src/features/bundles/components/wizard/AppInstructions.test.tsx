import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { normalizeApp } from '@/features/connections/api';
import { TILDA, YANDEX_FORMS } from '@/test/catalog';
import { renderWithProviders } from '@/test/render';
import { AppInstructions } from './AppInstructions';

const URL = 'https://hooks.example.ru/hooks/abc123';
const tilda = normalizeApp(TILDA).triggers![0]!;

describe('AppInstructions', () => {
  it('renders the Markdown in the interface language with the webhook URL in place of {url}', () => {
    const { container } = renderWithProviders(<AppInstructions trigger={tilda} url={URL} />, { lang: 'ru' });
    const items = container.querySelectorAll('ol > li');
    expect(items).toHaveLength(2);
    expect(items[0]!.querySelector('strong')).toHaveTextContent('Настройки сайта → Формы → Webhook');
    expect(items[1]!.querySelector('code')).toHaveTextContent(URL);
    expect(container).not.toHaveTextContent('{url}');
  });

  it('follows the language: English text in English', () => {
    renderWithProviders(<AppInstructions trigger={tilda} url={URL} />);
    expect(screen.getByText('Site settings → Forms → Webhook')).toBeInTheDocument();
  });

  it('shows HTML in the text as text: no script, no element injected', () => {
    const hostile = {
      ...tilda,
      instructions: {
        en: 'Paste {url}\n\n<script>window.__pwned = 1</script>\n\n<img src=x onerror="window.__pwned = 2"> [click](javascript:alert(1))',
        ru: '',
      },
    };
    const { container } = renderWithProviders(<AppInstructions trigger={hostile} url={URL} />);
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('img')).toBeNull();
    expect(container).toHaveTextContent('<script>window.__pwned = 1</script>');
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
    // A javascript: link loses its address.
    expect(screen.getByText('click').closest('a')?.getAttribute('href') ?? '').not.toMatch(/javascript/i);
  });

  it('offers the body template to copy when the app gives one', () => {
    const trigger = normalizeApp(YANDEX_FORMS).triggers![0]!;
    renderWithProviders(<AppInstructions trigger={trigger} url={URL} />);
    expect(screen.getByTestId('body-template')).toHaveTextContent('{"name": "{{ name }}"}');
    expect(screen.getByRole('button', { name: 'Copy the request body' })).toBeInTheDocument();
  });
});
