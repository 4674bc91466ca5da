import type { App, AppTrigger, Bundle, Connection } from '@/api/types';
import type { Draft } from './model';

export interface StepProps {
  draft: Draft;
  update: (fn: (d: Draft) => Draft) => void;
  /** i18n keys or server messages, by field path. */
  errors: Record<string, string>;
  ctx: WizardContext;
}

export interface WizardContext {
  bundle?: Bundle;
  apps: App[];
  /** The chosen source app and trigger, as the catalog declares them. */
  sourceApp?: App;
  sourceTrigger?: AppTrigger;
  connections: Connection[];
  isWebhook: boolean;
  needsSourceConnection: boolean;
  readOnly: boolean;
  /** The webhook secret typed in this visit (write-only; see `toBundleInput`). */
  webhookSecret: string;
  setWebhookSecret: (v: string) => void;
}
