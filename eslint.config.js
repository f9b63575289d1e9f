// Lint: typescript-eslint's type-checked rules, plus the layering of DESIGN.md section 1 as import rules
// (arrows point down: functions/local -> schema -> service -> {domain, store, providers}; store, providers -> domain).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const layer = (files, forbidden, message) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: forbidden.map((group) => ({ group: [group], message })) }],
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
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
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
      '../local/*',
      '../functions/*',
      '../sandbox/*',
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
    ['../providers/*', '../service/*', '../schema/*', '../local/*', '../functions/*', '../sandbox/*'],
    'store/ depends on domain/ only.',
  ),
  layer(
    ['providers/**'],
    [
      '../store/*',
      '../service/*',
      '../schema/*',
      '../local/*',
      '../functions/*',
      '../sandbox/*',
      '../../store/*',
      '../../service/*',
      '../../schema/*',
      '../../sandbox/*',
    ],
    'providers/ depend on domain/ only; an adapter never writes the store.',
  ),
  layer(
    ['service/**'],
    ['../schema/*', '../local/*', '../functions/*', '../sandbox/*'],
    'service/ sits below the transports.',
  ),
  layer(
    ['schema/**'],
    ['../store/*', '../providers/*/*', '../sandbox/*', '../local/*', '../functions/*', '@aws-sdk/*'],
    'schema/ reaches DynamoDB and providers only through service/.',
  ),
  layer(
    ['sandbox/**'],
    ['../../domain/*', '../../store/*', '../../providers/*', '../../service/*', '../../schema/*'],
    'Sandboxes simulate providers; they share no code with the gateway.',
  ),
)
