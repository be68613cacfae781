import { describe, expect, it } from 'vitest';
import type { PredictionWindow } from '../../domain/prediction-window';
import {
  classificationHistogram,
  decileEdges,
  evaluateGates,
  outputShiftPsi,
  percentileCont,
  probabilityBin,
  psi,
  regressionHistogram,
  valueBin,
} from '../../ml/rollout-gates';

describe('psi', () => {
  it('is Σ (a − b)·ln(a/b) over bin shares', () => {
    // (0.5 − 0.9)·ln(0.5/0.9) + (0.5 − 0.1)·ln(0.5/0.1) = 0.235115 + 0.643775
    expect(psi([50, 50], [90, 10])).toBeCloseTo(0.87889, 5);
    expect(psi([90, 10], [50, 50])).toBeCloseTo(0.87889, 5);
  });
  it('is 0 for the same shares whatever the counts', () => {
    expect(psi([10, 30, 60], [1, 3, 6])).toBeCloseTo(0, 12);
  });
  it('counts an empty bin as a share of 0.0001', () => {
    // (1 − 0.5)·ln(1/0.5) + (0.0001 − 0.5)·ln(0.0001/0.5) = 0.346574 + 4.257745
    expect(psi([100, 0], [50, 50])).toBeCloseTo(4.60432, 5);
  });
  it('has no value when a side has no counts, and refuses different bins', () => {
    expect(psi([0, 0], [1, 1])).toBeNull();
    expect(() => psi([1, 2], [1, 2, 3])).toThrow(/same bins/);
  });
});

describe('binning', () => {
  it('puts probabilities in ten fixed bins, 1 in the last', () => {
    expect([0, 0.05, 0.1, 0.55, 0.9999, 1, 1.2, -0.1].map(probabilityBin)).toEqual([0, 0, 1, 5, 9, 9, 9, 0]);
  });
  it('numbers value bins as width_bucket does: an edge belongs to the bin above it', () => {
    const edges = [1, 2, 3];
    expect([0.5, 1, 1.5, 2, 3, 10].map((v) => valueBin(v, edges))).toEqual([0, 1, 1, 2, 3, 3]);
  });
  it('interpolates percentiles like percentile_cont', () => {
    // positions p·(n−1) over [10, 20, 30, 40]: 0.99·3 = 2.97 → 30 + 0.97·10
    expect(percentileCont([10, 20, 30, 40], 0.99)).toBeCloseTo(39.7, 10);
    expect(percentileCont([10, 20, 30, 40], 0.5)).toBeCloseTo(25, 10);
    expect(percentileCont([], 0.5)).toBeNull();
  });
  it('takes deciles of 1..101 as 11, 21 … 91 and drops repeated edges', () => {
    expect(decileEdges(Array.from({ length: 101 }, (_, i) => i + 1))).toEqual([11, 21, 31, 41, 51, 61, 71, 81, 91]);
    // [5, 5, 5, 5, 7]: positions 0.4 … 2.8 all read 5; 3.2 → 5 + 0.2·2 = 5.4; 3.6 → 5 + 0.6·2 = 6.2
    const edges = decileEdges([5, 5, 5, 5, 7]);
    expect(edges).toHaveLength(3);
    [5, 5.4, 6.2].forEach((e, i) => expect(edges[i]).toBeCloseTo(e, 10));
  });
  it('counts labels and probability bins of classifier outputs', () => {
    const h = classificationHistogram([
      { label: 'yes', probability: 0.95 },
      { label: 'yes', probability: 0.91 },
      { label: 'no', probability: 0.05 },
    ]);
    expect(h).toEqual({ kind: 'classification', labels: { yes: 2, no: 1 }, probabilityBins: [1, 0, 0, 0, 0, 0, 0, 0, 0, 2] });
  });
});

