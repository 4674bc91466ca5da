import { ActionIcon, Alert, Badge, Button, Group, Menu, Modal, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import IconAlertTriangle from '@tabler/icons-react/icons/IconAlertTriangle';
import IconDots from '@tabler/icons-react/icons/IconDots';
import IconInfoCircle from '@tabler/icons-react/icons/IconInfoCircle';
import IconUserPlus from '@tabler/icons-react/icons/IconUserPlus';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import type { Invitation, Role, WorkspaceUser } from '@/api/types';
import { DataTable } from '@/components/DataTable';
import { errorMessage } from '@/components/ErrorState';
import { useAuthConfig, useLogout, useMe, usePermissions, useSwitchWorkspace } from '@/features/auth/api';
import { isApiError } from '@/lib/api-client';
import { formatDateTime } from '@/lib/format';
import { mapServerErrors } from '@/lib/form-errors';
import { isEmail } from '@/lib/validation';
import { useChangeRole, useInvitations, useInvite, useRemoveUser, useResetLink, useRevokeInvitation, useUsers } from '../api';
import { type LinkToPass, LinkModal } from './LinkModal';

const ROLES = ['owner', 'editor', 'viewer'] as const satisfies readonly Role[];

const isLastOwner = (e: unknown) => isApiError(e, 409) && e.code === 'last_owner';

export function MembersPanel() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { isOwner } = usePermissions();
  const me = useMe();
  const config = useAuthConfig();
  const users = useUsers();
  const invitations = useInvitations(isOwner);
  const invite = useInvite();
  const revokeInvitation = useRevokeInvitation();
  const changeRole = useChangeRole();
  const remove = useRemoveUser();
  const resetLink = useResetLink();
  const switchWorkspace = useSwitchWorkspace();
  const logout = useLogout();
  const [inviting, setInviting] = useState(false);
  const [link, setLink] = useState<LinkToPass | null>(null);
  const [lastOwner, setLastOwner] = useState(false);
  const roleData = ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }));
  const noSmtp = config.data?.smtp === false;
  const form = useForm({
    initialValues: { email: '', role: 'editor' as Role },
    validate: { email: (v) => (isEmail(v) ? null : t('login.emailInvalid')) },
  });

  const failed = (e: unknown) => {
    if (isLastOwner(e)) setLastOwner(true);
    else notifications.show({ color: 'red', message: errorMessage(e) });
  };

  /** After an invitation is made: its link to pass on, or the news that it was e-mailed. */
  const showInvitation = (inv: Invitation) => {
    if (inv.link) {
      setLink({
        title: t('members.invitationLinkTitle'),
        text: t('members.invitationLinkText', { email: inv.email }),
        link: inv.link,
        expires: formatDateTime(inv.expires_at),
        testId: 'invitation-link',
      });
    } else {
      notifications.show({ color: 'teal', message: t('members.invitationSent', { email: inv.email }) });
    }
  };

  const closeInvite = () => {
    setInviting(false);
    form.reset();
    invite.reset();
  };

  /** Leaving the workspace: the session moves to another one of the user's, or ends. */
  const afterLeaving = () => {
    const other = me.data?.workspaces.find((w) => w.id !== me.data?.workspace.id);
    const signOut = () => logout.mutate(undefined, { onSettled: () => navigate('/login') });
    if (other) switchWorkspace.mutate(other.id, { onSuccess: () => navigate('/'), onError: signOut });
    else signOut();
  };

  const setRole = (u: WorkspaceUser, role: Role, self: boolean) => {
    setLastOwner(false);
    const run = () =>
      changeRole.mutate(
        { id: u.id, role },
        {
          onSuccess: () => {
            notifications.show({ color: 'teal', message: t('members.roleChanged', { email: u.email, role: t(`roles.${role}`) }) });
            if (self) void me.refetch();
          },
          onError: failed,
        },
      );
    if (self && u.role === 'owner' && role !== 'owner') {
      modals.openConfirmModal({
        title: t('members.demoteSelfTitle'),
        children: <Text size="sm">{t('members.demoteSelfText')}</Text>,
        labels: { confirm: t('members.changeRole'), cancel: t('common.cancel') },
        confirmProps: { color: 'red' },
        onConfirm: run,
      });
    } else run();
  };

  const confirmRemove = (u: WorkspaceUser, self: boolean) => {
    setLastOwner(false);
    modals.openConfirmModal({
      title: self ? t('members.leaveTitle') : t('members.removeTitle'),
      children: <Text size="sm">{self ? t('members.leaveText', { workspace: me.data?.workspace.name }) : t('members.removeText', { email: u.email })}</Text>,
      labels: { confirm: self ? t('members.leave') : t('members.remove'), cancel: t('common.cancel') },
      confirmProps: { color: 'red' },
      onConfirm: () =>
        remove.mutate(u.id, {
          onSuccess: () => {
            if (self) afterLeaving();
            else notifications.show({ color: 'teal', message: t('members.removed', { email: u.email }) });
          },
          onError: failed,
        }),
    });
  };

  const makeResetLink = (u: WorkspaceUser) =>
    resetLink.mutate(u.id, {
      onSuccess: (r) => {
        if (r.link) {
          setLink({
            title: t('members.resetLinkTitle'),
            text: t('members.resetLinkText', { email: u.email }),
            link: r.link,
            expires: formatDateTime(r.expires_at),
            testId: 'reset-link',
          });
        } else notifications.show({ color: 'teal', message: t('members.resetLinkSent', { email: u.email }) });
      },
      onError: failed,
    });

  const confirmRevoke = (inv: Invitation) =>
    modals.openConfirmModal({
      title: t('members.revokeTitle'),
      children: <Text size="sm">{t('members.revokeText', { email: inv.email })}</Text>,
      labels: { confirm: t('members.revoke'), cancel: t('common.cancel') },
      confirmProps: { color: 'red' },
      onConfirm: () => revokeInvitation.mutate(inv.id, { onError: failed }),
    });

  const newLink = (inv: Invitation) => invite.mutate({ email: inv.email, role: inv.role }, { onSuccess: showInvitation, onError: failed });

  return (
    <Stack>
      <Group justify="space-between">
        <Text c="dimmed" size="sm" maw={640}>
          {t('members.description')}
        </Text>
        {isOwner && (
          <Button leftSection={<IconUserPlus size={16} />} onClick={() => setInviting(true)}>
            {t('members.invite')}
          </Button>
        )}
      </Group>
      {!isOwner && (
        <Alert icon={<IconInfoCircle size={18} />} color="blue">
          {t('members.ownerOnly')}
        </Alert>
      )}
      {lastOwner && (
        <Alert
          color="red"
          icon={<IconAlertTriangle size={18} />}
          title={t('members.lastOwnerTitle')}
          role="alert"
          withCloseButton
          closeButtonLabel={t('common.close')}
          onClose={() => setLastOwner(false)}
          data-testid="last-owner-error"
        >
          {t('members.lastOwnerText')}
        </Alert>
      )}
      <DataTable
        query={users}
        rows={users.data}
        minWidth={560}
        loadingHeight={120}
        verticalSpacing="sm"
        horizontalSpacing="md"
        head={
          <>
            <Table.Th>{t('members.member')}</Table.Th>
            <Table.Th>{t('members.role')}</Table.Th>
            <Table.Th />
          </>
        }
      >
        {(rows) =>
          rows.map((u) => {
            const self = u.id === me.data?.user.id;
            return (
              <Table.Tr key={u.id} data-testid="member-row">
                <Table.Td>
                  <Text fw={500} size="sm">
                    {u.name || u.email}{' '}
                    {self && (
                      <Badge size="xs" variant="light">
                        {t('members.you')}
                      </Badge>
                    )}
                  </Text>
                  {u.name && (
                    <Text size="xs" c="dimmed">
                      {u.email}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td w={200}>
                  {isOwner ? (
                    <Select
                      size="xs"
                      aria-label={t('members.roleOf', { email: u.email })}
                      data={roleData}
                      value={u.role}
                      allowDeselect={false}
                      onChange={(role) => role && role !== u.role && setRole(u, role as Role, self)}
                    />
                  ) : (
                    <Badge variant="light" color="gray">
                      {t(`roles.${u.role}`)}
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td ta="right">
                  {isOwner && (
                    <Menu position="bottom-end" withinPortal>
                      <Menu.Target>
                        <ActionIcon variant="subtle" color="gray" aria-label={t('members.actionsFor', { email: u.email })}>
                          <IconDots size={16} />
                        </ActionIcon>
                      </Menu.Target>
                      <Menu.Dropdown>
                        {noSmtp && !self && <Menu.Item onClick={() => makeResetLink(u)}>{t('members.resetLink')}</Menu.Item>}
                        <Menu.Item color="red" onClick={() => confirmRemove(u, self)}>
                          {self ? t('members.leave') : t('members.remove')}
                        </Menu.Item>
                      </Menu.Dropdown>
                    </Menu>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })
        }
      </DataTable>

      {isOwner && (
        <>
          <Title order={4} mt="md">
            {t('members.pending')}
          </Title>
          <DataTable
            query={invitations}
            rows={invitations.data}
            empty={
              <Text size="sm" c="dimmed">
                {t('members.noPending')}
              </Text>
            }
            minWidth={640}
            loadingHeight={60}
            verticalSpacing="sm"
            horizontalSpacing="md"
            head={
              <>
                <Table.Th>{t('login.email')}</Table.Th>
                <Table.Th>{t('members.role')}</Table.Th>
                <Table.Th>{t('members.invitedBy')}</Table.Th>
                <Table.Th>{t('members.expires')}</Table.Th>
                <Table.Th />
              </>
            }
          >
            {(rows) =>
              rows.map((inv) => (
                <Table.Tr key={inv.id} data-testid="invitation-row">
                  <Table.Td fw={500}>{inv.email}</Table.Td>
                  <Table.Td>{t(`roles.${inv.role}`)}</Table.Td>
                  <Table.Td>{inv.invited_by}</Table.Td>
                  <Table.Td>{formatDateTime(inv.expires_at)}</Table.Td>
                  <Table.Td ta="right">
                    <Group gap={4} justify="flex-end" wrap="nowrap">
                      <Button size="xs" variant="subtle" onClick={() => newLink(inv)} loading={invite.isPending && invite.variables?.email === inv.email}>
                        {noSmtp ? t('members.newLink') : t('members.resend')}
                      </Button>
                      <Button size="xs" variant="subtle" color="red" onClick={() => confirmRevoke(inv)}>
                        {t('members.revoke')}
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))
            }
          </DataTable>
        </>
      )}

      <Modal opened={inviting} onClose={closeInvite} title={t('members.invite')}>
        <form
          onSubmit={form.onSubmit((values) =>
            invite.mutate(
              { email: values.email.trim(), role: values.role },
              {
                onSuccess: (inv) => {
                  closeInvite();
                  showInvitation(inv);
                },
                onError: (e) => {
                  const { fields, rest } = mapServerErrors(e, ['email', 'role']);
                  if (isApiError(e, 409)) fields.email = t('members.alreadyMember');
                  form.setErrors(fields);
                  if (rest.length && !isApiError(e, 409)) notifications.show({ color: 'red', message: rest.join('\n') });
                },
              },
            ),
          )}
          noValidate
        >
          <Stack>
            <TextInput label={t('login.email')} type="email" required data-autofocus {...form.getInputProps('email')} />
            <Select label={t('members.role')} data={roleData} allowDeselect={false} {...form.getInputProps('role')} />
            <Text size="xs" c="dimmed">
              {t('members.rolesHelp')}
            </Text>
            <Text size="xs" c="dimmed">
              {noSmtp ? t('members.inviteNoSmtp') : t('members.inviteEmailed')}
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={closeInvite}>
                {t('common.cancel')}
              </Button>
              <Button type="submit" loading={invite.isPending}>
                {t('members.inviteSubmit')}
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
      <LinkModal value={link} onClose={() => setLink(null)} />
    </Stack>
  );
}
