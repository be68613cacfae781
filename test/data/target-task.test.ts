import { describe, expect, it } from 'vitest';
import { checkFamilyForTask, chooseTask, MAX_CLASSES, profileFromStats, profileValues, targetClasses } from '../../data/target-task';
import { readCsv } from './csv-source';
import { UserError } from '../../platform/user-error';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err.code;
    throw err;
  }
  return undefined;
}

const numbers = (values: number[]) => profileValues(values.map(String), 'number');

describe('chooseTask', () => {
  it('infers classification for text and for a few whole numbers, regression otherwise, and says why', () => {
    expect(chooseTask('species', profileValues(['setosa', 'virginica', 'versicolor'], 'string'), undefined)).toEqual({
      task: 'classification',
      reason: 'the target "species" holds text',
    });
    expect(chooseTask('quality', numbers([3, 4, 5, 6, 7, 8]), undefined)).toMatchObject({ task: 'classification', reason: expect.stringContaining('6 distinct whole numbers') as unknown });
    expect(chooseTask('mpg', numbers([18, 15.5, 21]), undefined)).toMatchObject({ task: 'regression', reason: expect.stringContaining('not all whole') as unknown });
    expect(chooseTask('price', numbers(Array.from({ length: 21 }, (_, i) => i * 1000)), undefined)).toMatchObject({ task: 'regression' });
  });

  it('takes a declared task, and checks it fits the target', () => {
    expect(chooseTask('quality', numbers([3, 4, 5]), 'regression')).toEqual({ task: 'regression', reason: 'declared in the request' });
    expect(chooseTask('mpg', numbers([18, 15.5, 21]), 'classification')).toEqual({ task: 'classification', reason: 'declared in the request' });
    expect(codeOf(() => chooseTask('city', profileValues(['a', 'b'], 'string'), 'regression'))).toBe('regression_target_not_numeric');
  });

  it('refuses fewer than two classes, more than the cap, and a constant regression target', () => {
    expect(codeOf(() => chooseTask('y', profileValues(['a', 'a', null], 'string'), undefined))).toBe('too_few_classes');
    const many = profileValues(Array.from({ length: MAX_CLASSES + 1 }, (_, i) => `id-${i}`), 'string');
    expect(codeOf(() => chooseTask('y', many, undefined))).toBe('too_many_classes');
    expect(codeOf(() => chooseTask('y', { type: 'string', distinct: 10_000, distinctCapped: true, integers: false }, undefined))).toBe('too_many_classes');
    expect(codeOf(() => chooseTask('y', numbers([2.5, 2.5]), 'regression'))).toBe('constant_target');
  });

  it('checks the model family against the task', () => {
    expect(codeOf(() => checkFamilyForTask('logistic', { task: 'regression', reason: 'declared in the request' }))).toBe('model_type_not_for_task');
    expect(codeOf(() => checkFamilyForTask('linear', { task: 'classification', reason: 'x' }))).toBe('model_type_not_for_task');
    expect(codeOf(() => checkFamilyForTask('mlp', { task: 'regression', reason: 'x' }))).toBeUndefined();
  });
});

describe('target profiles', () => {
  it('come from ingest statistics the same as from the values', async () => {
    const parsed = await readCsv('q,m,s\n3,1.5,a\n5,2,b\n3,2,a\n\n7,,c\n');
    const [q, m, s] = parsed.stats;
    expect(q && profileFromStats(q)).toEqual({ type: 'number', distinct: 3, distinctCapped: false, integers: true });
    expect(m && profileFromStats(m)).toEqual({ type: 'number', distinct: 2, distinctCapped: false, integers: false });
    expect(s && profileFromStats(s)).toEqual({ type: 'string', distinct: 3, distinctCapped: false, integers: false });
    expect(profileValues(['3', '5', '3', '7'], 'number')).toEqual({ type: 'number', distinct: 3, distinctCapped: false, integers: true });
  });
  it('are unknown for numeric statistics from before distinct values were counted', () => {
    expect(profileFromStats({ name: 'x', type: 'number', count: 1, missing: 0, min: 1, max: 1, mean: 1, std: 0, median: 1 })).toBeNull();
  });
});

describe('targetClasses', () => {
  it('orders numeric classes numerically and ignores missing values', () => {
    expect(targetClasses(['10', null, '9', '10', '-1'], 'number')).toEqual(['-1', '9', '10']);
  });
  it('orders text classes by code units', () => {
    expect(targetClasses(['yes', 'no', 'No'], 'string')).toEqual(['No', 'no', 'yes']);
  });
});
