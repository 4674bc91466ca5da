import { ThemeIcon } from '@mantine/core';
import { IconApi, IconBrandStackshare, IconDatabase, IconFileSpreadsheet, IconPlug, IconWebhook } from '@tabler/icons-react';

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
