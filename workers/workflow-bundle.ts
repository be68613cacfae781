import { existsSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';


const projectRoot = path.resolve(__dirname, '..');

/** The bundle's entry point: the TypeScript source, or the compiled file in dist/. */
export const WORKFLOWS_PATH = ['index.ts', 'index.js'].map((f) => path.join(projectRoot, 'workflows', f)).find((f) => existsSync(f)) ?? path.join(projectRoot, 'workflows');

/** Workflow interceptors bundled with the workflows: children inherit their parent's search attributes. */
const INTERCEPTORS_PATH = ['interceptors.ts', 'interceptors.js'].map((f) => path.join(projectRoot, 'workflows', f)).find((f) => existsSync(f)) ?? path.join(projectRoot, 'workflows', 'interceptors');

/** Where `npm run build:workflows` writes the bundle: `dist/`, beside the compiled code. */
export const PREBUILT_BUNDLE_PATH =
  path.basename(projectRoot) === 'dist' ? path.join(projectRoot, 'workflow-bundle.js') : path.join(projectRoot, 'dist', 'workflow-bundle.js');

/** Bundles the workflows; fails if any workflow imports a Node module or other non-deterministic code. */
export async function buildWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: [INTERCEPTORS_PATH], logger: quietBundlerLogger });
}

/** Compiled code loads the pre-built bundle; running from source bundles afresh so edits take effect. */
export async function workflowBundleOption(): Promise<{ codePath: string } | WorkflowBundleWithSourceMap> {
  const runningCompiled = __filename.endsWith('.js');
  if (runningCompiled && existsSync(PREBUILT_BUNDLE_PATH)) return { codePath: PREBUILT_BUNDLE_PATH };
  return buildWorkflowBundle();
}

const noop = (): void => undefined;
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m), log: noop };
