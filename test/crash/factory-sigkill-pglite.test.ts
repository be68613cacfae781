import { describe, it } from 'vitest';
import { crashAndRestartFactory } from '../support/factory-process';

describe('npm start survives SIGKILL of its whole process group and a restart on the same FACTORY_HOME', () => {
  it('on PGlite (its data directory reopens after the crash)', async () => {
    console.log(await crashAndRestartFactory({ DATABASE_URL: '' }));
  });
});
