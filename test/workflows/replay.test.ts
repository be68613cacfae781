import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { HISTORIES_DIR } from '../support/record-history';

/** Today's workflow code must replay every recorded history: a change that alters commands needs `patched()`. */
describe('recorded histories replay with the current workflow code', () => {
  const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json'));

  it('include a factoryPipeline run and each of its stages, a multi-class, a regression and a champion-rejected pipeline, promotions, pipelines with a promotion stage, registry events, infra-validation passed and failed, endpoint controllers (canary, gate breach, pause/resume/abort from before and after pauses were written to the endpoint row, rollback), a pipeline handing its deploy to the controller, drift monitors that alerted, that did not and that started a retrain, a retrain on drift (and one whose pipeline canaried its version) and a scheduled monitor', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'factory-pipeline.json',
        'train-model.json',
        'export-model.json',
        'evaluate-model.json',
        'register-model.json',
        'deploy-model.json',
        'ingest-dataset.json',
        'factory-pipeline-multiclass.json',
        'factory-pipeline-regression.json',
        'register-model-registry-events.json',
        'deliver-registry-event.json',
        'promote-model-approved.json',
        'promote-model-timed-out.json',
        'factory-pipeline-promotion.json',
        'factory-pipeline-approval.json',
        'factory-pipeline-approval-infra-validated.json',
        'promote-model-approved-with-events.json',
        'factory-pipeline-champion-rejected.json',
        'infra-validate-model.json',
        'infra-validate-model-failed.json',
        'endpoint-controller-canary.json',
        'endpoint-controller-gate-breached.json',
        'endpoint-controller-pause-resume-abort.json',
        'endpoint-controller-pause-recorded.json',
        'endpoint-controller-rollback.json',
        'endpoint-controller-pipeline-deploy.json',
        'factory-pipeline-endpoint-controller.json',
        'monitor-endpoint-drifted.json',
        'monitor-endpoint-calm.json',
        'scheduled-monitor.json',
        'monitor-endpoint-retrain.json',
        'retrain-endpoint-drift.json',
        'retrain-endpoint-flywheel.json',
        'retrain-endpoint-failed-attempt.json',
        'factory-pipeline-canary-rollout.json',
        'factory-pipeline-canary-rolled-back.json',
        'endpoint-controller-pipeline-rollouts.json',
      ]),
    );
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const { workflowId, history } = JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as { workflowId: string; history: unknown };
      await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, historyFromJSON(history), workflowId);
    });
  }
});
