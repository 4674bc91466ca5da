import { Tabs } from '@mantine/core';
import IconClipboardList from '@tabler/icons-react/icons/IconClipboardList';
import IconKey from '@tabler/icons-react/icons/IconKey';
import IconUserCircle from '@tabler/icons-react/icons/IconUserCircle';
import IconUsers from '@tabler/icons-react/icons/IconUsers';
import { useTranslation } from 'react-i18next';
import { Navigate, useNavigate, useParams } from 'react-router-dom';
import { PageHeader } from '@/components/PageHeader';
import { usePermissions } from '@/features/auth/api';
import { ApiKeysPanel } from './ApiKeysPanel';
import { AuditPanel } from './AuditPanel';
import { MembersPanel } from './MembersPanel';
import { ProfilePanel } from './ProfilePanel';

const TABS = ['profile', 'api-keys', 'members', 'audit'] as const;
/** Old addresses that still lead somewhere. */
const RENAMED: Record<string, (typeof TABS)[number]> = { users: 'members' };

export function SettingsPage() {
  const { t } = useTranslation();
  const { tab } = useParams();
  const navigate = useNavigate();
  const { isOwner } = usePermissions();
  if (tab && RENAMED[tab]) return <Navigate to={`/settings/${RENAMED[tab]}`} replace />;
  if (!TABS.includes(tab as (typeof TABS)[number])) return <Navigate to="/settings/profile" replace />;
  return (
    <>
      <PageHeader title={t('settings.title')} description={t('settings.description')} />
      <Tabs value={tab} onChange={(v) => v && navigate(`/settings/${v}`)} keepMounted={false}>
        <Tabs.List mb="lg">
          <Tabs.Tab value="profile" leftSection={<IconUserCircle size={16} />}>
            {t('settings.profile')}
          </Tabs.Tab>
          <Tabs.Tab value="api-keys" leftSection={<IconKey size={16} />}>
            {t('settings.apiKeys')}
          </Tabs.Tab>
          <Tabs.Tab value="members" leftSection={<IconUsers size={16} />}>
            {t('settings.members')}
          </Tabs.Tab>
          {(isOwner || tab === 'audit') && (
            <Tabs.Tab value="audit" leftSection={<IconClipboardList size={16} />}>
              {t('settings.audit')}
            </Tabs.Tab>
          )}
        </Tabs.List>
        <Tabs.Panel value="profile">
          <ProfilePanel />
        </Tabs.Panel>
        <Tabs.Panel value="api-keys">
          <ApiKeysPanel />
        </Tabs.Panel>
        <Tabs.Panel value="members">
          <MembersPanel />
        </Tabs.Panel>
        <Tabs.Panel value="audit">
          <AuditPanel />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
