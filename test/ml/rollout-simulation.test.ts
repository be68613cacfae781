import { describe, expect, it } from 'vitest';
import { compareClassifications, compareRegressions, judgeSimulation } from '../../ml/rollout-simulation';

describe('compareClassifications', () => {
  it('counts agreement over every replayed request, a failed candidate answer disagreeing', () => {
    const stable = [
      { label: 'yes', probability: 0.9 },
      { label: 'no', probability: 0.1 },
      { label: 'yes', probability: 0.8 },
      { label: 'no', probability: 0.3 },
    ];
    const result = compareClassifications(stable, [{ label: 'yes', probability: 0.95 }, { label: 'yes', probability: 0.6 }, null, { label: 'no', probability: 0.35 }]);
    expect(result).toMatchObject({ candidateErrors: 1, agreement: 0.5, agreementRule: 'the same predicted label' });
    // Labels yes/no 2:2 → 2:1; bins 9,1,8,3 → 9,6,3: the probability PSI is the larger.
    expect(result.outputShiftPsi).toBeGreaterThan(0);
  });
});

describe('compareRegressions', () => {
  it('agrees within 5 % of the stable value, or of stable’s spread near zero', () => {
    // Stable values 0, 100, 200, 300 have standard deviation √12500 ≈ 111.8: near zero 5.59 is the tolerance.
    const result = compareRegressions([0, 100, 200, 300], [5, 106, 209, 316]);
    // 0→5: within 5.59 ✓; 100→106: 6 > 5.59 ✗; 200→209: 9 ≤ 10 ✓; 300→316: 16 > 15 ✗
    expect(result.agreement).toBe(0.5);
    expect(result.candidateErrors).toBe(0);
  });
});

describe('judgeSimulation', () => {
  const healthy = { requests: 100, candidateErrors: 0, agreement: 0.97, agreementRule: 'the same predicted label', outputShiftPsi: 0.05, candidateP99LatencyMs: 4 };

  it('passes within the default marks (agreement ≥ 0.9, PSI ≤ 0.2, latency unchecked)', () => {
    expect(judgeSimulation({ ...healthy, candidateP99LatencyMs: 900 })).toEqual({
      thresholds: { minAgreement: 0.9, maxShiftPsi: 0.2, maxP99LatencyMs: null },
      passed: true,
      failures: [],
    });
  });

  it('lists every failed check with its numbers', () => {
    const verdict = judgeSimulation({ ...healthy, candidateErrors: 2, agreement: 0.8, outputShiftPsi: 0.5, candidateP99LatencyMs: 40 }, { maxP99LatencyMs: 30 });
    expect(verdict.passed).toBe(false);
    expect(verdict.failures.map((f) => [f.check, f.value, f.threshold])).toEqual([
      ['candidateErrors', 2, 0],
      ['agreement', 0.8, 0.9],
      ['outputShiftPsi', 0.5, 0.2],
      ['p99LatencyMs', 40, 30],
    ]);
    expect(verdict.failures[1]?.message).toBe('The candidate agreed with stable (the same predicted label) on 80.0 % of replayed requests; at least 90.0 % is required.');
  });

  it('fails a replay of nothing', () => {
    const verdict = judgeSimulation({ ...healthy, requests: 0, agreement: null, outputShiftPsi: null, candidateP99LatencyMs: null });
    expect(verdict.failures.map((f) => f.check)).toEqual(['requests']);
  });
});
