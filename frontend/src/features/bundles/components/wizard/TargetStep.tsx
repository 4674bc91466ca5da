import { Alert, Anchor, Select, SimpleGrid, Stack } from '@mantine/core';
import IconInfoCircle from '@tabler/icons-react/icons/IconInfoCircle';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useEntities } from '@/features/connections/api';
import { localized } from '@/i18n';
import type { Draft } from './model';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';

export function TargetStep({ draft, update, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const bpm = ctx.apps.find((a) => a.name === 'bpmonline');
  const actions = bpm?.actions?.length ? bpm.actions : [{ name: 'create_record' }];
  const connections = ctx.connections.filter((c) => c.app === 'bpmonline');
  const entities = useEntities(draft.target.connection_id || null);

  return (
    <Stack>
      {connections.length === 0 && (
        <Alert icon={<IconInfoCircle size={18} />} color="blue">
          {t('wizard.noTargetConnections')}{' '}
          <Anchor component={Link} to="/connections/new?app=bpmonline">
            {t('connections.add')}
          </Anchor>
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Select
          label={t('wizard.targetConnection')}
          required
          disabled={ctx.readOnly}
          placeholder={t('wizard.pickConnection')}
          data={connections.map((c) => ({ value: c.id, label: c.name }))}
          value={draft.target.connection_id || null}
          onChange={(v) => update((d) => ({ ...d, target: { ...d.target, connection_id: v ?? '', entity: '' }, mapping: [] }))}
          error={err('target.connection_id')}
          data-testid="target-connection"
        />
        <Select
          label={t('wizard.action')}
          required
          disabled={ctx.readOnly}
          data={actions.map((a) => ({ value: a.name, label: localized(a.label, t(`actions.${a.name}`, { defaultValue: a.name })) }))}
          value={draft.target.action || null}
          onChange={(v) => update((d) => ({ ...d, target: { ...d.target, action: (v ?? 'create_record') as Draft['target']['action'] } }))}
          error={err('target.action')}
          allowDeselect={false}
        />
      </SimpleGrid>
      <Select
        label={t('wizard.entity')}
        description={t('wizard.entityHelp')}
        required
        searchable
        disabled={ctx.readOnly || !draft.target.connection_id}
        placeholder={entities.isFetching ? t('common.loading') : t('wizard.pickEntity')}
        nothingFoundMessage={t('common.nothingFound')}
        data={(entities.data ?? []).map((e) => ({ value: e.name, label: e.label && e.label !== e.name ? `${e.label} (${e.name})` : e.name }))}
        value={draft.target.entity || null}
        onChange={(v) =>
          update((d) => ({
            ...d,
            target: { ...d.target, entity: v ?? '' },
            mapping: v === d.target.entity ? d.mapping : [],
            dedup: v === d.target.entity ? d.dedup : { ...d.dedup, match: [], compare: {}, update_rules: {} },
          }))
        }
        error={err('target.entity') ?? (entities.isError ? entities.error.message : undefined)}
        data-testid="target-entity"
      />
    </Stack>
  );
}
