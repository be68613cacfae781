// Imports point one way (see README "Layout"):
//   factory → api → workflows (definitions) ; factory → workers → activities → serving / ml / data → db / artifacts → platform / domain
// `npm run lint` fails on any import that runs back up this list, and on any cycle.
const layers = {
  domain: [],
  platform: ['domain'],
  db: ['platform', 'domain'],
  artifacts: ['platform', 'domain'],
  ml: ['platform', 'domain'],
  // Pure registry documents (model cards) the API renders and activities store.
  registry: ['platform', 'domain'],
  data: ['ml', 'platform', 'domain'],
  serving: ['ml', 'data', 'db', 'artifacts', 'platform', 'domain'],
  'workflows/contracts': ['domain'],
  activities: ['workflows/contracts', 'serving', 'registry', 'ml', 'data', 'db', 'artifacts', 'platform', 'domain'],
  workers: ['activities', 'workflows', 'platform', 'domain'],
  api: ['workflows', 'serving', 'registry', 'ml', 'data', 'db', 'artifacts', 'platform', 'domain'],
};

const source = (dir) => `^${dir}/`;
const forbidden = Object.entries(layers).map(([layer, allowed]) => ({
  name: `${layer.replace('/', '-')}-imports-down-only`,
  comment: `${layer}/ may import only ${[layer, ...allowed].join(', ')} (and packages)`,
  severity: 'error',
  from: { path: source(layer) },
  to: {
    path: '^(domain|platform|db|artifacts|ml|registry|data|serving|workflows|activities|workers|api|factory|main\\.ts)',
    pathNot: [layer, ...allowed].map((l) => (l === 'workflows' ? '^workflows/' : source(l))),
  },
}));

module.exports = {
  forbidden: [
    ...forbidden,
    {
      name: 'workflows-import-side-effects-as-types-only',
      comment: 'Workflow code is replayed in a sandbox: activities and other I/O code are imported as types only.',
      severity: 'error',
      from: { path: '^workflows/', pathNot: '^workflows/contracts/' },
      to: { path: '^(activities|db|artifacts|serving|ml|registry|data|platform|workers|api|factory)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'workflows-only-contracts-domain-and-activity-types',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^(db|artifacts|serving|ml|registry|data|platform|workers|api|factory)/' },
    },
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test|bench|\\.factory)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
