import { describe, expect, it } from 'vitest';
import type { MappingRule } from '@/api/types';
import type { DedupPolicy } from '../../api/dedup';
import { dedupFromStored, fieldKind, groupProblems, matchFieldOptions, moveGroup, normalizeDedup } from './dedupModel';

const mapping: MappingRule[] = [
  { target: 'Email', source: 'email' },
  { target: 'MobilePhone', source: 'phone' },
  { target: 'Name', template: '{{ first_name }}' },
];
const policy = (over: Partial<DedupPolicy>): DedupPolicy => ({ mode: 'update_if_found', match: [], compare: {}, on_several: 'newest', update_rules: {}, ...over });

describe('dedup groups', () => {
  it('offers match fields only among mapped fields', () => {
    expect(matchFieldOptions(mapping)).toEqual(['Email', 'MobilePhone', 'Name']);
  });

  it('drops fields no longer mapped from groups and rules, keeping an emptied group', () => {
    const d = normalizeDedup(policy({ match: [{ fields: ['Phone'] }, { fields: ['Email', 'Gone'] }], update_rules: { Phone: 'keep', Name: 'fill_if_empty' } }), mapping);
    expect(d.match).toEqual([{ fields: [] }, { fields: ['Email'] }]);
    expect(d.update_rules).toEqual({ Email: 'overwrite', MobilePhone: 'overwrite', Name: 'fill_if_empty' });
  });

  it('always_create has no groups nor comparisons; skip has no update rules', () => {
    const d = normalizeDedup(policy({ mode: 'always_create', match: [{ fields: ['Email'] }], compare: { Email: { as: 'email' } }, update_rules: { Email: 'keep' } }), mapping);
    expect(d).toEqual(policy({ mode: 'always_create' }));
    expect(normalizeDedup(policy({ mode: 'skip_if_found', match: [{ fields: ['Email'] }], update_rules: { Email: 'keep' } }), mapping).update_rules).toEqual({});
  });

  it('round 1: match_fields is one group (AND), round 2 groups are kept in order', () => {
    expect(dedupFromStored({ mode: 'skip_if_found', match_fields: ['Email', 'Name'], update_rules: {} }).match).toEqual([{ fields: ['Email', 'Name'] }]);
    expect(dedupFromStored({ mode: 'skip_if_found', match_fields: [] }).match).toEqual([]);
    const stored = { mode: 'update_if_found' as const, match: [{ fields: ['MobilePhone'] }, { fields: ['Email'] }], match_fields: ['MobilePhone'], on_several: 'oldest' as const };
    expect(dedupFromStored(stored)).toEqual(policy({ match: [{ fields: ['MobilePhone'] }, { fields: ['Email'] }], on_several: 'oldest' }));
  });

  it('moves a group up and down, and not past the ends', () => {
    const g = [{ fields: ['A'] }, { fields: ['B'] }, { fields: ['C'] }];
    expect(moveGroup(g, 2, -1).map((x) => x.fields[0])).toEqual(['A', 'C', 'B']);
    expect(moveGroup(g, 0, 1).map((x) => x.fields[0])).toEqual(['B', 'A', 'C']);
    expect(moveGroup(g, 0, -1)).toBe(g);
    expect(moveGroup(g, 2, 1)).toBe(g);
  });

  it('an empty group and a group with the same fields as an earlier one are problems', () => {
    expect(groupProblems([{ fields: ['Email', 'Name'] }, { fields: [] }, { fields: ['Name', 'Email'] }, { fields: ['Email'] }])).toEqual({
      1: { key: 'dedup.groupEmpty' },
      2: { key: 'dedup.groupRepeats', of: 1 },
    });
  });
});

describe('comparisons per field', () => {
  it('knows phone and e-mail fields by name, or by a comparison stored for them', () => {
    expect(fieldKind('MobilePhone')).toBe('phone');
    expect(fieldKind('UsrHomePhone')).toBe('phone');
    expect(fieldKind('Email')).toBe('email');
    expect(fieldKind('Name')).toBe('text');
    expect(fieldKind('UsrMailingAddress')).toBe('text');
    expect(fieldKind('UsrTel', { as: 'phone' })).toBe('phone');
  });

  it('every searched field gets its comparison, defaulted by kind; unsearched fields none', () => {
    const d = normalizeDedup(policy({ match: [{ fields: ['MobilePhone', 'Name'] }, { fields: ['Email'] }] }), mapping);
    expect(d.compare).toEqual({ MobilePhone: { as: 'phone' }, Name: { as: 'exact' }, Email: { as: 'email', gmail: false } });
    expect(normalizeDedup(policy({ match: [{ fields: ['Email'] }], compare: { Name: { as: 'text', ignore_case: true } } }), mapping).compare).toEqual({
      Email: { as: 'email', gmail: false },
    });
  });

  it('offers per kind only its comparisons: an e-mail is never compared as written', () => {
    const d = normalizeDedup(
      policy({
        match: [{ fields: ['MobilePhone', 'Email', 'Name'] }],
        compare: { MobilePhone: { as: 'exact' }, Email: { as: 'exact' }, Name: { as: 'text', ignore_case: true } },
      }),
      mapping,
    );
    expect(d.compare).toEqual({ MobilePhone: { as: 'exact' }, Email: { as: 'email', gmail: false }, Name: { as: 'text', ignore_case: true } });
  });
});
