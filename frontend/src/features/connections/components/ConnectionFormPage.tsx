import {
  Alert,
  Anchor,
  Breadcrumbs,
  Button,
  Card,
  Group,
  Loader,
  PasswordInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  UnstyledButton,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import IconAlertCircle from '@tabler/icons-react/icons/IconAlertCircle';
import IconPlugConnected from '@tabler/icons-react/icons/IconPlugConnected';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { type App, type Connection, type ConnectionInput, fieldShown } from '@/api/types';
import { AppIcon } from '@/components/AppIcon';
import { CatalogField, SecretLabel } from '@/components/CatalogField';
import { ErrorState } from '@/components/ErrorState';
import { PageHeader } from '@/components/PageHeader';
import { usePermissions } from '@/features/auth/api';
import { localized } from '@/i18n';
import { mapServerErrors } from '@/lib/form-errors';
import { useApps, useConnection, useSaveConnection, useTestConnection } from '../api';
import { TestResult, type TestOutcome } from './TestResult';

export interface ConnectionFormValues {
  name: string;
  params: Record<string, unknown>;
  secrets: Record<string, string>;
}

const BPM_PARAMS = ['domain', 'auth', 'username', 'client_id', 'token_url', 'path_prefix', 'odata_version'] as const;

/** Apps a user can connect to: everything that declares connection fields. */
export function connectableApps(apps: App[]): App[] {
  return apps.filter((a) => a.needs_connection !== false && (a.name === 'bpmonline' || (a.connection_fields?.length ?? 0) > 0));
}

export function initialValues(app: string, conn?: Connection): ConnectionFormValues {
  if (app === 'bpmonline') {
    const p = conn?.params ?? {};
    return {
      name: conn?.name ?? '',
      params: {
        domain: p.domain ?? '',
        auth: p.auth ?? 'forms',
        username: p.username ?? '',
        client_id: p.client_id ?? '',
        token_url: p.token_url ?? '',
        path_prefix: p.path_prefix ?? '/0',
        odata_version: String(p.odata_version ?? '4'),
      },
      secrets: { password: '', client_secret: '' },
    };
  }
  return { name: conn?.name ?? '', params: { ...(conn?.params ?? {}) }, secrets: {} };
}

/** The body sent to the API: empty secrets are left out so stored ones are kept. */
export function toInput(app: string, values: ConnectionFormValues): ConnectionInput {
  const secrets = Object.fromEntries(Object.entries(values.secrets).filter(([, v]) => v !== '' && v != null));
  let params: Record<string, unknown> = { ...values.params };
  if (app === 'bpmonline') {
    const oauth = params.auth === 'oauth';
    params = {
      domain: String(params.domain ?? '').trim().replace(/\/+$/, ''),
      auth: params.auth,
      ...(oauth ? { client_id: params.client_id } : { username: params.username }),
      ...(oauth && params.token_url ? { token_url: params.token_url } : {}),
      path_prefix: params.path_prefix,
      odata_version: Number(params.odata_version),
    };
    if (oauth) delete secrets.password;
    else delete secrets.client_secret;
  }
  return { app, name: values.name.trim(), params, ...(Object.keys(secrets).length ? { secrets } : {}) };
}

export function ConnectionFormPage() {
  const { connectionId } = useParams();
  const [search, setSearch] = useSearchParams();
  const { t } = useTranslation();
  const apps = useApps();
  const existing = useConnection(connectionId);
  const appName = existing.data?.app ?? search.get('app');
  const app = apps.data?.find((a) => a.name === appName) ?? (appName === 'bpmonline' ? { name: 'bpmonline' } : undefined);

  const title = connectionId ? t('connections.editTitle') : t('connections.addTitle');
  const crumbs = (
    <Breadcrumbs mb="xs">
      <Anchor component={Link} to="/connections" size="sm">
        {t('nav.connections')}
      </Anchor>
      <Text size="sm">{existing.data?.name ?? title}</Text>
    </Breadcrumbs>
  );

  if (apps.isPending || (connectionId && existing.isPending)) return <Loader />;
  if (existing.isError) return <ErrorState error={existing.error} onRetry={() => void existing.refetch()} />;

  if (!app) {
    return (
      <>
        {crumbs}
        <PageHeader title={title} description={t('connections.pickApp')} />
        {apps.isError && <ErrorState error={apps.error} onRetry={() => void apps.refetch()} />}
        <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }}>
          {connectableApps(apps.data ?? [{ name: 'bpmonline' }]).map((a) => (
            <UnstyledButton key={a.name} onClick={() => setSearch({ app: a.name })} data-testid={`app-${a.name}`}>
              <Card padding="lg" h="100%" className="hover-card">
                <Group wrap="nowrap" align="flex-start">
                  <AppIcon app={a.name} />
                  <Stack gap={2}>
                    <Text fw={600}>{localized(a.label, t(`apps.${a.name}`, { defaultValue: a.name }))}</Text>
                    <Text size="sm" c="dimmed">
                      {localized(a.description, t(`apps.${a.name}Description`, { defaultValue: '' }))}
                    </Text>
                  </Stack>
                </Group>
              </Card>
            </UnstyledButton>
          ))}
        </SimpleGrid>
      </>
    );
  }

  return (
    <>
      {crumbs}
      <ConnectionForm key={existing.data?.id ?? app.name} app={app} connection={existing.data} title={title} />
    </>
  );
}

