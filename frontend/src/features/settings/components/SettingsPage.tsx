import { Tabs } from '@mantine/core';
import IconKey from '@tabler/icons-react/icons/IconKey';
import IconUsers from '@tabler/icons-react/icons/IconUsers';
import { useTranslation } from 'react-i18next';
import { Navigate, useNavigate, useParams } from 'react-router-dom';
import { PageHeader } from '@/components/PageHeader';
import { usePermissions } from '@/features/auth/api';
import { ApiKeysPanel } from './ApiKeysPanel';
import { UsersPanel } from './UsersPanel';

const TABS = ['api-keys', 'users'] as const;

export function SettingsPage() {
  const { t } = useTranslation();
  const { tab } = useParams();
  const navigate = useNavigate();
  const { isOwner } = usePermissions();
  if (!TABS.includes(tab as (typeof TABS)[number])) return <Navigate to="/settings/api-keys" replace />;
  return (
    <>
      <PageHeader title={t('settings.title')} description={t('settings.description')} />
      <Tabs value={tab} onChange={(v) => v && navigate(`/settings/${v}`)} keepMounted={false}>
        <Tabs.List mb="lg">
          <Tabs.Tab value="api-keys" leftSection={<IconKey size={16} />}>
            {t('settings.apiKeys')}
          </Tabs.Tab>
          <Tabs.Tab value="users" leftSection={<IconUsers size={16} />}>
            {t('settings.users')}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="api-keys">
          <ApiKeysPanel />
        </Tabs.Panel>
        <Tabs.Panel value="users">
          <UsersPanel isOwner={isOwner} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
