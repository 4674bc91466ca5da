import { describe, expect, it } from 'vitest';
import type { Bundle, MappingRule } from '@/api/types';
import i18n from '@/i18n';
import type { DraftStep } from './stepsModel';
import {
  type Draft,
  STEPS,
  loadDraft,
  saveDraft,
  conversionFromApi,
  conversionName,
  draftFromBundle,
  emptyDraft,
  errorKeyForPath,
  flattenSample,
  localPreview,
  errorsAfterEdit,
  mergeSourceFields,
  orderFields,
  unmappedRequired,
  putRule,
  renderTemplate,
  setConversions,
  setRuleMode,
  stepForPath,
  stepTimeZone,
  toBundleInput,
  validateStep,
  withTimeZone,
} from './model';

const ctx = { isWebhook: true, needsSourceConnection: false };

/** A draft whose one step has `patch`. */
function withStep(patch: Partial<DraftStep>, over: Partial<Draft> = {}): Draft {
  const d = emptyDraft();
  return { ...d, ...over, steps: [{ ...d.steps[0]!, ...patch }] };
}
const sample = { first_name: 'Anna', last_name: 'Petrova', email: ' Anna@Example.COM ', phone: '8 (912) 345-67-89', company: { name: 'Acme' } };

describe('wizard steps', () => {
  it('are the six steps of the issue, in order', () => {
    expect(STEPS).toEqual(['source', 'target', 'sample', 'mapping', 'dedup', 'review']);
  });

  it('the source step needs a name and a trigger', () => {
    const d = { ...emptyDraft(), source: { ...emptyDraft().source, app: 'webhook' } };
    expect(validateStep('source', d, ctx)).toEqual({ name: 'common.required', 'source.trigger': 'common.required' });
  });

  it('the steps page needs each step to have a connection and an entity', () => {
    const errors = validateStep('target', emptyDraft(), ctx);
    expect(errors['steps.0.connection_id']).toBe('wizard.pickConnection');
    expect(errors['steps.0.entity']).toBe('wizard.pickEntity');
  });

  it('a polling source needs an interval', () => {
    expect(validateStep('sample', { ...emptyDraft(), schedule: { interval_minutes: 0 } }, { ...ctx, isWebhook: false })).toHaveProperty(
      ['schedule.interval_minutes'],
    );
    expect(validateStep('sample', emptyDraft(), ctx)).toEqual({});
  });

  it('the mapping step needs one rule and each rule a value', () => {
    expect(validateStep('mapping', emptyDraft(), ctx)).toEqual({ 'steps.0.mapping': 'wizard.mappingEmpty' });
    const d = withStep({ mapping: [{ target: 'Email', source: '' }, { target: 'Name', template: ' ' }] });
    expect(validateStep('mapping', d, ctx)).toEqual({ 'steps.0.mapping.Email': 'wizard.pickSourceField', 'steps.0.mapping.Name': 'wizard.templateEmpty' });
  });

  it('server error paths land on their step and field', () => {
    const d = withStep({ mapping: [{ target: 'Name', template: '{{' }, { target: 'Email', source: 'email' }] });
    expect(stepForPath('body.mapping.1.source')).toBe('mapping');
    expect(stepForPath('steps.1.mapping.0.source')).toBe('mapping');
    expect(stepForPath('steps.1.dedup.match.0')).toBe('dedup');
    expect(stepForPath('steps.1.entity')).toBe('target');
    expect(stepForPath('dedup.match_fields')).toBe('dedup');
    expect(stepForPath('target.entity')).toBe('target');
    expect(stepForPath('name')).toBe('source');
    expect(stepForPath('schedule.interval_minutes')).toBe('sample');
    expect(stepForPath('source.config.interval_minutes')).toBe('sample');
    expect(stepForPath('source.config.api_key_header')).toBe('source');
    expect(stepForPath('webhook_secret')).toBe('source');
    // A round-1 path is about the step `main`, the first.
    expect(errorKeyForPath('mapping.1.source', d)).toBe('steps.0.mapping.Email');
    expect(errorKeyForPath('mapping.0', d)).toBe('steps.0.mapping.Name');
    expect(errorKeyForPath('target.entity', d)).toBe('steps.0.entity');
    expect(errorKeyForPath('body.steps.0.mapping.1', d)).toBe('steps.0.mapping.Email');
    // A round-1 path is the one group; a group's inner paths show on the group.
    expect(errorKeyForPath('dedup.match_fields', d)).toBe('steps.0.dedup.match.0');
    expect(errorKeyForPath('body.dedup.match.1.fields.0', d)).toBe('steps.0.dedup.match.1');
    expect(errorKeyForPath('steps.0.dedup.update_rules.Email', d)).toBe('steps.0.dedup.update_rules.Email');
  });
});

