import { describe, expect, it } from 'vitest';
import { approvedByPerson, servingRefusal, type VersionFacts } from '../../domain/serving-guard';

const passed = { passed: true as const, rows: 32, latencyCalls: 100, p50Ms: 1, p99Ms: 2, maxMs: 3, latencyBudgetMs: 50, at: 'now' };
const examined: VersionFacts = { label: 'churn v3', blessing: { decision: 'blessed', reasons: [] }, infraValidation: passed, approval: null };
const approvedBy = (by: string, reason = 'checked') => ({ decision: 'approved' as const, by, reason, alias: 'production' });
const code = (facts: VersionFacts, opts: Parameters<typeof servingRefusal>[1]) => servingRefusal(facts, opts)?.code ?? null;

describe('servingRefusal', () => {
  const open = { requireApproval: false, override: false };
  it('lets a blessed, infra-validated version serve when no approval is asked', () => {
    expect(code(examined, open)).toBeNull();
  });
  it('names what is missing: blessing, infra-validation (failed or never run), an earlier rejection', () => {
    expect(servingRefusal({ ...examined, blessing: { decision: 'rejected', reasons: ['accuracy 0.6 is below 0.8', 'note: below champion'] } }, open)?.message).toContain('churn v3 is not blessed (accuracy 0.6 is below 0.8)');
    expect(code({ ...examined, infraValidation: { passed: false, reason: 'timeout', message: 'hung', at: 'now' } }, open)).toBe('infra_validation_failed');
    expect(code({ ...examined, infraValidation: null }, open)).toBe('infra_validation_missing');
    expect(code({ ...examined, approval: { decision: 'rejected', by: 'key_b', reason: 'no', alias: 'production' } }, open)).toBe('approval_rejected');
  });
  it('asks for a person when the policy requires approval; an override waives the rest, never that', () => {
    const unexamined: VersionFacts = { ...examined, blessing: { decision: 'rejected', reasons: ['x'] }, infraValidation: null };
    expect(code(examined, { requireApproval: true, override: false })).toBe('approval_required');
    expect(code(unexamined, { requireApproval: false, override: true })).toBeNull();
    expect(code(unexamined, { requireApproval: true, override: true })).toBe('approval_required');
    expect(code({ ...unexamined, approval: approvedBy('key_b') }, { requireApproval: true, override: true })).toBeNull();
  });
  it('leaves approval to the promotion when the request itself goes through one (an alias move)', () => {
    expect(code({ ...examined, approval: { decision: 'rejected', by: 'key_b', reason: 'no', alias: 'production' } }, { requireApproval: true, override: false, approvalAhead: true })).toBeNull();
  });
});

describe('approvedByPerson', () => {
  it('counts a person, not a workflow, a timeout or a promotion that needed no approval', () => {
    expect(approvedByPerson(approvedBy('key_b'))).toBe(true);
    expect(approvedByPerson(approvedBy('workflow:pipeline-1'))).toBe(false);
    expect(approvedByPerson(approvedBy('key_a', 'no approval required: ship it'))).toBe(false);
    expect(approvedByPerson({ decision: 'rejected', by: 'key_b', reason: 'no', alias: 'production' })).toBe(false);
    expect(approvedByPerson(null)).toBe(false);
  });
});
