import { ActionIcon, Anchor, Code, CopyButton, Group, Stack, Text, Tooltip, TypographyStylesProvider } from '@mantine/core';
import IconCheck from '@tabler/icons-react/icons/IconCheck';
import IconCopy from '@tabler/icons-react/icons/IconCopy';
import Markdown from 'react-markdown';
import { useTranslation } from 'react-i18next';
import type { AppTrigger } from '@/api/types';
import { localized } from '@/i18n';

/**
 * A source app's set-up steps (Markdown from the catalog, in the interface language) with `{url}`
 * replaced by the bundle's webhook URL, and the request body to paste when the app gives one.
 * Raw HTML in the text is shown as text (react-markdown builds elements, it never injects markup).
 */
export function AppInstructions({ trigger, url }: { trigger: AppTrigger; url: string }) {
  const { t } = useTranslation();
  const text = localized(trigger.instructions).replaceAll('{url}', url);
  if (!text && !trigger.body_template) return null;
  return (
    <Stack gap="xs" data-testid="app-instructions">
      {text && (
        <TypographyStylesProvider fz="sm" p={0}>
          <Markdown
            components={{
              a: ({ href, children }) => (
                <Anchor href={href} target="_blank" rel="noopener noreferrer">
                  {children}
                </Anchor>
              ),
            }}
          >
            {text}
          </Markdown>
        </TypographyStylesProvider>
      )}
      {trigger.body_template && (
        <Stack gap={4}>
          <Group justify="space-between">
            <Text size="sm" fw={500}>
              {t('wizard.bodyTemplate')}
            </Text>
            <CopyButton value={trigger.body_template} timeout={1500}>
              {({ copied, copy }) => (
                <Tooltip label={copied ? t('common.copied') : t('common.copy')} withArrow>
                  <ActionIcon variant="subtle" color={copied ? 'teal' : 'gray'} onClick={copy} aria-label={t('wizard.copyBodyTemplate')}>
                    {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                  </ActionIcon>
                </Tooltip>
              )}
            </CopyButton>
          </Group>
          <Code block style={{ fontSize: 12 }} data-testid="body-template">
            {trigger.body_template}
          </Code>
        </Stack>
      )}
    </Stack>
  );
}
