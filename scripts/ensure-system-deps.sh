#!/usr/bin/env bash
# Chromium (browser tests, notebook screenshots; its SwiftShader Vulkan driver runs the webgpu tests
# in Node), the Vulkan loader libvulkan1 (Dawn, the npm package webgpu, loads libvulkan.so.1),
# Jupyter's nbclient (notebooks) and PyTorch (the fixtures test reruns scripts/pytorch-fixtures.py)
# from apt.
# Installs them when root on Debian/Ubuntu; otherwise prints the exact command and fails.
set -euo pipefail
missing=()
[ -x /usr/lib/chromium/chromium ] || missing+=(chromium)
libraries=$(/sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null || true)
grep -q 'libvulkan\.so\.1 ' <<<"$libraries" || missing+=(libvulkan1)
/usr/bin/python3 -c 'import nbclient, ipykernel' 2>/dev/null || missing+=(python3-nbclient python3-ipykernel)
/usr/bin/python3 -c 'import torch' 2>/dev/null || missing+=(python3-torch)
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[setup] $cmd" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}") >&2
else
  echo "The tests need ${missing[*]}. Install them with:" >&2
  echo "  sudo sh -c '$cmd'" >&2
  exit 1
fi
