import { describe, expect, it } from 'vitest';
import { readPredictions } from '../../serving/read-predictions';

describe('readPredictions', () => {
  it('gives each class its probability and labels as the user wrote them', () => {
    const out = readPredictions({ name: 'probabilities', task: 'classification', classes: ['3', '5', '8'], labelType: 'number' }, Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.2, 0.3]), 2);
    expect(out.map((p) => ('label' in p ? p.label : null))).toEqual([5, 3]);
    expect(out[0]).toMatchObject({ probabilities: { '3': expect.closeTo(0.1, 6) as unknown, '5': expect.closeTo(0.7, 6) as unknown } });
    expect(out[0]).not.toHaveProperty('probability');
  });
  it('keeps `probability` of the second class for two-class models, old single-output ones included', () => {
    const current = readPredictions({ name: 'probabilities', classes: ['no', 'yes'], labelType: 'string' }, Float32Array.from([0.25, 0.75]), 1);
    const legacy = readPredictions({ name: 'probability', classes: ['no', 'yes'], labelType: 'string' }, Float32Array.from([0.75]), 1);
    expect(current).toEqual(legacy);
    expect(legacy[0]).toEqual({ label: 'yes', probability: 0.75, probabilities: { no: 0.25, yes: 0.75 } });
  });
  it('returns values for a regressor', () => {
    expect(readPredictions({ name: 'value', task: 'regression', target: 'mpg' }, Float32Array.from([21.5, 14]), 2)).toEqual([{ value: 21.5 }, { value: 14 }]);
  });
});
