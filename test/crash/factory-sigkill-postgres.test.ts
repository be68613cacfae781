import { describe, inject, it } from 'vitest';
import { crashAndRestartFactory, freshDatabase } from '../support/factory-process';

describe.skipIf(!inject('databaseUrl'))('npm start survives SIGKILL of its whole process group and a restart on the same FACTORY_HOME', () => {
  it('on PostgreSQL', async () => {
    // A database of its own: the factory process migrates it and must not see the suite's.
    console.log(await crashAndRestartFactory({ DATABASE_URL: await freshDatabase(inject('databaseUrl'), 'test_crash_b') }));
  });
});