describe('mapping helpers', () => {
  it('flattens the sample into paths with values', () => {
    expect(flattenSample(sample)).toContainEqual({ path: 'company.name', value: 'Acme' });
    expect(flattenSample({ items: [{ sku: 'A1' }] })).toEqual([{ path: 'items[0].sku', value: 'A1' }]);
    expect(renderTemplate('{{ items[0].sku }}', { items: [{ sku: 'A1' }] })).toBe('A1');
  });

  it('orders required fields first and hides system fields', () => {
    const fields = [
      { name: 'Zeta', caption: 'Zeta', type_caption: '', type: 'string', required: false, read_only: false },
      { name: 'Id', caption: 'Id', type_caption: '', type: 'guid', required: true, read_only: false },
      { name: 'Name', caption: 'Name', type_caption: '', type: 'string', required: true, read_only: false },
      { name: 'Alpha', caption: 'Alpha', type_caption: '', type: 'string', required: false, read_only: false },
      { name: 'CreatedOn', caption: 'CreatedOn', type_caption: '', type: 'datetime', required: false, read_only: false },
    ];
    expect(orderFields(fields).map((f) => f.name)).toEqual(['Name', 'Alpha', 'Zeta']);
  });

  it('puts, replaces and removes one rule by target', () => {
    let m: MappingRule[] = [];
    m = putRule(m, 'Email', { target: 'Email', source: 'email' });
    m = putRule(m, 'Name', { target: 'Name', template: '{{ first_name }}' });
    m = putRule(m, 'Email', { target: 'Email', source: 'mail' });
    expect(m).toEqual([
      { target: 'Email', source: 'mail' },
      { target: 'Name', template: '{{ first_name }}' },
    ]);
    expect(putRule(m, 'Email', null)).toEqual([{ target: 'Name', template: '{{ first_name }}' }]);
  });

  it('switching a rule to a template keeps the chosen field', () => {
    expect(setRuleMode({ target: 'Name', source: 'first_name', convert: ['trim'] }, 'template')).toEqual({
      target: 'Name',
      template: '{{ first_name }}',
      convert: ['trim'],
    });
    expect(setRuleMode({ target: 'AccountId', source: 'company.name' }, 'lookup').lookup).toEqual({
      entity: '',
      by: 'Name',
      value: '{{ company.name }}',
      create_if_missing: false,
    });
  });

  it('previews the mapped record from the sample', () => {
    const mapping: MappingRule[] = [
      { target: 'Name', template: '{{ first_name }} {{ last_name }}' },
      { target: 'Email', source: 'email', convert: ['trim', 'lower'] },
      { target: 'MobilePhone', source: 'phone', convert: ['phone_e164_ru'] },
      { target: 'Notes', constant: 'from the site' },
    ];
    expect(localPreview(mapping, sample)).toEqual({
      Name: 'Anna Petrova',
      Email: 'anna@example.com',
      MobilePhone: '+79123456789',
      Notes: 'from the site',
    });
    expect(renderTemplate('{{ company.name }}/{{ missing }}', sample)).toBe('Acme/');
  });
});

