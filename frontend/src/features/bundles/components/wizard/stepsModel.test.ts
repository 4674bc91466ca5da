import { describe, expect, it } from 'vitest';
import type { StepAction } from '@/api/types';
import i18n from '@/i18n';
import { emptyDraft, toBundleInput } from './model';
import {
  type DraftStep,
  addStep,
  earlierStepFields,
  keyFromEntity,
  moveStep,
  newStep,
  removeStep,
  renameStep,
  setEntity,
  stepRefs,
  validateSteps,
} from './stepsModel';
import { TEMPLATES, templateSteps, withConnection } from './templates';

const t = i18n.t.bind(i18n) as (k: string, o?: Record<string, unknown>) => string;
const keys = (steps: DraftStep[]) => steps.map((s) => s.key);

function ready(action: StepAction, key: string, entity: string, patch: Partial<DraftStep> = {}): DraftStep {
  return { ...newStep(action, []), key, entity, connection_id: 'c1', mapping: [{ target: 'Name', source: 'name' }], ...patch };
}

describe('the list of steps', () => {
  it('adding keeps keys unique, also after a delete and a re-add', () => {
    let steps = addStep([], 'create_record');
    steps = addStep(steps, 'create_record');
    steps = addStep(steps, 'find_record');
    expect(keys(steps)).toEqual(['step', 'step_2', 'step_3']);
    steps = addStep(removeStep(steps, 1), 'create_activity');
    expect(new Set(keys(steps)).size).toBe(steps.length);
    expect(keys(steps)).toEqual(['step', 'step_3', 'step_2']);
  });

  it('a new step takes the connection of the step before it', () => {
    const steps = addStep([ready('create_record', 'contact', 'Contact')], 'create_record');
    expect(steps[1]!.connection_id).toBe('c1');
  });

  it('choosing an entity names the key after it, unique, and not once a later step reads the key', () => {
    let steps = addStep(addStep([], 'create_record'), 'create_record');
    steps = setEntity(steps, 0, 'Contact');
    steps = setEntity(steps, 1, 'Contact');
    expect(keys(steps)).toEqual(['contact', 'contact_2']);
    steps = setEntity(steps, 1, 'OpportunityProduct');
    expect(keys(steps)).toEqual(['contact', 'contact_2']); // already named: kept
    expect(keyFromEntity('OpportunityProduct')).toBe('opportunity_product');
    expect(keyFromEntity('UsrMyEntity2')).toBe('usr_my_entity2');
  });

  it('reorder moves a step up and down, and not past the ends', () => {
    const steps = [ready('create_record', 'a', 'Contact'), ready('create_record', 'b', 'Lead'), ready('create_record', 'c', 'Case')];
    expect(keys(moveStep(steps, 2, -1))).toEqual(['a', 'c', 'b']);
    expect(keys(moveStep(steps, 0, 1))).toEqual(['b', 'a', 'c']);
    expect(moveStep(steps, 0, -1)).toBe(steps);
    expect(moveStep(steps, 2, 1)).toBe(steps);
  });

  it('rename changes the name only', () => {
    const steps = renameStep([ready('create_record', 'contact', 'Contact')], 0, 'Клиент');
    expect(steps[0]).toMatchObject({ name: 'Клиент', key: 'contact' });
  });

  it('an action brings its own parts: a task its lookups (defaults) and Activity, a process its code, a file its record', () => {
    expect(newStep('create_activity', [])).toMatchObject({ entity: 'Activity', activity: { due_in_minutes: 120, type_id: 'fbe0acdc-cfc0-df11-b00f-001d60e938c6' } });
    expect(newStep('run_process', []).process).toEqual({ schema_name: '', result_parameter: null });
    expect(newStep('attach_file', []).file).toMatchObject({ attach_to: '' });
    expect(newStep('create_record', [])).not.toHaveProperty('activity');
  });
});

