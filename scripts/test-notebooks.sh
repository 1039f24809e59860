#!/usr/bin/env bash
# `npm run test:notebooks`: builds the package, executes every Jupyter notebook (notebooks/*.ipynb)
# on the committed tslab kernelspec, builds every Observable notebook (notebooks/*.html) and
# renders it in headless Chromium. Executed notebooks and screenshots go to out/notebooks/.
# Ends with one line `N passed, N failed`; exits non-zero on any failure.
#
#   bash scripts/test-notebooks.sh [notebooks/x.ipynb | notebooks/x.html ...]   (default: all)
set -uo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
out=out/notebooks
mkdir -p "$out"
passed=0
failed=0

ipynb=()
html=()
for f in "${@:-notebooks/*.ipynb notebooks/*.html}"; do
  for g in $f; do
    case $g in
      *.ipynb) ipynb+=("$g") ;;
      *.html) html+=("$g") ;;
    esac
  done
done

# add_counts LOG: adds the `N passed, N failed` line of a runner's log to the totals.
add_counts() {
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
  failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
}

echo "--- build (tsup)"
if ! npx tsup >"$out/build.log" 2>&1; then
  tail -n 40 "$out/build.log"
  echo "build failed (log: $out/build.log)"
  echo "0 passed, 1 failed"
  exit 1
fi
# tslab resolves packages the Node10 way (no `exports`): link this package into node_modules so
# that notebooks import it by name, as users do.
[ -e node_modules/tfjs-recurrent ] || ln -s .. node_modules/tfjs-recurrent

if [ ${#ipynb[@]} -gt 0 ]; then
  echo "--- Jupyter: ${ipynb[*]}"
  /usr/bin/python3 scripts/run-notebooks.py "${ipynb[@]}" 2>&1 | tee "$out/jupyter.log"
  add_counts "$out/jupyter.log"
fi

if [ ${#html[@]} -gt 0 ]; then
  echo "--- Observable: ${html[*]}"
  npx tsx scripts/render-notebooks.ts "${html[@]}" 2>&1 | tee "$out/observable.log"
  add_counts "$out/observable.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
