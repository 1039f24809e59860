#!/usr/bin/env bash
# The browser suite (`npm run test:browser`): the in-page mocha tests of test/browser/ in real
# headless Chromium on the webgl, wasm, cpu and webgpu backends, bundled from the built package.
# Builds dist/ when it is stale. Ends with one line `N passed, N failed`; exits 1 on failure.
# Arguments: backends to run (default: webgl wasm cpu webgpu).
set -uo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/ensure-deps.sh; then
  echo "0 passed, 1 failed"
  exit 1
fi
exec npx tsx scripts/browser-test.ts "$@"
