#!/usr/bin/env bash
# Installs the npm dependencies when they are missing (a fresh clone), then builds dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/@tensorflow/tfjs ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci" >&2
  # onnxruntime-node ships its CPU binary; skip its postinstall download (CUDA parts, nuget.org).
  export ONNXRUNTIME_NODE_INSTALL=skip
  npm ci --no-audit --no-fund >&2
fi
if [ ! -f dist/index.js ] || [ -n "$(find src -newer dist/index.js -name '*.ts' -print -quit)" ]; then
  echo "[setup] building dist/" >&2
  npx tsup --silent >&2
fi
