#!/usr/bin/env bash
# The GPU bench of issue 14 on a borrowed GPU machine (Ubuntu 24.04, NVIDIA driver, python3 with
# torch+CUDA, no Node, no internet), from what scripts/gpu-bench/pack.sh put in gpu-carry/:
#
#   bash scripts/gpu-bench/run.sh          # device `run` tool, with carry ["gpu-carry"]
#
# Steps, each under its own timeout, the next one run whatever the last did: unpack node and
# dawn.node; the Vulkan/GL loaders (dpkg -x into /, ldconfig); NVIDIA's ICD; nvidia-smi -L;
# PyTorch (bench/gpu-torch.py, cuDNN); ours (also with the step kernels in place of the
# whole-sequence kernel, --steps, and with its sums unsliced, --slices 1) and tf.layers on WebGPU
# (the gpu-bench.mjs bundle); the table.
# Into $OUT (6 files): run.log, gpu-torch.{log,json}, gpu-bench.{log,json}, table.md.
# About 2-4 minutes on an H100/H200.
#
# Environment (to try it elsewhere, e.g. here with software Vulkan):
#   OUT=/tmp/gpuout                 results (default out/gpu-run)
#   VK_DRIVER_FILES=...             kept when set (e.g. /usr/lib/chromium/vk_swiftshader_icd.json)
#   DEB_ROOT=/tmp/gpuroot           unpack the .debs there instead of / (no ldconfig; LD_LIBRARY_PATH)
#   NODE_ARGS='--sizes 8x10x4x16'   more arguments for bench/gpu.ts (later ones win)
#   TORCH_ARGS='--device cpu'       more arguments for bench/gpu-torch.py
#   PYTHON=/usr/bin/python3         the python with torch (default python3)
#   NODE_TIMEOUT=240 TORCH_TIMEOUT=90 NODE_BUDGET=180   seconds
#   GPU_CARRY=path/to/gpu-carry     GPU_WORK=scratch folder (default a fresh one under /tmp)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
carry=${GPU_CARRY:-$root/gpu-carry}
OUT=${OUT:-$root/out/gpu-run}
work=${GPU_WORK:-$(mktemp -d /tmp/gpu-bench.XXXXXX)}
deb_root=${DEB_ROOT:-/}
mkdir -p "$OUT" "$work"
exec > >(tee -a "$OUT/run.log") 2>&1
tee_pid=$!
t0=$SECONDS
step() { echo "== [$((SECONDS - t0)) s] $*"; }

unxz_to() { # unxz_to FILE.xz DEST: xz, or Python's lzma where xz is missing
  if command -v xz >/dev/null; then
    xz -dc "$1" >"$2"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  fi
}

step "unpack $carry into $work"
[ -d "$carry" ] || echo "no $carry: run scripts/gpu-bench/pack.sh here and carry gpu-carry"
cat "$carry/MANIFEST" 2>/dev/null | head -5
unxz_to "$carry/node.xz" "$work/node" && chmod +x "$work/node" && echo "node $("$work/node" --version)"
unxz_to "$carry/dawn.node.xz" "$work/dawn.node"
unxz_to "$carry/gpu-bench.mjs.xz" "$work/gpu-bench.mjs"
torch_py="$carry/gpu-torch.py"
[ -f "$torch_py" ] || torch_py="$root/bench/gpu-torch.py"

step "Vulkan and GL loaders into $deb_root"
mkdir -p "$deb_root"
for f in "$carry"/debs/*.deb; do dpkg -x "$f" "$deb_root" || echo "dpkg -x $f failed"; done
if [ "$deb_root" = / ]; then
  ldconfig
else
  export LD_LIBRARY_PATH="$deb_root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
    /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then
      export VK_DRIVER_FILES=$icd
      break
    fi
  done
fi
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
[ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
echo "__EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-unset}"
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
ldconfig -p 2>/dev/null | grep -E 'libvulkan|libEGL\.so|libGLX_nvidia' | head -5

step "nvidia-smi"
timeout 30 nvidia-smi -L || echo "(no nvidia-smi)"
timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null

step "PyTorch"
# shellcheck disable=SC2086
PYTHONUNBUFFERED=1 timeout "${TORCH_TIMEOUT:-90}" "${PYTHON:-python3}" "$torch_py" --out "$OUT/gpu-torch.json" ${TORCH_ARGS:-} \
  >"$OUT/gpu-torch.log" 2>&1
echo "PyTorch exit $?"
cat "$OUT/gpu-torch.log"

step "ours and tf.layers on WebGPU (Dawn)"
set -o pipefail
# shellcheck disable=SC2086
DAWN_NODE="$work/dawn.node" timeout -k 10 "${NODE_TIMEOUT:-240}" "$work/node" "$work/gpu-bench.mjs" \
  --budget-s "${NODE_BUDGET:-180}" --steps --slices 1 --out "$OUT/gpu-bench.json" --torch "$OUT/gpu-torch.json" ${NODE_ARGS:-} \
  2>&1 >/dev/null | tee "$OUT/gpu-bench.log"
echo "WebGPU bench exit $?"
set +o pipefail

step "table"
DAWN_NODE="$work/dawn.node" timeout 60 "$work/node" "$work/gpu-bench.mjs" --table --in "$OUT/gpu-bench.json" \
  --torch "$OUT/gpu-torch.json" >"$OUT/table.md"
cat "$OUT/table.md"
step "done; in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
exec >&- 2>&-
wait "$tee_pid"
