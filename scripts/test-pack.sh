#!/usr/bin/env bash
# The package as npm installs it: builds dist/ when stale, `npm pack`s it into a temporary
# directory, installs the tarball with @tensorflow/tfjs and the WASM backend into an empty project
# there, and runs `npx tfjs-recurrent parity --json` (the PyTorch fixtures shipped in
# fixtures/pytorch, and tfjs's own layers). Passes when the last line of its output is JSON with
# `"ok": true`; otherwise exits 1 saying why. Needs the npm registry (or a warm npm cache).
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
for f in package/dist/cli.js package/bin/tfjs-recurrent.js package/fixtures/pytorch/{rnn-tanh,rnn-relu,lstm,gru}.json; do
  grep -qx "$f" <<<"$contents" || fail "the tarball lacks ${f#package/} (check the files array of package.json)"
done

project="$work/project"
mkdir "$project"
cd "$project"
npm init -y >/dev/null || fail "npm init -y failed"
echo "[pack] npm install $(basename "$tarball") @tensorflow/tfjs@$TFJS_VERSION @tensorflow/tfjs-backend-wasm@$TFJS_VERSION" >&2
npm install --no-audit --no-fund --loglevel=error "$tarball" \
  "@tensorflow/tfjs@$TFJS_VERSION" "@tensorflow/tfjs-backend-wasm@$TFJS_VERSION" >&2 ||
  fail "npm install of the tarball failed"

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
echo "test-pack: ok: parity from the installed package, $(($(grep -o '"case"' <<<"$last" | wc -l))) rows within tolerance ($((SECONDS - start)) s)"
