import { AppShell, Avatar, Burger, Group, Menu, NavLink, ScrollArea, Stack, Text, UnstyledButton } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import IconChevronDown from '@tabler/icons-react/icons/IconChevronDown';
import IconHistory from '@tabler/icons-react/icons/IconHistory';
import IconLayoutDashboard from '@tabler/icons-react/icons/IconLayoutDashboard';
import IconLogout from '@tabler/icons-react/icons/IconLogout';
import IconPlugConnected from '@tabler/icons-react/icons/IconPlugConnected';
import IconSettings from '@tabler/icons-react/icons/IconSettings';
import IconTransfer from '@tabler/icons-react/icons/IconTransfer';
import IconUserCircle from '@tabler/icons-react/icons/IconUserCircle';
import { useTranslation } from 'react-i18next';
import { Link, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { LanguageSwitch } from '@/components/LanguageSwitch';
import { Logo } from '@/components/Logo';
import { useLogout, useMe, useSaveLanguage } from '@/features/auth/api';
import { CreateWorkspaceModal, WorkspaceItems } from './WorkspaceSwitcher';

const NAV = [
  { to: '/', key: 'nav.dashboard', icon: IconLayoutDashboard, exact: true },
  { to: '/bundles', key: 'nav.bundles', icon: IconTransfer },
  { to: '/connections', key: 'nav.connections', icon: IconPlugConnected },
  { to: '/history', key: 'nav.history', icon: IconHistory },
  { to: '/settings', key: 'nav.settings', icon: IconSettings },
] as const;

export function AppLayout() {
  const { t } = useTranslation();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const navigate = useNavigate();
  const { data: me } = useMe();
  const logout = useLogout();
  const saveLanguage = useSaveLanguage();
  const [creating, { open: openCreate, close: closeCreate }] = useDisclosure();

  const initials = (me?.user.name || me?.user.email || '?')
    .split(/[\s@.]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((s) => s[0]?.toUpperCase())
    .join('');

  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('nav.toggle')} />
            <UnstyledButton component={Link} to="/" aria-label="bpmlink">
              <Logo withText />
            </UnstyledButton>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <LanguageSwitch onChange={saveLanguage} />
            <Menu position="bottom-end" withArrow shadow="md" width={300}>
              <Menu.Target>
                <UnstyledButton aria-label={t('nav.userMenu')} data-testid="user-menu">
                  <Group gap={8} wrap="nowrap">
                    <Avatar color="indigo" radius="xl" size={32}>
                      {initials}
                    </Avatar>
                    <Stack gap={0} visibleFrom="sm">
                      <Text size="sm" fw={500} lh={1.2}>
                        {me?.user.name || me?.user.email}
                      </Text>
                      <Text size="xs" c="dimmed" lh={1.2}>
                        {me?.workspace.name} · {me ? t(`roles.${me.role}`) : ''}
                      </Text>
                    </Stack>
                    <IconChevronDown size={14} />
                  </Group>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>{me?.user.email}</Menu.Label>
                <Menu.Item leftSection={<IconUserCircle size={16} />} component={Link} to="/settings/profile">
                  {t('nav.profile')}
                </Menu.Item>
                <Menu.Divider />
                {me && <WorkspaceItems me={me} onCreate={openCreate} />}
                <Menu.Divider />
                <Menu.Item
                  color="red"
                  leftSection={<IconLogout size={16} />}
                  onClick={() => logout.mutate(undefined, { onSettled: () => navigate('/login') })}
                >
                  {t('nav.logout')}
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label={t('nav.main')}>
        <AppShell.Section grow component={ScrollArea}>
          {NAV.map((item) => {
            const active = 'exact' in item ? location.pathname === item.to : location.pathname.startsWith(item.to);
            return (
              <NavLink
                key={item.to}
                component={Link}
                to={item.to}
                label={t(item.key)}
                leftSection={<item.icon size={18} stroke={1.6} />}
                active={active}
                onClick={close}
                variant="light"
                style={{ borderRadius: 'var(--mantine-radius-md)' }}
                mb={2}
              />
            );
          })}
        </AppShell.Section>
        <AppShell.Section>
          <Text size="xs" c="dimmed" px="sm">
            {me?.workspace.name}
          </Text>
        </AppShell.Section>
      </AppShell.Navbar>
      <CreateWorkspaceModal opened={creating} onClose={closeCreate} />
      <AppShell.Main bg="var(--mantine-color-gray-0)">
        <div style={{ maxWidth: 1200, margin: '0 auto' }}>
          <Outlet />
        </div>
      </AppShell.Main>
    </AppShell>
  );
}
