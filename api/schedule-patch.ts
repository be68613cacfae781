import { randomUUID } from 'node:crypto';
import { status as grpcStatus } from '@grpc/grpc-js';
import { encodeScheduleOverlapPolicy, isGrpcServiceError, ScheduleNotFoundError, type Client, type ScheduleOverlapPolicy } from '@temporalio/client';
import { optionalDateToTs } from '@temporalio/common/lib/time';

export interface ScheduleRunRequest {
  /** Temporal drops a repeated patch with the same request id: a retry of a trigger or backfill acts once. */
  requestId: string | undefined;
  overlap: ScheduleOverlapPolicy | undefined;
}

/** Starts one run of the schedule now, as ScheduleHandle.trigger does, under a request id of our choosing. */
export function triggerSchedule(client: Client, scheduleId: string, request: ScheduleRunRequest): Promise<void> {
  return patchSchedule(client, scheduleId, request.requestId, { triggerImmediately: { overlapPolicy: encodeScheduleOverlapPolicy(request.overlap ?? 'ALLOW_ALL') } });
}

/** Starts the runs that were due in [start, end], as ScheduleHandle.backfill does, under a request id of our choosing. */
export function backfillSchedule(client: Client, scheduleId: string, request: ScheduleRunRequest & { start: Date; end: Date }): Promise<void> {
  return patchSchedule(client, scheduleId, request.requestId, {
    backfillRequest: [{ startTime: optionalDateToTs(request.start), endTime: optionalDateToTs(request.end), overlapPolicy: encodeScheduleOverlapPolicy(request.overlap) }],
  });
}

async function patchSchedule(client: Client, scheduleId: string, requestId: string | undefined, patch: Parameters<Client['workflowService']['patchSchedule']>[0]['patch']): Promise<void> {
  try {
    await client.workflowService.patchSchedule({ namespace: client.options.namespace, scheduleId, identity: client.options.identity, requestId: requestId ?? randomUUID(), patch });
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === grpcStatus.NOT_FOUND) throw new ScheduleNotFoundError(err.details || 'Schedule not found', scheduleId);
    throw err;
  }
}
