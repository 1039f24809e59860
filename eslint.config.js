import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'scratch/', 'notebooks/', '**/*.cjs', '.cache/', 'docs/api/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Correct on WebGPU (issue 14): sums of many tensors go through src/sum.ts, synchronous reads
    // through src/read.ts (which refuses GPU backends with a message naming the async variant).
    files: ['src/**/*.ts'],
    ignores: ['src/sum.ts', 'src/read.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'tf',
          property: 'addN',
          message: 'use sum() from src/sum.ts: tfjs-backend-webgpu 4.22 computes garbage for 8 or more inputs',
        },
        ...['dataSync', 'arraySync', 'bufferSync'].map((property) => ({
          property,
          message:
            'read with `await t.data()`, or through src/read.ts (readSync/runSync) in a synchronous public function: ' +
            'sync reads fail on webgpu in Node and are unsafe on GPU backends in browsers',
        })),
      ],
    },
  },
);
