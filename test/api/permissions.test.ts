import { describe, expect, it } from 'vitest';
import { hasPermission } from '../../api/middleware/api-key-auth';

describe('role permissions', () => {
  it('keep the old viewer < operator < admin line and add an approver who reads and decides only', () => {
    const table = (['viewer', 'operator', 'admin', 'approver'] as const).map((role) => [
      role,
      (['read', 'operate', 'administer', 'approve'] as const).filter((p) => hasPermission(role, p)),
    ]);
    expect(Object.fromEntries(table)).toEqual({
      viewer: ['read'],
      operator: ['read', 'operate'],
      admin: ['read', 'operate', 'administer', 'approve'],
      approver: ['read', 'approve'],
    });
  });
});
