#!/usr/bin/env bash
# The whole test suite (`npm test`): static checks, the API reference, unit tests in Node, the
# packed package installed in an empty project, the browser suite in headless Chromium and the
# notebooks. Installs what it needs (npm ci; Chromium and Jupyter's nbclient with apt when root on
# Debian/Ubuntu) or stops with the exact command to run.
# Ends with one line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh || exit 1
bash scripts/ensure-system-deps.sh || exit 1
# The webgpu unit tests (test/webgpu.test.ts) run on Dawn; without a GPU, on Chromium's SwiftShader Vulkan.
vulkan=()
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
  vulkan=(VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json)
fi

passed=0
failed=0
log_dir=$(mktemp -d)
# What failed, said again above the last line (CI shows a run's tail).
recap=()
# recap_tail NAME WHAT: WHAT, then the last lines of NAME's log, into the recap.
recap_tail() { recap+=("$2; its last lines:" "$(tail -n 20 "$log_dir/$1.log")"); }

# check NAME CMD...: one pass or one fail.
check() {
  local name=$1
  shift
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$log_dir/$name.log"
  if [ "${PIPESTATUS[0]}" -eq 0 ]; then
    passed=$((passed + 1))
    echo "=== $name: ok"
  else
    failed=$((failed + 1))
    echo "=== $name: FAILED"
    recap_tail "$name" "$name: FAILED ($*)"
  fi
}

# failures_of LOG: a runner's own account of its failures (mocha's epilogue from `N failing`, the
# browser suite's and the notebooks' FAIL lines with what follows them), at most 60 lines.
failures_of() {
  {
    sed -n '/^ *[0-9][0-9]* failing$/,/^[0-9][0-9]* passed, [0-9][0-9]* failed/p' "$1"
    grep -E -A6 '^ *(FAIL|not ok)' "$1"
  } | grep -vE '^[0-9]+ passed, [0-9]+ failed' | head -n 60
}

# suite NAME CMD...: a runner that ends with `N passed, N failed`; its counts are added.
suite() {
  local name=$1
  shift
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$log_dir/$name.log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log_dir/$name.log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "=== $name: no summary line (exit $rc)"
    failed=$((failed + 1))
    recap_tail "$name" "$name: no summary line (exit $rc)"
    return
  fi
  local p f
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$f" -gt 0 ]; then recap+=("$name: $f failed" "$(failures_of "$log_dir/$name.log")"); fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    failed=$((failed + 1))
    echo "=== $name: exit $rc"
    recap_tail "$name" "$name: exit $rc with no test failed"
  fi
}

check lint npx eslint .
check depcruise npx depcruise src --config .dependency-cruiser.cjs
check format npx prettier --check .
check typecheck node node_modules/typescript/bin/tsc --noEmit -p .
# The API reference (docs/api), from the TSDoc; typedoc.json treats every warning as an error.
check docs npx typedoc
suite unit env "${vulkan[@]}" npx mocha 'test/**/*.test.ts'
check pack bash scripts/test-pack.sh
for stage in browser notebooks; do
  if [ -f "scripts/test-$stage.sh" ]; then suite "$stage" bash "scripts/test-$stage.sh"; fi
done

if [ "${#recap[@]}" -gt 0 ]; then
  echo "=== what failed"
  printf '%s\n' "${recap[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
