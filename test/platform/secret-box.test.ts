import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateSecretKeyFile, openSecret, parseSecretKey, sealSecret } from '../../platform/secret-box';

describe('secret box', () => {
  it('seals with AES-256-GCM bound to its row, and refuses another row, another key or tampering', () => {
    const key = randomBytes(32);
    const sealed = sealSecret(key, 'whsec_abc', 'whk_1');
    expect(sealed).not.toContain('whsec_abc');
    expect(sealSecret(key, 'whsec_abc', 'whk_1')).not.toBe(sealed);
    expect(openSecret(key, sealed, 'whk_1')).toBe('whsec_abc');
    expect(() => openSecret(key, sealed, 'whk_2')).toThrow();
    expect(() => openSecret(randomBytes(32), sealed, 'whk_1')).toThrow();
    const tampered = `${sealed.slice(0, -4)}AAAA`;
    expect(() => openSecret(key, tampered, 'whk_1')).toThrow();
    // A row from before encryption reads as it is.
    expect(openSecret(key, 'whsec_plain', 'whk_1')).toBe('whsec_plain');
  });

  it('takes only base64 of 32 bytes as a key', () => {
    expect(parseSecretKey(randomBytes(32).toString('base64'))).toHaveLength(32);
    expect(parseSecretKey(randomBytes(16).toString('base64'))).toBeUndefined();
    expect(parseSecretKey('not base64 at all!')).toBeUndefined();
  });

  it('npm start without FACTORY_SECRET_KEY keeps one key in FACTORY_HOME, readable by its owner only', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'secret-box-'));
    try {
      const first = await loadOrCreateSecretKeyFile(home);
      expect(first.created).toBe(true);
      expect((await stat(first.file)).mode & 0o777).toBe(0o600);
      const again = await loadOrCreateSecretKeyFile(home);
      expect(again.created).toBe(false);
      expect(again.key.equals(first.key)).toBe(true);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
