// Lint: typescript-eslint's type-checked rules, plus the layering of docs/architecture.md ("Layers") as import rules
// (arrows point down: functions/local/cli -> composition -> http -> schema -> service -> {domain, store, providers,
// crypto, outbound}; store, providers, crypto -> domain; outbound/ (HTTP to partner-supplied URLs) imports nothing of
// ours; runtime/ (logging, the request scope) under everything but domain/ and the sandboxes; cli, a host like
// functions/, may reach service/ and store/ directly).
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/**
 * zod only through domain/zod.ts (sandbox/shared/zod.ts in sandboxes): `zod/mini` with its English messages set. A
 * bare `zod` import would bring back classic zod (459 kB and 30 ms in every Lambda cold start); a bare `zod/mini`
 * one would answer "Invalid input" for everything.
 */
const ZOD_ONLY_THROUGH_WRAPPER = ['zod', 'zod/mini'].map((name) => ({
  name,
  message: 'Import zod from domain/zod.ts (sandbox/shared/zod.ts in sandbox/): zod/mini with English messages.',
}))

// One config object per layer: a later `no-restricted-imports` replaces an earlier one, so each carries the zod rule.
// `typesOnly`: folders the layer may name types from but never run code of (http/ and schema/ are handed the Gateway
// that composition/ builds; they never build one).
const layer = (files, forbidden, message, typesOnly = []) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { paths: ZOD_ONLY_THROUGH_WRAPPER, patterns: forbidden.map((group) => ({ group: [group], message })) },
    ],
    '@typescript-eslint/no-restricted-imports': [
      'error',
      { patterns: typesOnly.map((group) => ({ group: [group], message, allowTypeImports: true })) },
    ],
  },
})

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.sst/', 'dist/', 'coverage/', 'sst-env.d.ts', '.ci/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      'no-restricted-imports': ['error', { paths: ZOD_ONLY_THROUGH_WRAPPER }],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  // Plain Node scripts (the stand-in Lambda runtime): Node's globals.
  { files: ['scripts/**/*.mjs'], languageOptions: { globals: globals.node } },
  {
    // Typed against the SST platform that `sst install` puts in .sst/ (infra/tsconfig.json), so linted without type
    // information here, which keeps `npm run lint` working on a fresh clone; `npm run infra:check` type-checks them.
    files: ['sst.config.ts', 'infra/**', 'test/infra/**'],
    ...tseslint.configs.disableTypeChecked,
  },
  // SST's globals ($config, $app, sst...) reach sst.config.ts only through its triple-slash reference.
  { files: ['sst.config.ts'], rules: { '@typescript-eslint/triple-slash-reference': 'off' } },
  {
    // Tests read JSON answers and assert on their shape; `any` there is the point, not a leak.
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  layer(
    ['domain/**'],
    [
      '../store/*',
      '../providers/*',
      '../service/*',
      '../schema/*',
      '../http/*',
      '../local/*',
      '../functions/*',
      '../cli/*',
      '../sandbox/*',
      '../crypto/*',
      '../outbound/*',
      '../runtime/*',
      '../composition/*',
      'node:*',
      '@aws-sdk/*',
    ],
    'domain/ is pure: it imports nothing of ours and does no I/O.',
  ),
  {
    files: ['domain/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'domain/ reads no clock: take `now` as a parameter.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'domain/ reads no clock: take `now` as a parameter.',
        },
      ],
    },
  },
  layer(
    ['store/**'],
    [
      '../providers/*',
      '../service/*',
      '../schema/*',
      '../http/*',
      '../local/*',
      '../functions/*',
      '../cli/*',
      '../sandbox/*',
      '../crypto/*',
      '../outbound/*',
      '../composition/*',
    ],
    'store/ depends on domain/ only (and runtime/ for logging).',
  ),
  layer(
    ['providers/**'],
    [
      '../store/*',
      '../service/*',
      '../schema/*',
      '../http/*',
      '../local/*',
      '../functions/*',
      '../cli/*',
      '../sandbox/*',
      '../../store/*',
      '../../service/*',
      '../../schema/*',
      '../../http/*',
      '../../sandbox/*',
      '../crypto/*',
      '../composition/*',
      '../../crypto/*',
      '../outbound/*',
      '../../outbound/*',
      '../../composition/*',
    ],
    'providers/ depend on domain/ only (and runtime/ for logging); an adapter never writes the store.',
  ),
  layer(
    ['service/**'],
    ['../schema/*', '../http/*', '../local/*', '../functions/*', '../cli/*', '../sandbox/*', '../composition/*'],
    'service/ sits below the transports and the composition root that builds it.',
  ),
  layer(
    ['schema/**'],
    [
      '../store/*',
      '../providers/*/*',
      '../sandbox/*',
      '../http/*',
      '../local/*',
      '../functions/*',
      '../cli/*',
      '../crypto/*',
      '../outbound/*',
      '@aws-sdk/*',
    ],
    'schema/ reaches DynamoDB, providers and partner URLs only through service/, and the Gateway only as a type.',
    ['../composition/*'],
  ),
  layer(
    ['http/**'],
    [
      '../store/*',
      '../providers/*/*',
      '../sandbox/*',
      '../local/*',
      '../functions/*',
      '../cli/*',
      '../crypto/*',
      '../outbound/*',
      '@aws-sdk/*',
    ],
    'http/ is the one app under local/ and functions/: it reaches the gateway through schema/ and service/ only, and names the Gateway only as a type.',
    ['../composition/*'],
  ),
  layer(
    ['cli/**'],
    ['../functions/*', '../sandbox/*', '../providers/*', '../http/*', '../outbound/*'],
    'cli/ administers through service/ (built by composition/, and store/ for its client); it serves no requests and calls no provider.',
  ),
  layer(
    ['sandbox/**'],
    [
      '../../domain/*',
      '../../store/*',
      '../../providers/*',
      '../../service/*',
      '../../schema/*',
      '../../http/*',
      '../../crypto/*',
      '../../outbound/*',
      '../../runtime/*',
      '../../composition/*',
    ],
    'Sandboxes simulate providers; they share no code with the gateway.',
  ),
  layer(
    ['scripts/**'],
    ['../test/*'],
    'scripts/ build, check and run the app; tests may use them, never the other way round (shared code lives in scripts/).',
  ),
  layer(
    ['crypto/**'],
    [
      '../store/*',
      '../providers/*',
      '../service/*',
      '../schema/*',
      '../http/*',
      '../local/*',
      '../functions/*',
      '../cli/*',
      '../sandbox/*',
      '../runtime/*',
      '../outbound/*',
      '../composition/*',
    ],
    'crypto/ (keys, hashes, seals, signatures) depends on domain/ only.',
  ),
  layer(
    ['runtime/**'],
    [
      '../domain/*',
      '../store/*',
      '../providers/*',
      '../service/*',
      '../schema/*',
      '../http/*',
      '../local/*',
      '../functions/*',
      '../cli/*',
      '../sandbox/*',
      '../crypto/*',
      '../outbound/*',
      '../composition/*',
    ],
    'runtime/ (logging, the request scope) sits under every layer that logs: it imports nothing of ours.',
  ),
  layer(
    ['outbound/**'],
    [
      '../domain/*',
      '../store/*',
      '../providers/*',
      '../service/*',
      '../schema/*',
      '../http/*',
      '../local/*',
      '../functions/*',
      '../cli/*',
      '../sandbox/*',
      '../crypto/*',
      '../runtime/*',
      '../composition/*',
    ],
    'outbound/ (HTTP to partner-supplied URLs: address checks, the webhook client) imports nothing of ours; service/ calls it.',
  ),
  layer(
    ['composition/**'],
    ['../schema/*', '../http/*', '../local/*', '../functions/*', '../cli/*', '../sandbox/*'],
    'composition/ builds the gateway from service/, store/, providers/ and crypto/; the transports are handed it.',
  ),
  { files: ['domain/zod.ts', 'sandbox/shared/zod.ts'], rules: { 'no-restricted-imports': 'off' } },
)
