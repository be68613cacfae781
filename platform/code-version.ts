import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** `<package version>+<git sha>` when run from a checkout, recorded on every training run for lineage. */
export function codeVersion(): string {
  const root = path.resolve(__dirname, '..');
  // From source the package root is one level up; compiled code lives one level deeper, in dist/.
  const version = [root, path.dirname(root)].map(readVersion).find(Boolean) ?? '0.0.0';
  const sha = process.env.FACTORY_GIT_SHA ?? gitSha(root);
  return sha ? `${version}+${sha}` : version;
}

function readVersion(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function gitSha(cwd: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}
