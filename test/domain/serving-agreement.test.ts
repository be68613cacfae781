import { describe, expect, it } from 'vitest';
import { judgeServing, type ReportedRoute } from '../../domain/serving-agreement';

const server = (instanceId: string, routes: Record<'stable' | 'canary' | 'shadow', [string | null, string | null, string | null]>): ReportedRoute[] =>
  (['stable', 'canary', 'shadow'] as const).map((route) => ({ instanceId, host: 'h', pid: 1, route, versionId: routes[route][0], wantedVersionId: routes[route][1], loadError: routes[route][2] }));

describe('judgeServing', () => {
  const expected = { stable: 'v1', canary: 'v2', shadow: null };

  it('agrees when every live server serves what the step asks for, and trivially with no server at all', () => {
    const rows = [...server('a', { stable: ['v1', 'v1', null], canary: ['v2', 'v2', null], shadow: [null, null, null] }), ...server('b', { stable: ['v1', 'v1', null], canary: ['v2', 'v2', null], shadow: [null, null, null] })];
    expect(judgeServing(rows, expected)).toMatchObject({ instances: 2, agreed: true, loadFailure: null, disagreeing: [] });
    expect(judgeServing([], expected)).toMatchObject({ instances: 0, agreed: true });
  });

  it('names a server still on the old version, and one that could not load the candidate', () => {
    const behind = server('a', { stable: ['v1', 'v1', null], canary: [null, null, null], shadow: [null, null, null] });
    expect(judgeServing(behind, expected)).toMatchObject({ agreed: false, loadFailure: null, disagreeing: [{ instanceId: 'a', route: 'canary', serves: null, expected: 'v2' }] });
    const broken = server('b', { stable: ['v1', 'v1', null], canary: [null, 'v2', 'protobuf parsing failed'], shadow: [null, null, null] });
    expect(judgeServing([...behind, ...broken], expected)).toMatchObject({ agreed: false, loadFailure: { instanceId: 'b', route: 'canary', versionId: 'v2', error: 'protobuf parsing failed' } });
  });
});
