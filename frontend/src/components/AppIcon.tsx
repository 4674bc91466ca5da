import { ThemeIcon } from '@mantine/core';
import IconApi from '@tabler/icons-react/icons/IconApi';
import IconBrandStackshare from '@tabler/icons-react/icons/IconBrandStackshare';
import IconDatabase from '@tabler/icons-react/icons/IconDatabase';
import IconFileSpreadsheet from '@tabler/icons-react/icons/IconFileSpreadsheet';
import IconPlug from '@tabler/icons-react/icons/IconPlug';
import IconWebhook from '@tabler/icons-react/icons/IconWebhook';

const ICONS: Record<string, typeof IconPlug> = {
  bpmonline: IconBrandStackshare,
  webhook: IconWebhook,
  http_polling: IconApi,
  sql_polling: IconDatabase,
  csv_import: IconFileSpreadsheet,
};
const COLORS: Record<string, string> = {
  bpmonline: 'indigo',
  webhook: 'grape',
  http_polling: 'cyan',
  sql_polling: 'orange',
  csv_import: 'teal',
};

export function AppIcon({ app, size = 36 }: { app: string; size?: number }) {
  const Icon = ICONS[app] ?? IconPlug;
  return (
    <ThemeIcon size={size} radius="md" variant="light" color={COLORS[app] ?? 'gray'}>
      <Icon size={size * 0.6} stroke={1.6} />
    </ThemeIcon>
  );
}
