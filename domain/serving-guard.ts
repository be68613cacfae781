import type { InfraValidationRecord } from './infra-validation';

/** Why a version may not serve or take `production`: each code names what is missing. */
export const ServingRefusal = {
  NotBlessed: 'version_not_blessed',
  InfraValidationFailed: 'infra_validation_failed',
  InfraValidationMissing: 'infra_validation_missing',
  ApprovalRejected: 'approval_rejected',
  ApprovalRequired: 'approval_required',
} as const;
export type ServingRefusalCode = (typeof ServingRefusal)[keyof typeof ServingRefusal];

/** What promoteModel writes as the reason when nobody had to approve: such a decision is no person's approval. */
export const NO_APPROVAL_REQUIRED_PREFIX = 'no approval required';

/** The last promotion decision on a version, as far as the guard needs it. */
export interface ApprovalFacts {
  decision: 'approved' | 'rejected';
  by: string;
  reason: string;
  alias: string;
}

export interface VersionFacts {
  /** "churn v3": how sentences name the version. */
  label: string;
  blessing: { decision: 'blessed' | 'rejected'; reasons: string[] };
  infraValidation: InfraValidationRecord | null;
  approval: ApprovalFacts | null;
}

/** A person said yes: not a promotion that needed no approval, a workflow, or a timeout. */
export function approvedByPerson(approval: ApprovalFacts | null): boolean {
  if (approval?.decision !== 'approved') return false;
  return !approval.by.startsWith('workflow:') && approval.by !== 'timeout' && !approval.reason.startsWith(NO_APPROVAL_REQUIRED_PREFIX);
}

/**
 * Why `version` may not serve (or take production), or null when it may: blessed, infra-validated, not refused at
 * approval, and approved by a person when the policy asks. An admin override waives the first three, never the approval.
 * `approvalAhead`: the request itself goes through an approval (an alias move), so approval is judged there.
 */
export function servingRefusal(
  version: VersionFacts,
  opts: { requireApproval: boolean; override: boolean; approvalAhead?: boolean },
): { code: ServingRefusalCode; message: string } | null {
  const overrideHint = 'or an admin may send "override": {"reason": "…"}';
  if (!opts.override) {
    if (version.blessing.decision !== 'blessed') {
      const why = version.blessing.reasons.filter((r) => !r.startsWith('note:')).join('; ') || 'its evaluation did not bless it';
      return { code: ServingRefusal.NotBlessed, message: `${version.label} is not blessed (${why}); train a candidate that passes its thresholds, ${overrideHint}.` };
    }
    const infra = version.infraValidation;
    if (!infra) {
      return { code: ServingRefusal.InfraValidationMissing, message: `${version.label} never passed infra-validation (it was not loaded and queried in the serving runtime); run it through a pipeline, ${overrideHint}.` };
    }
    if (!infra.passed) {
      return { code: ServingRefusal.InfraValidationFailed, message: `${version.label} failed infra-validation (${infra.reason}: ${infra.message}); fix the model, ${overrideHint}.` };
    }
  }
  if (opts.approvalAhead) return null;
  if (opts.requireApproval && !approvedByPerson(version.approval)) {
    const last = version.approval?.decision === 'rejected' ? ` (its last decision: rejected by ${version.approval.by}: ${version.approval.reason})` : '';
    return {
      code: ServingRefusal.ApprovalRequired,
      message: `${version.label} needs a person's approval before it serves, as its model's policy requires${last}; promote it to production with approval and have another person approve it (an override does not waive approval).`,
    };
  }
  if (!opts.override && version.approval?.decision === 'rejected') {
    return {
      code: ServingRefusal.ApprovalRejected,
      message: `${version.label} was rejected at approval by ${version.approval.by} (${version.approval.reason}); ask for approval again through POST /v1/models/{name}/aliases/production, ${overrideHint}.`,
    };
  }
  return null;
}