describe('outputShiftPsi', () => {
  it('takes the larger of label PSI and probability PSI for classifiers', () => {
    // Same labels 80/20 → 50/50 (label PSI 0.41589); probabilities identical (probability PSI 0).
    const stable = { kind: 'classification' as const, labels: { yes: 80, no: 20 }, probabilityBins: [10, 0, 0, 0, 0, 0, 0, 0, 0, 90] };
    const candidate = { kind: 'classification' as const, labels: { yes: 50, no: 50 }, probabilityBins: [10, 0, 0, 0, 0, 0, 0, 0, 0, 90] };
    expect(outputShiftPsi(stable, candidate)).toBeCloseTo(0.41589, 5);
    // Same labels, confidence moved from bin 9 to bin 5: the probability PSI is the larger.
    const unsure = { ...stable, probabilityBins: [10, 0, 0, 0, 0, 90, 0, 0, 0, 0] };
    const expected = (0.9 - 0.0001) * Math.log(0.9 / 0.0001) + (0.0001 - 0.9) * Math.log(0.0001 / 0.9);
    expect(outputShiftPsi(stable, unsure)).toBeCloseTo(expected, 8);
  });
  it('counts a label only one side predicts', () => {
    const stable = { kind: 'classification' as const, labels: { a: 100 }, probabilityBins: [0, 0, 0, 0, 0, 0, 0, 0, 0, 100] };
    const candidate = { kind: 'classification' as const, labels: { a: 50, b: 50 }, probabilityBins: [0, 0, 0, 0, 0, 0, 0, 0, 0, 100] };
    expect(outputShiftPsi(stable, candidate)).toBeCloseTo(4.60432, 5);
  });
  it('compares regressors on the same quantile bins only', () => {
    const edges = [1, 2];
    const stable = regressionHistogram([0, 1.5, 3], edges);
    expect(stable).toEqual({ kind: 'regression', edges: [1, 2], bins: [1, 1, 1] });
    expect(outputShiftPsi(stable, regressionHistogram([0, 1.5, 3], edges))).toBeCloseTo(0, 12);
    expect(() => outputShiftPsi(stable, regressionHistogram([0], [1, 3]))).toThrow(/same edges/);
  });
});

function window(over: Partial<PredictionWindow>): PredictionWindow {
  return { total: 0, errors: 0, p99LatencyMs: null, outputs: null, accuracy: null, ...over };
}

const sameOutputs = { kind: 'classification' as const, labels: { yes: 50, no: 50 }, probabilityBins: [50, 0, 0, 0, 0, 0, 0, 0, 0, 50] };