describe('the dedup policy in the draft', () => {
  const mapping: MappingRule[] = [
    { target: 'Email', source: 'email' },
    { target: 'MobilePhone', source: 'phone' },
    { target: 'Name', template: '{{ first_name }}' },
  ];
  const policy = (over: Partial<DraftStep['dedup']>): DraftStep['dedup'] => ({ mode: 'update_if_found', match: [], compare: {}, on_several: 'newest', update_rules: {}, ...over });

  it('the dedup step requires a group unless always_create, and filled, distinct groups', () => {
    const d = withStep({ mapping, dedup: policy({}) });
    expect(validateStep('dedup', d, ctx)).toEqual({ 'steps.0.dedup.match': 'wizard.matchFieldsRequired' });
    const groups = policy({ match: [{ fields: ['Email'] }, { fields: [] }, { fields: ['Email'] }] });
    expect(validateStep('dedup', withStep({ mapping, dedup: groups }), ctx)).toEqual({ 'steps.0.dedup.match.1': 'dedup.groupEmpty', 'steps.0.dedup.match.2': 'dedup.groupRepeats' });
    expect(validateStep('dedup', withStep({ mapping, dedup: policy({ mode: 'always_create' }) }), ctx)).toEqual({});
  });

  it('the body sent has the round-2 policy exactly: groups in order, comparisons, on_several, rules', () => {
    const d = withStep(
      {
        mapping,
        dedup: policy({
          match: [{ fields: ['MobilePhone', 'Gone'] }, { fields: [] }, { fields: ['Email'] }],
          compare: { Email: { as: 'email', gmail: true } },
          on_several: 'skip',
          update_rules: { Email: 'fill_if_empty' },
        }),
      },
      { name: ' Site ' },
    );
    const body = toBundleInput(d);
    expect(body.name).toBe('Site');
    expect(body.schedule).toEqual({ interval_minutes: 5 });
    expect(body.steps[0]!.dedup).toEqual({
      mode: 'update_if_found',
      match: [{ fields: ['MobilePhone'] }, { fields: ['Email'] }],
      compare: { MobilePhone: { as: 'phone' }, Email: { as: 'email', gmail: true } },
      on_several: 'skip',
      update_rules: { Email: 'fill_if_empty', MobilePhone: 'overwrite', Name: 'overwrite' },
    });
    expect(body.steps[0]!.dedup).not.toHaveProperty('match_fields');
  });

  it('a round-1 bundle loads as one group', () => {
    const target = { connection_id: 'c1', action: 'create_record', entity: 'Contact' };
    const b = { name: 'B', source: emptyDraft().source, target, mapping, dedup: { mode: 'skip_if_found', match_fields: ['Email', 'Name'], update_rules: {} } } as unknown as Bundle;
    const [main, ...rest] = draftFromBundle(b).steps;
    expect(rest).toEqual([]);
    expect(main).toMatchObject({ key: 'main', connection_id: 'c1', entity: 'Contact', mapping });
    expect(main!.dedup).toEqual(policy({ mode: 'skip_if_found', match: [{ fields: ['Email', 'Name'] }] }));
  });

  it("a draft kept in round 1's shape (before the steps) is not resumed", () => {
    const old = { name: 'Old', source: emptyDraft().source, target: {}, mapping: [], dedup: { mode: 'update_if_found', match_fields: ['Email'] } };
    localStorage.setItem('bpmlink.bundle-draft.old', JSON.stringify({ draft: old, version: null }));
    expect(loadDraft('old')).toBeNull();
  });
});

