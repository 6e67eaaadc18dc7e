/**
 * The layering rule of ARCHITECTURE.md, checked by dependency-cruiser in the test suite
 * (test/local/architecture/layers.test.ts) and by `npm run check:layers`:
 *
 *   src/core  →  src/neon, src/cloudflare  →  durable-objects, src/app  (src/index.ts wires them together)
 *
 * Each layer imports only the layers to its left; the app reaches the Durable Objects only
 * through their typed RPC surface (type-only imports), and nothing forms a cycle.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle ties modules of different layers into one: break it at the layer boundary.',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment:
        'src/core holds policy, naming, the state machine, contract types and domain errors: it imports nothing of ours outside itself.',
      from: { path: '^src/core/' },
      to: { path: '^(src|durable-objects|local|cli)/', pathNot: '^src/core/' },
    },
    {
      name: 'neon-imports-only-core',
      severity: 'error',
      comment: 'The Neon layer (client and resource operations) builds on the core alone.',
      from: { path: '^src/neon/' },
      to: { path: '^(src|durable-objects|local|cli)/', pathNot: '^src/(core|neon)/' },
    },
    {
      name: 'cloudflare-imports-only-core',
      severity: 'error',
      comment: 'The Cloudflare layer (the SDK client for bindings) builds on the core alone, beside the Neon layer.',
      from: { path: '^src/cloudflare/' },
      to: { path: '^(src|durable-objects|local|cli)/', pathNot: '^src/(core|cloudflare)/' },
    },
    {
      name: 'objects-never-import-the-app',
      severity: 'error',
      comment: 'The Durable Objects import the core and the Neon layer, never the app.',
      from: { path: '^durable-objects/' },
      to: { path: '^(src/app|src/index|local|cli)' },
    },
    {
      name: 'app-reaches-objects-by-rpc-only',
      severity: 'error',
      comment: "The app uses the objects' typed RPC surface: type-only imports, never their code.",
      from: { path: '^src/app/' },
      to: { path: '^durable-objects/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'local-stack-stands-alone',
      severity: 'error',
      comment: 'The local stack is a Neon emulator: it may share pure core helpers, nothing else of the Worker.',
      from: { path: '^local/' },
      to: { path: '^(src|durable-objects)/', pathNot: '^src/core/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|test|bench)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