describe('evaluateGates', () => {
  it('reads every configured gate in a fixed order and passes a healthy window', () => {
    const result = evaluateGates(
      { minAccuracy: 0.8, errorRate: 0.05, p99LatencyMs: 50, predictionShiftPsi: 0.2 },
      {
        candidate: window({ total: 200, errors: 2, p99LatencyMs: 12.5, outputs: sameOutputs, accuracy: { labelled: 40, correct: 36 } }),
        stable: window({ total: 800, outputs: sameOutputs }),
      },
    );
    expect(result.readings).toEqual([
      { gate: 'errorRate', threshold: 0.05, value: 0.01, samples: 200, passed: true },
      { gate: 'p99LatencyMs', threshold: 50, value: 12.5, samples: 200, passed: true },
      { gate: 'predictionShiftPsi', threshold: 0.2, value: 0, samples: 198, passed: true },
      { gate: 'minAccuracy', threshold: 0.8, value: 0.9, samples: 40, passed: true },
    ]);
    expect(result.breached).toBeNull();
    expect(result.summary).toBe('Every gate passed on 200 candidate predictions.');
  });

  it('names the first breached gate in order errorRate, p99LatencyMs, predictionShiftPsi, minAccuracy', () => {
    const readings = {
      candidate: window({ total: 100, errors: 10, p99LatencyMs: 80, outputs: sameOutputs, accuracy: { labelled: 10, correct: 5 } }),
      stable: window({ total: 100, outputs: sameOutputs }),
    };
    const all = evaluateGates({ errorRate: 0.05, p99LatencyMs: 50, minAccuracy: 0.9 }, readings);
    expect(all.breached).toMatchObject({ gate: 'errorRate', value: 0.1, passed: false });
    expect(all.readings.filter((r) => !r.passed).map((r) => r.gate)).toEqual(['errorRate', 'p99LatencyMs', 'minAccuracy']);
    expect(all.summary).toBe('Gate errorRate breached: 0.1 is over the limit of 0.05 (100 samples).');
    expect(evaluateGates({ p99LatencyMs: 50, minAccuracy: 0.9 }, readings).breached?.gate).toBe('p99LatencyMs');
    const accuracy = evaluateGates({ minAccuracy: 0.9 }, readings);
    expect(accuracy.breached).toMatchObject({ gate: 'minAccuracy', value: 0.5, samples: 10 });
    expect(accuracy.summary).toBe('Gate minAccuracy breached: 0.5 is below the minimum of 0.9 (10 samples).');
  });

  it('breaches the shift gate when the candidate pushes its outputs to one class', () => {
    const shifted = { kind: 'classification' as const, labels: { yes: 100 }, probabilityBins: [0, 0, 0, 0, 0, 0, 0, 0, 0, 100] };
    const result = evaluateGates({ predictionShiftPsi: 0.2 }, { candidate: window({ total: 100, outputs: shifted }), stable: window({ total: 100, outputs: sameOutputs }) });
    // Labels 50/50 → 100/0: (0.5 − 1)·ln(0.5) + (0.5 − 0.0001)·ln(0.5/0.0001)
    const expected = -0.5 * Math.log(0.5) + (0.5 - 0.0001) * Math.log(0.5 / 0.0001);
    expect(result.breached?.gate).toBe('predictionShiftPsi');
    expect(result.breached?.value).toBeCloseTo(expected, 8);
  });

  it('fails closed: a gate with nothing to read has not passed, and says what it lacked', () => {
    const result = evaluateGates({ errorRate: 0.01, predictionShiftPsi: 0.1, minAccuracy: 0.9, minRequests: 0 }, { candidate: window({ total: 0 }), stable: null });
    expect(result.readings.map((r) => [r.gate, r.value, r.passed])).toEqual([
      ['errorRate', null, false],
      ['predictionShiftPsi', null, false],
      ['minAccuracy', null, false],
    ]);
    expect(result.breached).toBeNull();
    expect(result.insufficient).toContain('no reading for errorRate');
    // Enough traffic but no labels: accuracy is still unjudged, so the window cannot pass.
    const unlabelled = evaluateGates({ errorRate: 0.05, minAccuracy: 0.9 }, { candidate: window({ total: 80, errors: 0, accuracy: { labelled: 0, correct: 0 } }), stable: null });
    expect(unlabelled.readings.map((r) => [r.gate, r.passed])).toEqual([
      ['errorRate', true],
      ['minAccuracy', false],
    ]);
    expect(unlabelled.breached).toBeNull();
    expect(unlabelled.insufficient).toBe('no reading for minAccuracy (no feedback labels on candidate predictions)');
    expect(unlabelled.summary).toBe('Not enough data to judge: no reading for minAccuracy (no feedback labels on candidate predictions); nothing passed.');
  });

  it('judges nothing below minRequests (50 unless the rollout says otherwise): nothing passes, nothing breaches', () => {
    const result = evaluateGates({ errorRate: 0.01 }, { candidate: window({ total: 20, errors: 20 }), stable: null });
    expect(result.belowMinRequests).toBe(true);
    expect(result.readings).toEqual([{ gate: 'errorRate', threshold: 0.01, value: 1, samples: 20, passed: false }]);
    expect(result.breached).toBeNull();
    expect(result.insufficient).toBe('20 candidate predictions, fewer than the 50 minRequests asks for');
    expect(evaluateGates({ errorRate: 0.01 }, { candidate: window({ total: 49 }), stable: null }).insufficient).not.toBeNull();
    expect(evaluateGates({ errorRate: 0.01 }, { candidate: window({ total: 50 }), stable: null })).toMatchObject({ insufficient: null, breached: null, readings: [{ passed: true }] });
    expect(evaluateGates({ errorRate: 0.01, minRequests: 20 }, { candidate: window({ total: 20, errors: 20 }), stable: null }).breached?.gate).toBe('errorRate');
  });
});