describe('messages after an edit', () => {
  const mapping: MappingRule[] = [{ target: 'Email', source: 'email' }];
  const dedup: DraftStep['dedup'] = { mode: 'update_if_found', match: [], compare: {}, on_several: 'newest', update_rules: {} };
  const base = withStep({ mapping, dedup });

  it('a message of the step goes once its problem is fixed, and stays while it is not', () => {
    const errors = validateStep('dedup', base, ctx);
    expect(errors).toEqual({ 'steps.0.dedup.match': 'wizard.matchFieldsRequired' });
    const other = withStep({ mapping, dedup: { ...dedup, on_several: 'oldest' } });
    expect(errorsAfterEdit(errors, base, other, 'dedup', ctx)).toEqual(errors);
    const fixed = withStep({ mapping, dedup: { ...dedup, match: [{ fields: ['Email'] }] } });
    expect(errorsAfterEdit(errors, base, fixed, 'dedup', ctx)).toEqual({});
  });

  it("a server's message about the duplicate policy goes once the mapping fills the field it named", () => {
    const phone = withStep({ mapping, dedup: { ...dedup, match: [{ fields: ['Phone'] }] } });
    const errors = { 'steps.0.dedup.Phone': 'the mapping does not fill Phone' };
    const renamed = { ...phone, name: 'Renamed' };
    expect(errorsAfterEdit(errors, phone, renamed, 'source', ctx)).toEqual(errors);
    const mapped = withStep({ mapping: [...mapping, { target: 'Phone', source: 'phone' }], dedup: phone.steps[0]!.dedup });
    expect(errorsAfterEdit(errors, phone, mapped, 'mapping', ctx)).toEqual({});
  });

  it('a message of another step goes once an edit here fixes it', () => {
    const errors = validateStep('dedup', base, ctx);
    const fixed = withStep({ mapping, dedup: { ...dedup, match: [{ fields: ['Email'] }] } });
    expect(errorsAfterEdit(errors, base, fixed, 'mapping', ctx)).toEqual({});
  });

  it("a server's message goes when the part it was about changes, not before", () => {
    const ruled = { ...dedup, match: [{ fields: ['Email'] }], update_rules: { Email: 'keep' as const } };
    const withRule = withStep({ mapping, dedup: ruled });
    const errors = { 'steps.0.dedup.update_rules.Email': 'not allowed here', 'steps.0.mapping.Email': 'bad value' };
    const sameRule = withStep({ mapping, dedup: { ...ruled, on_several: 'skip' } });
    expect(errorsAfterEdit(errors, withRule, sameRule, 'dedup', ctx)).toEqual(errors);
    const changed = withStep({ mapping, dedup: { ...ruled, update_rules: { Email: 'overwrite' } } });
    expect(errorsAfterEdit(errors, withRule, changed, 'dedup', ctx)).toEqual({ 'steps.0.mapping.Email': 'bad value' });
  });
});

describe('the required fields a step leaves unmapped (never a placeholder)', () => {
  const fields = [
    { name: 'Name', required: true },
    { name: 'Email', required: false },
  ];
  it('names them for a create, none for an update', () => {
    const email = [{ target: 'Email', source: 'email' }];
    expect(unmappedRequired({ action: 'create_record', mapping: email, dedup: { mode: 'update_if_found' } }, fields)).toEqual(['Name']);
    expect(unmappedRequired({ action: 'create_record', mapping: [...email, { target: 'Name', source: 'name' }], dedup: undefined }, fields)).toEqual([]);
    expect(unmappedRequired({ action: 'create_record', mapping: email, dedup: { mode: 'update_only' } }, fields)).toEqual([]);
    expect(unmappedRequired({ action: 'update_record', mapping: email, dedup: { mode: 'update_if_found' } }, fields)).toEqual([]);
  });
});

