import { Box, Center, Group, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { LanguageSwitch } from '@/components/LanguageSwitch';
import { Logo } from '@/components/Logo';

/** The frame of the public pages: sign-in, sign-up, links from e-mails. */
export function AuthLayout({ title, subtitle, children, width = 400 }: { title: ReactNode; subtitle?: ReactNode; children: ReactNode; width?: number }) {
  return (
    <Box mih="100vh" style={{ background: 'linear-gradient(135deg, var(--mantine-color-indigo-0), var(--mantine-color-gray-0))' }}>
      <Group justify="flex-end" p="md">
        <LanguageSwitch />
      </Group>
      <Center px="md" pb={80}>
        <Paper withBorder shadow="md" p="xl" w={width} maw="100%">
          <Stack gap="lg">
            <Stack gap={4} align="center">
              <Logo size={40} />
              <Title order={2} ta="center">
                {title}
              </Title>
              {subtitle && (
                <Text c="dimmed" size="sm" ta="center">
                  {subtitle}
                </Text>
              )}
            </Stack>
            {children}
          </Stack>
        </Paper>
      </Center>
    </Box>
  );
}
