/**
 * Ready bundles of steps offered when the first step is added: the usual CRM flows. A template
 * fills the steps; the user picks the connection (for every step at once) and fixes what differs
 * (the source's field names, a column of their instance).
 */
import type { MappingRule } from '@/api/types';
import { emptyDedup } from './dedupModel';
import { ACTIVITY_DEFAULTS, type DraftStep } from './stepsModel';

export const TEMPLATES = ['lead', 'order', 'case'] as const;
export type TemplateId = (typeof TEMPLATES)[number];

type T = (key: string) => string;

const src = (target: string, source: string, convert?: string[]): MappingRule => ({ target, source, ...(convert ? { convert } : {}) });
const tpl = (target: string, template: string): MappingRule => ({ target, template });

function step(key: string, name: string, entity: string, mapping: MappingRule[], extra: Partial<DraftStep> = {}): DraftStep {
  return {
    key,
    name,
    action: 'create_record',
    connection_id: '',
    entity,
    mapping,
    dedup: emptyDedup(),
    condition: null,
    for_each: null,
    not_found: 'stop',
    ...extra,
  };
}

/** The contact every template starts with: found by e-mail and updated, else created. */
function contact(t: T): DraftStep {
  return step('contact', t('steps.templates.names.contact'), 'Contact', [src('Name', 'name', ['trim']), src('Email', 'email', ['trim', 'lower']), src('MobilePhone', 'phone', ['phone_e164_ru'])], {
    dedup: { ...emptyDedup(), mode: 'update_if_found', match: [{ fields: ['Email'] }], update_rules: { Name: 'fill_if_empty', MobilePhone: 'fill_if_empty' } },
  });
}

export function templateSteps(id: TemplateId, t: T, connectionId = ''): DraftStep[] {
  let steps: DraftStep[];
  switch (id) {
    case 'lead':
      steps = [
        contact(t),
        step('lead', t('steps.templates.names.lead'), 'Lead', [
          tpl('LeadName', `${t('steps.templates.values.leadName')}: {{ name }}`),
          src('QualifiedContactId', 'steps.contact.Id'),
          src('Email', 'email', ['trim', 'lower']),
          src('Commentary', 'comment'),
        ]),
        step(
          'task',
          t('steps.templates.names.task'),
          'Activity',
          [tpl('Title', `${t('steps.templates.values.taskTitle')}: {{ name }}`), src('OwnerId', 'steps.contact.OwnerId'), src('ContactId', 'steps.contact.Id'), src('LeadId', 'steps.lead.Id')],
          { action: 'create_activity', activity: { ...ACTIVITY_DEFAULTS, due_in_minutes: 120 } },
        ),
      ];
      break;
    case 'order':
      steps = [
        contact(t),
        step('opportunity', t('steps.templates.names.opportunity'), 'Opportunity', [
          tpl('Title', `${t('steps.templates.values.orderTitle')} {{ order_id }}`),
          src('ContactId', 'steps.contact.Id'),
          src('Amount', 'total', ['number']),
        ]),
        step(
          'products',
          t('steps.templates.names.products'),
          'OpportunityProductInterest',
          [
            src('OpportunityId', 'steps.opportunity.Id'),
            { target: 'ProductId', lookup: { entity: 'Product', by: 'Code', value: '{{ item.sku }}', create_if_missing: false } },
            src('Quantity', 'item.quantity', ['number']),
            src('Price', 'item.price', ['number']),
          ],
          { for_each: 'items' },
        ),
      ];
      break;
    case 'case':
      steps = [
        contact(t),
        step('case', t('steps.templates.names.case'), 'Case', [src('Subject', 'subject'), src('Symptoms', 'message'), src('ContactId', 'steps.contact.Id')]),
      ];
      break;
  }
  return steps.map((s) => ({ ...s, connection_id: connectionId }));
}

/** One connection for every step (the template's picker). */
export function withConnection(steps: DraftStep[], connectionId: string): DraftStep[] {
  return steps.map((s) => ({ ...s, connection_id: connectionId }));
}