describe('conversions with parameters', () => {
  it('the Russian phone preset is stored as phone_e164 with region RU and read back', () => {
    const d = withStep({ mapping: [{ target: 'MobilePhone', source: 'phone', convert: ['trim', 'phone_e164_ru'] }] });
    expect(toBundleInput(d).steps[0]!.mapping[0]!.convert).toEqual(['trim', { name: 'phone_e164', region: 'RU' }]);
    expect(conversionFromApi({ name: 'phone_e164', region: 'RU' })).toBe('phone_e164_ru');
    expect(conversionFromApi({ name: 'phone_e164' })).toBe('phone_e164');
    expect(conversionFromApi({ name: 'trim' })).toBe('trim');
  });

  it('a saved step with arguments the editor does not show keeps them through an edit', () => {
    const date = { name: 'date', format: '%d.%m.%Y %H:%M', timezone: 'Europe/Moscow' };
    const phone = { name: 'phone_e164', region: 'RU', strict: true };
    const target = { connection_id: 'c1', action: 'create_record', entity: 'Lead' };
    const bundle = { name: 'B', source: emptyDraft().source, target, mapping: [{ target: 'MeetingDate', source: 'when', convert: ['trim', date, phone] }] } as unknown as Bundle;
    const draft = draftFromBundle(bundle);
    expect(draft.steps[0]!.mapping[0]!.convert!.map(conversionName)).toEqual(['trim', 'date', 'phone_e164_ru']);
    expect(toBundleInput(draft).steps[0]!.mapping[0]!.convert).toEqual(['trim', date, phone]);
    // Unset arguments come back as null: such a step is just its name.
    expect(conversionFromApi({ name: 'date', format: null, timezone: null })).toBe('date');
  });

  it('choosing conversions keeps the arguments of the steps still chosen', () => {
    const date = { name: 'date', timezone: 'Asia/Tokyo' };
    expect(setConversions(['trim', date], ['date', 'lower'])).toEqual([date, 'lower']);
    expect(setConversions([date], [])).toEqual([]);
  });

  it('a date step gets a time zone, or none to take the profile default', () => {
    expect(stepTimeZone('date')).toBeNull();
    const tokyo = withTimeZone('date', 'Asia/Tokyo');
    expect(tokyo).toEqual({ name: 'date', timezone: 'Asia/Tokyo' });
    expect(stepTimeZone(tokyo)).toBe('Asia/Tokyo');
    expect(withTimeZone(tokyo, null)).toBe('date');
    expect(withTimeZone({ name: 'date', format: '%d.%m.%Y', timezone: 'UTC' }, null)).toEqual({ name: 'date', format: '%d.%m.%Y' });
  });
});

describe('the draft across reloads', () => {
  it('is kept per bundle and only for the version it was drafted from', () => {
    const d = { ...emptyDraft(), name: 'Draft' };
    saveDraft('b1', d, 3);
    expect(loadDraft('b1', 3)?.name).toBe('Draft');
    expect(loadDraft('b1', 4)).toBeNull();
    saveDraft('new', d);
    expect(loadDraft('new')?.name).toBe('Draft');
  });
});

describe('the webhook secret', () => {
  it('goes with the body only when typed', () => {
    expect(toBundleInput(emptyDraft(), 'tilda-api-key-1')).toHaveProperty('webhook_secret', 'tilda-api-key-1');
    expect(toBundleInput(emptyDraft())).not.toHaveProperty('webhook_secret');
  });
});

describe('source fields for the mapping', () => {
  const declared = [
    { path: 'Name', label: { en: 'Name', ru: 'Имя' }, example: 'Иван Петров' },
    { path: 'Phone', label: { en: 'Phone', ru: 'Телефон' }, example: '+7 (912) 345-67-89' },
    { path: 'items.0.sku', label: { en: 'SKU', ru: 'Артикул' }, example: 'A-1' },
  ];

  it('offers the declared fields with their examples before any request', async () => {
    await i18n.changeLanguage('ru');
    expect(mergeSourceFields(declared, [])).toEqual([
      { path: 'Name', label: 'Имя', value: 'Иван Петров', example: true },
      { path: 'Phone', label: 'Телефон', value: '+7 (912) 345-67-89', example: true },
      { path: 'items.0.sku', label: 'Артикул', value: 'A-1', example: true },
    ]);
  });

  it('takes the sample value for a declared field and keeps undeclared ones, marked as from the sample', async () => {
    await i18n.changeLanguage('en');
    const sample = [
      { path: 'Phone', value: '+79001112233' },
      { path: 'items[0].sku', value: 'B-2' },
      { path: 'Comment_for_manager', value: 'call after 6' },
    ];
    expect(mergeSourceFields(declared, sample)).toEqual([
      { path: 'Name', label: 'Name', value: 'Иван Петров', example: true },
      { path: 'Phone', label: 'Phone', value: '+79001112233' },
      { path: 'items.0.sku', label: 'SKU', value: 'B-2' },
      { path: 'Comment_for_manager', value: 'call after 6', fromSample: true },
    ]);
  });

  it('leaves the sample as it is when the trigger declares nothing', () => {
    const sample = [{ path: 'email', value: 'a@example.com' }];
    expect(mergeSourceFields([], sample)).toEqual(sample);
  });
});