function ConnectionForm({ app, connection, title }: { app: App; connection?: Connection; title: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const { canWrite } = usePermissions();
  const save = useSaveConnection(connection?.id);
  const test = useTestConnection();
  const [testResult, setTestResult] = useState<TestOutcome | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const isBpm = app.name === 'bpmonline';
  const secretsSet = useMemo(() => new Set(connection?.secrets_set ?? []), [connection]);

  const form = useForm<ConnectionFormValues>({
    initialValues: initialValues(app.name, connection),
    validate: (values) => {
      const errors: Record<string, string> = {};
      if (!values.name.trim()) errors.name = t('common.required');
      if (isBpm) {
        const domain = String(values.params.domain ?? '').trim();
        if (!domain) errors['params.domain'] = t('common.required');
        else if (/\s/.test(domain)) errors['params.domain'] = t('connections.domainInvalid');
        const oauth = values.params.auth === 'oauth';
        if (!oauth && !String(values.params.username ?? '').trim()) errors['params.username'] = t('common.required');
        if (oauth && !String(values.params.client_id ?? '').trim()) errors['params.client_id'] = t('common.required');
        if (!oauth && !values.secrets.password && !secretsSet.has('password')) errors['secrets.password'] = t('common.required');
        if (oauth && !values.secrets.client_secret && !secretsSet.has('client_secret'))
          errors['secrets.client_secret'] = t('common.required');
      } else {
        for (const f of app.connection_fields ?? []) {
          const v = f.secret ? values.secrets[f.name] : values.params[f.name];
          const set = f.secret && secretsSet.has(f.name);
          if (f.required && !set && (v === undefined || v === null || v === '')) {
            errors[`${f.secret ? 'secrets' : 'params'}.${f.name}`] = t('common.required');
          }
        }
      }
      return errors;
    },
  });

  useEffect(() => setFormError(null), [form.values]);

  const runTest = (id: string) =>
    test.mutate(id, {
      onSuccess: (r) => setTestResult(r),
      onError: (e) => setTestResult({ ok: false, stage: 'request', message: e.message }),
    });

  const submit = (andTest: boolean) =>
    form.onSubmit((values) => {
      setFormError(null);
      save.mutate(toInput(app.name, values), {
        onSuccess: (conn) => {
          notifications.show({ color: 'teal', message: t('connections.saved', { name: conn.name }) });
          form.setFieldValue('secrets', Object.fromEntries(Object.keys(values.secrets).map((k) => [k, ''])));
          form.resetDirty();
          if (!connection) navigate(`/connections/${conn.id}`, { replace: true, state: { test: andTest } });
          else if (andTest) runTest(conn.id);
        },
        onError: (e) => {
          const known = [
            'name',
            ...BPM_PARAMS.map((p) => `params.${p}`),
            'secrets.password',
            'secrets.client_secret',
            ...(app.connection_fields ?? []).map((f) => `${f.secret ? 'secrets' : 'params'}.${f.name}`),
          ];
          const { fields, rest } = mapServerErrors(e, known);
          form.setErrors(fields);
          setFormError(rest.join('\n') || null);
        },
      });
    });

  // After creating with "Save and test", the edit page runs the test once.
  const [autoTested, setAutoTested] = useState(false);
  useEffect(() => {
    if (connection && !autoTested && (location.state as { test?: boolean } | null)?.test) {
      setAutoTested(true);
      runTest(connection.id);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [connection, autoTested]);

  const oauth = form.values.params.auth === 'oauth';

  return (
    <form onSubmit={submit(false)} noValidate aria-label={title}>
      <PageHeader
        title={
          <Group gap="sm">
            <AppIcon app={app.name} size={32} />
            {title}
          </Group>
        }
        description={localized(app.label, t(`apps.${app.name}`, { defaultValue: app.name }))}
      />
      <Card padding="lg" maw={720}>
        <Stack>
          {formError && (
            <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert" style={{ whiteSpace: 'pre-line' }}>
              {formError}
            </Alert>
          )}
          <TextInput label={t('connections.name')} description={t('connections.nameHelp')} required disabled={!canWrite} {...form.getInputProps('name')} />
          {isBpm ? (
            <>
              <TextInput
                label={t('connections.domain')}
                description={t('connections.domainHelp')}
                placeholder="https://example.creatio.com"
                required
                disabled={!canWrite}
                {...form.getInputProps('params.domain')}
              />
              <Stack gap={4}>
                <Text size="sm" fw={500} id="auth-label">
                  {t('connections.auth')}
                </Text>
                <SegmentedControl
                  aria-labelledby="auth-label"
                  disabled={!canWrite}
                  data={[
                    { value: 'forms', label: t('connections.authForms') },
                    { value: 'oauth', label: t('connections.authOauth') },
                  ]}
                  {...form.getInputProps('params.auth')}
                />
              </Stack>
              {oauth ? (
                <>
                  <TextInput label={t('connections.clientId')} required disabled={!canWrite} {...form.getInputProps('params.client_id')} />
                  <PasswordInput
                    label={<SecretLabel label={t('connections.clientSecret')} set={secretsSet.has('client_secret')} />}
                    placeholder={secretsSet.has('client_secret') ? t('connections.secretKeep') : undefined}
                    required={!secretsSet.has('client_secret')}
                    autoComplete="new-password"
                    disabled={!canWrite}
                    {...form.getInputProps('secrets.client_secret')}
                  />
                  <TextInput
                    label={t('connections.tokenUrl')}
                    description={t('connections.tokenUrlHelp')}
                    placeholder="https://example-is.creatio.com/connect/token"
                    disabled={!canWrite}
                    {...form.getInputProps('params.token_url')}
                  />
                </>
              ) : (
                <>
                  <TextInput
                    label={t('connections.username')}
                    required
                    autoComplete="off"
                    disabled={!canWrite}
                    {...form.getInputProps('params.username')}
                  />
                  <PasswordInput
                    label={<SecretLabel label={t('connections.password')} set={secretsSet.has('password')} />}
                    placeholder={secretsSet.has('password') ? t('connections.secretKeep') : undefined}
                    required={!secretsSet.has('password')}
                    autoComplete="new-password"
                    disabled={!canWrite}
                    {...form.getInputProps('secrets.password')}
                  />
                </>
              )}
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <Select
                  label={t('connections.pathPrefix')}
                  description={t('connections.pathPrefixHelp')}
                  allowDeselect={false}
                  disabled={!canWrite}
                  data={[
                    { value: '', label: t('connections.prefixNone') },
                    { value: '/0', label: t('connections.prefixZero') },
                  ]}
                  {...form.getInputProps('params.path_prefix')}
                />
                <Select
                  label={t('connections.odataVersion')}
                  description={t('connections.odataVersionHelp')}
                  allowDeselect={false}
                  disabled={!canWrite}
                  data={[
                    { value: '4', label: 'OData 4' },
                    { value: '3', label: 'OData 3' },
                  ]}
                  {...form.getInputProps('params.odata_version')}
                />
              </SimpleGrid>
            </>
          ) : (
            // Only the fields that apply to the choices made (a password for Basic, not for a token).
            (app.connection_fields ?? []).filter((f) => fieldShown(f, form.values.params, app.connection_fields ?? [])).map((f) => (
              <CatalogField
                key={f.name}
                field={f}
                inputProps={form.getInputProps(`${f.secret ? 'secrets' : 'params'}.${f.name}`, f.type === 'boolean' ? { type: 'checkbox' } : undefined)}
                disabled={!canWrite}
                secretSet={secretsSet.has(f.name)}
              />
            ))
          )}
          {testResult && <TestResult result={testResult} />}
          <Group justify="space-between" mt="sm">
            <Button variant="default" component={Link} to="/connections">
              {t('common.back')}
            </Button>
            {canWrite && (
              <Group gap="sm">
                {connection && (
                  <Button
                    variant="light"
                    leftSection={<IconPlugConnected size={16} />}
                    loading={test.isPending}
                    disabled={form.isDirty()}
                    onClick={() => runTest(connection.id)}
                  >
                    {t('connections.test')}
                  </Button>
                )}
                <Button variant="light" onClick={() => submit(true)()} loading={save.isPending || test.isPending}>
                  {t('connections.saveAndTest')}
                </Button>
                <Button type="submit" loading={save.isPending}>
                  {t('common.save')}
                </Button>
              </Group>
            )}
          </Group>
        </Stack>
      </Card>
    </form>
  );
}
