import { describe, expect, it } from 'vitest';
import { heartbeatIntervalMs } from '../../activities/heartbeat';

describe('heartbeatIntervalMs', () => {
  it('beats three times per heartbeat timeout, so one or two lost beats are not a death', () => {
    expect(heartbeatIntervalMs(3_000)).toBe(1_000);
    expect(heartbeatIntervalMs(9_000)).toBe(3_000);
  });

  it('beats at least every 5 s however long the timeout, so progress stays fresh', () => {
    expect(heartbeatIntervalMs(30_000)).toBe(5_000);
    expect(heartbeatIntervalMs(undefined)).toBe(5_000);
  });
});
