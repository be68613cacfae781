import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Sealed values start with this; anything else in a sealed column is a row from before encryption. */
const SEALED_PREFIX = 'aes256gcm:v1:';

/** Parses FACTORY_SECRET_KEY: base64 of exactly 32 random bytes; undefined with the problem otherwise. */
export function parseSecretKey(base64: string): Buffer | undefined {
  const key = Buffer.from(base64, 'base64');
  return key.length === 32 && key.toString('base64').replace(/=+$/, '') === base64.trim().replace(/=+$/, '') ? key : undefined;
}

/** AES-256-GCM with a random nonce; `context` (e.g. the row id) is authenticated, so a sealed value cannot be moved to another row. */
export function sealSecret(key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${SEALED_PREFIX}${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${sealed.toString('base64')}`;
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

/** The plaintext of a sealed value; a value stored before encryption is returned as it is. Throws on a wrong key or tampering. */
export function openSecret(key: Buffer, stored: string, context: string): string {
  if (!isSealed(stored)) return stored;
  const [iv, tag, sealed] = stored.slice(SEALED_PREFIX.length).split(':');
  if (!iv || !tag || sealed === undefined) throw new Error('sealed secret is malformed');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64')).setAAD(Buffer.from(context));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64')), decipher.final()]).toString('utf8');
}

/**
 * `npm start` without FACTORY_SECRET_KEY: the key in FACTORY_HOME/secret.key (0600), generated on first start.
 * `created` says whether it was made now, so the caller can tell the operator to back it up.
 */
export async function loadOrCreateSecretKeyFile(home: string): Promise<{ key: Buffer; file: string; created: boolean }> {
  const file = path.join(home, 'secret.key');
  try {
    const key = parseSecretKey((await readFile(file, 'utf8')).trim());
    if (!key) throw new Error(`${file} does not hold base64 of 32 bytes; restore it from a backup or set FACTORY_SECRET_KEY`);
    return { key, file, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(home, { recursive: true });
  const key = randomBytes(32);
  // 'wx': two processes starting at once cannot both write a key.
  try {
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateSecretKeyFile(home);
    throw err;
  }
  await chmod(file, 0o600);
  return { key, file, created: true };
}
