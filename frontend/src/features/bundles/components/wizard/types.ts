import type { App, Bundle, Connection } from '@/api/types';
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
  connections: Connection[];
  isWebhook: boolean;
  needsSourceConnection: boolean;
  readOnly: boolean;
}