describe('what a step may read of the others', () => {
  const steps = [
    ready('create_record', 'contact', 'Contact', { name: 'Контакт' }),
    ready('create_record', 'lead', 'Lead', { name: 'Лид' }),
    ready('create_activity', 'task', 'Activity', { name: 'Задача' }),
  ];
  const columns = { contact: [{ name: 'Id' }, { name: 'OwnerId', caption: 'Ответственный' }], lead: [{ name: 'LeadName' }], task: [{ name: 'Title' }] };

  it('offers only earlier steps: their Id, columns and flags, never its own or a later one', () => {
    const forLead = earlierStepFields(steps, 1, columns, t).map((f) => f.path);
    expect(forLead).toEqual(['steps.contact.Id', 'steps.contact.OwnerId', 'steps.contact.found', 'steps.contact.created']);
    const forTask = earlierStepFields(steps, 2, columns, t).map((f) => f.path);
    expect(forTask).toContain('steps.lead.Id');
    expect(forTask.some((p) => p.startsWith('steps.task.'))).toBe(false);
    expect(earlierStepFields(steps, 0, columns, t)).toEqual([]);
  });

  it('labels a column with the step name and the caption', async () => {
    await i18n.changeLanguage('ru');
    const labels = earlierStepFields(steps, 1, columns, t).map((f) => f.label);
    expect(labels.slice(0, 2)).toEqual(['Контакт → Id', 'Контакт → Ответственный (OwnerId)']);
  });

  it('a reference to a later step or an unknown one is refused, one to an earlier step is not', () => {
    const good = steps.map((s, i) => (i === 1 ? { ...s, mapping: [{ target: 'QualifiedContactId', source: 'steps.contact.Id' }] } : s));
    expect(validateSteps(good)).toEqual({});
    const forward = steps.map((s, i) => (i === 0 ? { ...s, mapping: [{ target: 'Notes', template: 'лид {{ steps.lead.Id }}' }] } : s));
    expect(validateSteps(forward)).toEqual({ 'steps.0.refs': 'steps.errors.refForward' });
    const unknown = steps.map((s, i) => (i === 2 ? { ...s, activity: { ...s.activity!, participants: ['{{ steps.nobody.Id }}'] } } : s));
    expect(validateSteps(unknown)).toEqual({ 'steps.2.refs': 'steps.errors.refUnknown' });
    // Moving the lead above the contact it reads makes it a forward reference.
    expect(validateSteps(moveStep(good, 1, -1))).toEqual({ 'steps.0.refs': 'steps.errors.refForward' });
  });

  it('finds the references in sources, templates, lookups, condition, for_each, participants and the file', () => {
    const s: DraftStep = {
      ...ready('attach_file', 'file', 'ContactFile'),
      mapping: [
        { target: 'Url', source: 'steps.a.Url' },
        { target: 'Name', template: '{{ steps.b.Name }}' },
        { target: 'X', lookup: { entity: 'E', by: 'Name', value: '{{ steps.c.Id }}', create_if_missing: false } },
      ],
      condition: { join: 'and', conditions: [{ field: 'steps.d.found', op: 'equals', value: true }] },
      for_each: 'steps.e.records',
      file: { attach_to: 'f', max_bytes: 1 },
    };
    expect(stepRefs(s).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('refuses a key used twice or not in the api pattern', () => {
    const twice = [steps[0]!, { ...steps[1]!, key: 'contact' }];
    expect(validateSteps(twice)['steps.1.key']).toBe('steps.errors.keyTwice');
    expect(validateSteps([{ ...steps[0]!, key: 'Contact-1' }])['steps.0.key']).toBe('steps.errors.keyInvalid');
  });
});

describe('templates', () => {
  it.each(TEMPLATES)('%s gives valid steps once a connection is picked', (id) => {
    const steps = withConnection(templateSteps(id, t), 'c1');
    expect(validateSteps(steps)).toEqual({});
    expect(new Set(keys(steps)).size).toBe(steps.length);
    expect(steps.every((s) => s.connection_id === 'c1')).toBe(true);
    expect(validateSteps(templateSteps(id, t))).toHaveProperty(['steps.0.connection_id']);
  });

  it('the website request is contact (update if found by Email) → lead with the contact → task for its owner due in 2 hours', () => {
    const [contact, lead, task] = templateSteps('lead', t, 'c1');
    expect(contact).toMatchObject({ key: 'contact', entity: 'Contact', dedup: { mode: 'update_if_found', match: [{ fields: ['Email'] }] } });
    expect(lead!.mapping).toContainEqual({ target: 'QualifiedContactId', source: 'steps.contact.Id' });
    expect(task).toMatchObject({ action: 'create_activity', entity: 'Activity', activity: { due_in_minutes: 120 } });
    expect(task!.mapping).toEqual(
      expect.arrayContaining([
        { target: 'OwnerId', source: 'steps.contact.OwnerId' },
        { target: 'ContactId', source: 'steps.contact.Id' },
        { target: 'LeadId', source: 'steps.lead.Id' },
      ]),
    );
  });

  it('the order runs its products for each line of the order', () => {
    const products = templateSteps('order', t).at(-1)!;
    expect(products).toMatchObject({ entity: 'OpportunityProductInterest', for_each: 'items' });
    expect(products.mapping).toContainEqual({ target: 'OpportunityId', source: 'steps.opportunity.Id' });
  });
});

describe('the body sent', () => {
  it('has the steps, and no round-1 target, mapping or dedup', () => {
    const body = toBundleInput({ ...emptyDraft(), name: 'Сайт', steps: withConnection(templateSteps('lead', t), 'c1') });
    expect(body).not.toHaveProperty('target');
    expect(body).not.toHaveProperty('mapping');
    expect(body).not.toHaveProperty('dedup');
    expect(body.steps.map((s) => [s.key, s.action, s.entity, s.connection_id])).toEqual([
      ['contact', 'create_record', 'Contact', 'c1'],
      ['lead', 'create_record', 'Lead', 'c1'],
      ['task', 'create_activity', 'Activity', 'c1'],
    ]);
    // Conversions go in the api's names; a task carries its options; an empty condition is none.
    expect(body.steps[0]!.mapping.find((r) => r.target === 'MobilePhone')!.convert).toEqual([{ name: 'phone_e164', region: 'RU' }]);
    expect(body.steps[2]!.activity).toMatchObject({ due_in_minutes: 120, participants: [] });
    expect(body.steps.every((s) => s.condition === null && s.for_each === null)).toBe(true);
    expect(body.steps[0]!.dedup).toMatchObject({ mode: 'update_if_found', match: [{ fields: ['Email'] }] });
  });

  it('a process step has no entity and its result parameter', () => {
    const step = { ...newStep('run_process', []), key: 'proc', connection_id: 'c1', process: { schema_name: 'UsrProc', result_parameter: '' }, mapping: [{ target: 'LeadId', source: 'id' }] };
    const body = toBundleInput({ ...emptyDraft(), steps: [step] });
    expect(body.steps[0]).toMatchObject({ entity: null, process: { schema_name: 'UsrProc', result_parameter: null } });
  });
});
