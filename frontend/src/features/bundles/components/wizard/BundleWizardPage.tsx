import { Alert, Anchor, Breadcrumbs, Button, Card, Group, Loader, Stepper, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import IconArrowLeft from '@tabler/icons-react/icons/IconArrowLeft';
import IconArrowRight from '@tabler/icons-react/icons/IconArrowRight';
import IconDeviceFloppy from '@tabler/icons-react/icons/IconDeviceFloppy';
import IconPlayerPlay from '@tabler/icons-react/icons/IconPlayerPlay';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useNavigate, useParams } from 'react-router-dom';
import type { Bundle } from '@/api/types';
import { ErrorState, errorMessage } from '@/components/ErrorState';
import { PageHeader } from '@/components/PageHeader';
import { useMe, usePermissions } from '@/features/auth/api';
import { useApps, useConnections } from '@/features/connections/api';
import { ApiError } from '@/lib/api-client';
import { fieldErrorText } from '@/lib/messages';
import { useBundle, useSaveBundle, useStartStop } from '../../api';
import { startRefusal } from '../startRefusal';
import { DedupStep } from './DedupStep';
import { MappingStep } from './MappingStep';
import {
  type Draft,
  STEPS,
  type StepId,
  clearDraft,
  draftFromBundle,
  emptyDraft,
  errorKeyForPath,
  errorsAfterEdit,
  isStep,
  loadDraft,
  saveDraft,
  stepForPath,
  toBundleInput,
  validateStep,
} from './model';
import { ReviewStep } from './ReviewStep';
import { SampleStep } from './SampleStep';
import { SourceStep, needsConnection, sourceApps } from './SourceStep';
import { TargetStep } from './TargetStep';
import type { StepProps, WizardContext } from './types';

const STEP_COMPONENTS: Record<StepId, (p: StepProps) => JSX.Element> = {
  source: SourceStep,
  target: TargetStep,
  sample: SampleStep,
  mapping: MappingStep,
  dedup: DedupStep,
  review: ReviewStep,
};

export function BundleWizardPage() {
  const { bundleId, step } = useParams();
  const bundle = useBundle(bundleId);
  const apps = useApps();
  const connections = useConnections();

  if (!isStep(step)) return <Navigate to={bundleId ? `/bundles/${bundleId}/edit/source` : '/bundles/new/source'} replace />;
  if (!bundleId && STEPS.indexOf(step) > STEPS.indexOf('target')) return <Navigate to="/bundles/new/target" replace />;
  if ((bundleId && bundle.isPending) || apps.isPending || connections.isPending) return <Loader />;
  if (bundle.isError) return <ErrorState error={bundle.error} onRetry={() => void bundle.refetch()} />;

  return <Wizard key={bundleId ?? 'new'} step={step} bundle={bundle.data} apps={apps.data ?? []} connections={connections.data ?? []} />;
}

