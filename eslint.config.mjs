// Lint rules: typescript-eslint's recommended set, plus the layout's promises (STYLE.md): domain code imports no
// framework or SDK, and services never import each other. dependency-cruiser checks the same across the graph.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SDKS = ['@nestjs/*', 'kafkajs', '@eventstore/*', '@kurrent/*', 'better-sqlite3', 'fastify', 'pino'];
const SERVICES = ['metering', 'pricing-guidance', 'matching', 'billing'];
const domainRule = { group: SDKS, message: 'domain/ stays free of frameworks and SDKs (STYLE.md).' };

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'data/**',
      '.cache/**',
      'coverage/**',
      'web/dist/**',
      'web/e2e/artifacts/**',
      'libs/contracts/src/gen/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        queueMicrotask: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-require-imports': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // One block per service, so the domain rule and the no-cross-service rule combine instead of overriding each other.
  ...SERVICES.flatMap((svc) => {
    const others = {
      group: SERVICES.filter((o) => o !== svc).flatMap((o) => [
        `@cx/${o}`,
        `@cx/${o}/**`,
        `**/${o}/src`,
        `**/${o}/src/**`,
      ]),
      message: 'services talk over events only; never import another service (DESIGN.md).',
    };
    return [
      { files: [`services/${svc}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns: [others] }] } },
      {
        files: [`services/${svc}/src/domain/**/*.ts`],
        rules: { 'no-restricted-imports': ['error', { patterns: [others, domainRule] }] },
      },
    ];
  }),
  { files: ['libs/*/src/domain/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [domainRule] }] } },
  // The web console (web/src, .ts and .tsx) is a browser bundle: it reaches the exchange over HTTP only, never by
  // importing server code or Node built-ins (its end-to-end test in web/e2e may).
  {
    files: ['web/src/**/*.ts', 'web/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@cx/*', '**/libs/**', '**/services/**', '**/apps/**'],
              message: 'the console talks to /v1 only.',
            },
            { group: ['node:*'], message: 'the console runs in the browser.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
