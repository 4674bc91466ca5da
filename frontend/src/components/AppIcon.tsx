import { ThemeIcon } from '@mantine/core';
import IconApi from '@tabler/icons-react/icons/IconApi';
import IconBrandFacebook from '@tabler/icons-react/icons/IconBrandFacebook';
import IconBrandStackshare from '@tabler/icons-react/icons/IconBrandStackshare';
import IconBrandTelegram from '@tabler/icons-react/icons/IconBrandTelegram';
import IconBrandVk from '@tabler/icons-react/icons/IconBrandVk';
import IconDatabase from '@tabler/icons-react/icons/IconDatabase';
import IconFileSpreadsheet from '@tabler/icons-react/icons/IconFileSpreadsheet';
import IconPlug from '@tabler/icons-react/icons/IconPlug';
import IconTable from '@tabler/icons-react/icons/IconTable';
import IconWebhook from '@tabler/icons-react/icons/IconWebhook';

type Icon = typeof IconPlug;

/**
 * How each app is recognised: the universal ones by a light pictogram, the source apps by their
 * brand colour with a monogram (or a pictogram of the brand where one ships with the icon set).
 * Everything is drawn here: no image is fetched from anywhere.
 */
type Mark = { tone: 'light'; color: string; icon: Icon } | { tone: 'brand'; color: string; icon?: Icon; text?: string };

const APP_MARKS: Record<string, Mark> = {
  bpmonline: { tone: 'light', color: 'indigo', icon: IconBrandStackshare },
  webhook: { tone: 'light', color: 'grape', icon: IconWebhook },
  http_polling: { tone: 'light', color: 'cyan', icon: IconApi },
  sql_polling: { tone: 'light', color: 'orange', icon: IconDatabase },
  csv_import: { tone: 'light', color: 'teal', icon: IconFileSpreadsheet },
  tilda: { tone: 'brand', color: '#F4845F', text: 'T' },
  yandex_forms: { tone: 'brand', color: '#FC3F1D', text: 'Я' },
  typeform: { tone: 'brand', color: '#262627', text: 'Tf' },
  jotform: { tone: 'brand', color: '#FF6100', text: 'J' },
  elementor: { tone: 'brand', color: '#92003B', text: 'E' },
  amocrm: { tone: 'brand', color: '#339DC7', text: 'amo' },
  bitrix24: { tone: 'brand', color: '#2FC7F7', text: '24' },
  jivo: { tone: 'brand', color: '#00B956', text: 'Jv' },
  vk: { tone: 'brand', color: '#0077FF', icon: IconBrandVk },
  telegram: { tone: 'brand', color: '#229ED9', icon: IconBrandTelegram },
  facebook_leads: { tone: 'brand', color: '#1877F2', icon: IconBrandFacebook },
  woocommerce: { tone: 'brand', color: '#7F54B3', text: 'Woo' },
  shopify: { tone: 'brand', color: '#5E8E3E', text: 'S' },
  yookassa: { tone: 'brand', color: '#0070F0', text: 'Ю' },
  calendly: { tone: 'brand', color: '#006BFF', text: 'C' },
  sheet_url: { tone: 'brand', color: '#0F9D58', icon: IconTable },
};

export function AppIcon({ app, size = 36 }: { app: string; size?: number }) {
  const mark = APP_MARKS[app];
  if (mark?.tone === 'brand' && mark.text) {
    // A monogram: its font shrinks with the number of letters so «amo» fits like «T».
    const font = mark.text.length > 2 ? 9 : mark.text.length > 1 ? 11 : 14;
    return (
      <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" data-mark={app} style={{ flex: 'none' }}>
        <rect width="24" height="24" rx="5" fill={mark.color} />
        <text x="12" y="12.5" fill="#fff" fontSize={font} fontWeight={700} fontFamily="system-ui, sans-serif" textAnchor="middle" dominantBaseline="central">
          {mark.text}
        </text>
      </svg>
    );
  }
  const Icon = mark?.icon ?? IconPlug;
  return (
    <ThemeIcon size={size} radius="md" variant={mark?.tone === 'brand' ? 'filled' : 'light'} color={mark?.color ?? 'gray'} data-mark={mark ? app : 'fallback'} aria-hidden="true">
      <Icon size={size * 0.6} stroke={1.6} />
    </ThemeIcon>
  );
}
