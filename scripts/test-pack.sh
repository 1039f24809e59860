#!/usr/bin/env bash
# The package as npm installs it: builds dist/ when stale, `npm pack`s it into a temporary
# directory and, in an empty project there:
# 1. installs @tensorflow/tfjs and the WASM backend, then the tarball, and counts the packages
#    each adds: the tarball may add at most 5 (the optional peers are not installed);
# 2. imports the library (ESM and CommonJS) and finds the shipped models with rt.models.path;
# 3. runs `npx tfjs-recurrent --version` without commander: one line naming `npm install commander`;
# 4. installs commander and runs `npx tfjs-recurrent parity --json` (the PyTorch fixtures shipped
#    in fixtures/pytorch, and tfjs's own layers): the last line must be JSON with `"ok": true`;
# 5. runs `bench` with its default backends, where esbuild and playwright-core are missing: the
#    Node rows are printed, and a note says how to add the browser ones.
# Exits 1 saying why on any failure. Needs the npm registry (or a warm npm cache).
#
# Usage: bash scripts/test-pack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TFJS_VERSION=4.22.0
start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/tfjs-recurrent-pack-XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "test-pack: FAILED: $*" >&2
  exit 1
}

# npm pack runs no build (package.json has no prepare/prepack script): dist/ must be current.
bash scripts/ensure-deps.sh || fail "could not build dist/ (bash scripts/ensure-deps.sh)"

echo "[pack] npm pack into $work" >&2
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1) || fail "npm pack failed"
tarball="$work/$tarball"
[ -f "$tarball" ] || fail "npm pack wrote no tarball ($tarball)"
contents=$(tar -tzf "$tarball")
for f in package/dist/cli.js package/dist/index.d.ts package/dist/plot.d.ts package/bin/tfjs-recurrent.js \
  package/LICENSE package/fixtures/pytorch/{rnn-tanh,rnn-relu,lstm,gru}.json \
  package/models/{adding-lstm,names-lstm,co2-gru}/model.json package/models/names-lstm/vocab.json; do
  grep -qx "$f" <<<"$contents" || fail "the tarball lacks ${f#package/} (check the files array of package.json)"
done

project="$work/project"
mkdir "$project"
cd "$project"
npm init -y >/dev/null || fail "npm init -y failed"
# The packages installed in the project (every node_modules entry npm recorded).
packages() { node -e 'const l = require("./node_modules/.package-lock.json"); console.log(Object.keys(l.packages).filter(Boolean).length)'; }
# npm install from npm's cache where it has the package (npm ci filled it with the same tfjs and
# commander), tried twice: a registry that drops a connection is not a failure of the package.
install() {
  npm install --prefer-offline --no-audit --no-fund --loglevel=error "$@" >&2 && return
  echo "[pack] npm install $* failed; once more" >&2
  npm install --prefer-offline --no-audit --no-fund --loglevel=error "$@" >&2
}
echo "[pack] npm install @tensorflow/tfjs@$TFJS_VERSION @tensorflow/tfjs-backend-wasm@$TFJS_VERSION" >&2
install "@tensorflow/tfjs@$TFJS_VERSION" "@tensorflow/tfjs-backend-wasm@$TFJS_VERSION" || fail "npm install of tfjs failed"
tfjs_only=$(packages)
echo "[pack] npm install $(basename "$tarball")" >&2
install "$tarball" || fail "npm install of the tarball failed"
with_package=$(packages)
added=$((with_package - tfjs_only))
echo "[pack] packages: $tfjs_only with tfjs and the WASM backend, $with_package with tfjs-recurrent (+$added)" >&2
[ "$added" -le 5 ] || fail "the tarball added $added packages beyond tfjs and its backends (at most 5)"

echo "[pack] import and require the library, without the optional peers" >&2
node --input-type=module -e '
  const rt = await import("tfjs-recurrent");
  const dir = rt.models.path("names-lstm");
  if (!dir.endsWith("node_modules/tfjs-recurrent/models/names-lstm")) throw new Error(`models.path: ${dir}`);
  const net = await rt.models.load("adding-lstm");
  if (net.inputSize !== 2) throw new Error(`adding-lstm has ${net.inputSize} inputs`);
' 2>"$work/import.err" || { cat "$work/import.err" >&2; fail "import of the installed package failed"; }
node -e '
  const rt = require("tfjs-recurrent");
  const dir = rt.models.path("co2-gru");
  if (!dir.endsWith("node_modules/tfjs-recurrent/models/co2-gru")) throw new Error(`models.path: ${dir}`);
' \
  2>"$work/require.err" || { cat "$work/require.err" >&2; fail "require of the installed package failed"; }

echo "[pack] npx tfjs-recurrent --version, without commander" >&2
set +e
npx --no-install tfjs-recurrent --version >"$work/version.out" 2>"$work/version.err"
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "npm install commander" "$work/version.err" && [ "$(wc -l <"$work/version.err")" -eq 1 ] ||
  fail "without commander, expected exit 1 and one line naming npm install commander; got exit $rc: $(cat "$work/version.err")"
echo "[pack] $(cat "$work/version.err")" >&2
install commander || fail "npm install commander failed"
version=$(npx --no-install tfjs-recurrent --version) || fail "npx tfjs-recurrent --version failed"
[ "$version" = "$(node -p 'require("tfjs-recurrent/package.json").version')" ] || fail "--version printed '$version'"

echo "[pack] npx tfjs-recurrent parity --json (in $project)" >&2
set +e
output=$(npx --no-install tfjs-recurrent parity --json 2>"$work/parity.err")
rc=$?
set -e
last=$(tail -n 1 <<<"$output")
verdict=$(node -e '
  let v;
  try { v = JSON.parse(process.argv[1]); } catch { console.log("the last line of stdout is not JSON"); process.exit(); }
  if (v.ok !== true) {
    const bad = (v.rows ?? []).filter((r) => !r.ok).map((r) => `${r.reference}/${r.case}`);
    console.log(`ok is ${JSON.stringify(v.ok)}; beyond tolerance: ${bad.join(", ") || "none listed"}`);
  } else console.log("ok");
' "$last")
if [ "$verdict" != ok ] || [ "$rc" -ne 0 ]; then
  echo "--- stdout (tail)" >&2
  tail -n 20 <<<"$output" >&2
  echo "--- stderr (tail)" >&2
  tail -n 20 "$work/parity.err" >&2
  fail "parity from the installed package (exit $rc): $verdict"
fi
rows=$(grep -o '"case"' <<<"$last" | wc -l)

echo "[pack] npx tfjs-recurrent bench (default backends; esbuild and playwright-core are not installed)" >&2
set +e
npx --no-install tfjs-recurrent bench --units 8 --time 5 --batch 4 --steps 1 >"$work/bench.out" 2>"$work/bench.err"
rc=$?
set -e
if [ "$rc" -ne 0 ] || ! grep -q '^cpu  *node' "$work/bench.out" || ! grep -q '^wasm  *node' "$work/bench.out" ||
  ! grep -q 'left out webgl: .*npm install --save-dev esbuild' "$work/bench.err"; then
  cat "$work/bench.out" "$work/bench.err" >&2
  fail "bench without esbuild/playwright-core (exit $rc): expected the cpu and wasm rows and a note on how to add webgl"
fi
echo "test-pack: ok: +$added packages over tfjs ($tfjs_only → $with_package), the bin's message without commander," \
  "parity ($rows rows within tolerance) and bench's Node rows from the installed package ($((SECONDS - start)) s)"