function Wizard({ step, bundle, apps, connections }: { step: StepId } & Pick<WizardContext, 'bundle' | 'apps' | 'connections'>) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { canWrite } = usePermissions();
  // A new bundle's draft belongs to its workspace: after a switch it must not show up in another.
  const newDraftKey = `new.${useMe().data?.workspace.id ?? ''}`;
  const draftKey = bundle?.id ?? newDraftKey;
  const [draft, setDraft] = useState<Draft>(() => loadDraft(draftKey, bundle?.config_version) ?? (bundle ? draftFromBundle(bundle) : emptyDraft()));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  // Write-only and never in the stored draft: sent with the next save, then forgotten.
  const [webhookSecret, setWebhookSecret] = useState('');
  const save = useSaveBundle();
  const startStop = useStartStop();

  useEffect(() => saveDraft(draftKey, draft, bundle?.config_version), [draftKey, draft, bundle?.config_version]);

  const app = sourceApps(apps).find((a) => a.name === draft.source.app);
  const trigger = app?.triggers?.find((tr) => tr.name === draft.source.trigger);
  const isWebhook = draft.source.app === 'webhook' || trigger?.kind === 'webhook';
  const needsSourceConnection = needsConnection(app, trigger);
  const ctx: WizardContext = { bundle, apps, sourceApp: app, sourceTrigger: trigger, connections, isWebhook, needsSourceConnection, readOnly: !canWrite, webhookSecret, setWebhookSecret };
  const vctx = { isWebhook, needsSourceConnection };
  const index = STEPS.indexOf(step);

  const update = useCallback((fn: (d: Draft) => Draft) => {
    setDraft(fn);
    setFormError(null);
  }, []);

  // A message shown at the last check goes once the edit fixes it (issue #20: none stays stale).
  const checked = useRef(draft);
  useEffect(() => {
    const before = checked.current;
    checked.current = draft;
    if (before !== draft) setErrors((e) => (Object.keys(e).length ? errorsAfterEdit(e, before, draft, step, { isWebhook, needsSourceConnection }) : e));
  }, [draft, step, isWebhook, needsSourceConnection]);

  const goto = (s: StepId, id = bundle?.id) => navigate(id ? `/bundles/${id}/edit/${s}` : `/bundles/new/${s}`);

  /** Puts the server's field errors on their fields and shows the first step that has one. */
  const showServerErrors = (e: unknown, current: StepId): boolean => {
    if (!(e instanceof ApiError) || e.fieldErrors.length === 0) {
      setFormError(errorMessage(e));
      return false;
    }
    const next: Record<string, string> = {};
    let first: StepId | null = null;
    for (const fe of e.fieldErrors) {
      next[errorKeyForPath(fe.field, draft)] = fieldErrorText(t, fe);
      const s = stepForPath(fe.field);
      if (first === null || STEPS.indexOf(s) < STEPS.indexOf(first)) first = s;
    }
    setErrors(next);
    if (first && first !== current) {
      setFormError(e.message);
      goto(first);
    }
    return true;
  };

  /** Saves the draft; for a step before review, errors that belong to later steps do not block. */
  const send = async (current: StepId): Promise<Bundle | null> => {
    try {
      // Required fields left unmapped do not refuse the save: the bundle is kept incomplete
      // (`missing`) and refused at start, so no placeholder is ever mapped.
      return await save.mutateAsync({ id: bundle?.id, body: toBundleInput(draft, webhookSecret) });
    } catch (e) {
      if (current !== 'review' && e instanceof ApiError && e.fieldErrors.length > 0) {
        const blocking = e.fieldErrors.filter((fe) => STEPS.indexOf(stepForPath(fe.field)) <= STEPS.indexOf(current));
        if (blocking.length === 0 && bundle) return bundle;
        if (blocking.length > 0) {
          showServerErrors(new ApiError(e.status, e.code, e.message, blocking), current);
          return null;
        }
      }
      showServerErrors(e, current);
      return null;
    }
  };

  const persist = async (current: StepId): Promise<Bundle | null> => {
    const saved = await send(current);
    if (saved && saved !== bundle) setWebhookSecret(''); // saved with it (the same bundle back: nothing was sent)
    return saved;
  };

  const next = async () => {
    const errs = validateStep(step, draft, vctx);
    setErrors(errs);
    if (Object.keys(errs).length > 0) return;
    const following = STEPS[index + 1];
    if (!following) return;
    if (!canWrite) return goto(following);
    // From the target step on, the bundle exists on the server (the webhook URL, sample and preview need it).
    if (index >= STEPS.indexOf('target')) {
      const saved = await persist(step);
      if (!saved) return;
      if (!bundle) {
        clearDraft(newDraftKey);
        saveDraft(saved.id, draft, saved.config_version);
      }
      goto(following, saved.id);
    } else goto(following);
  };

  const finish = async (start: boolean) => {
    for (const s of STEPS) {
      const errs = validateStep(s, draft, vctx);
      if (Object.keys(errs).length > 0) {
        setErrors(errs);
        goto(s);
        return;
      }
    }
    const saved = await persist('review');
    if (!saved) return;
    clearDraft(saved.id);
    if (start) {
      try {
        await startStop.mutateAsync({ id: saved.id, action: 'start' });
      } catch (e) {
        setFormError(startRefusal(t, e));
        return;
      }
    }
    notifications.show({ color: 'teal', message: t(start ? 'wizard.savedStarted' : 'wizard.saved', { name: saved.name }) });
    navigate('/bundles');
  };

  const reachable = (i: number) => i <= index || (!!bundle && i <= STEPS.length - 1);
  const StepComponent = STEP_COMPONENTS[step];
  const title = bundle ? t('wizard.editTitle', { name: bundle.name }) : t('wizard.newTitle');
  const stepErrors = useMemo(() => errors, [errors]);

  return (
    <>
      <Breadcrumbs mb="xs">
        <Anchor component={Link} to="/bundles" size="sm">
          {t('nav.bundles')}
        </Anchor>
        <Text size="sm">{title}</Text>
      </Breadcrumbs>
      <PageHeader
        title={title}
        actions={
          <Button
            variant="subtle"
            color="gray"
            size="xs"
            onClick={() => {
              clearDraft(draftKey);
              setDraft(bundle ? draftFromBundle(bundle) : emptyDraft());
              setErrors({});
            }}
          >
            {t('wizard.resetDraft')}
          </Button>
        }
      />
      <Stepper
        active={index}
        onStepClick={(i) => reachable(i) && goto(STEPS[i]!)}
        size="sm"
        mb="lg"
        allowNextStepsSelect={!!bundle}
        wrap
      >
        {STEPS.map((s) => (
          <Stepper.Step key={s} label={t(`wizard.step.${s}`)} aria-label={t(`wizard.stepHelp.${s}`)} data-testid={`step-${s}`} />
        ))}
      </Stepper>
      <Card padding="lg" data-testid={`wizard-step-${step}`}>
        {formError && (
          <Alert color="red" mb="md" role="alert" style={{ whiteSpace: 'pre-line' }}>
            {formError}
          </Alert>
        )}
        <StepComponent draft={draft} update={update} errors={stepErrors} ctx={ctx} />
        <Group justify="space-between" mt="xl">
          <Button
            variant="default"
            leftSection={<IconArrowLeft size={16} />}
            disabled={index === 0}
            onClick={() => goto(STEPS[index - 1]!)}
          >
            {t('common.back')}
          </Button>
          {step === 'review' ? (
            canWrite && (
              <Group gap="sm">
                <Button variant="light" leftSection={<IconDeviceFloppy size={16} />} loading={save.isPending} onClick={() => void finish(false)}>
                  {t('wizard.save')}
                </Button>
                <Button color="teal" leftSection={<IconPlayerPlay size={16} />} loading={save.isPending || startStop.isPending} onClick={() => void finish(true)} data-testid="save-and-start">
                  {t('wizard.saveAndStart')}
                </Button>
              </Group>
            )
          ) : (
            <Button rightSection={<IconArrowRight size={16} />} loading={save.isPending} onClick={() => void next()} data-testid="wizard-next">
              {t('common.next')}
            </Button>
          )}
        </Group>
      </Card>
    </>
  );
}
