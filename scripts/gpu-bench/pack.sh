#!/usr/bin/env bash
# Builds gpu-carry/ (gitignored), what one run on a borrowed GPU machine carries (at most ~60 MiB):
#
#   node.xz           this machine's node (xz -9; needs only glibc and libstdc++ there)
#   dawn.node.xz      node_modules/webgpu/dist/linux-x64/dawn.node (WebGPU through Dawn on Vulkan)
#   gpu-bench.mjs.xz  esbuild bundle of bench/gpu.ts (tfjs, webgpu backend, our src, the webgpu JS);
#                     it loads $DAWN_NODE or dawn.node beside itself
#   gpu-torch.py      the PyTorch side (python3 with torch+CUDA is on that machine)
#   debs/*.deb        Vulkan loader and GL vendor-neutral libraries from Debian (the machine has none)
#   MANIFEST          what is in it, from which commit
#
# The bundle is compressed too, so that eslint and prettier never see it.
# Usage: bash scripts/gpu-bench/pack.sh [dest]      (dest defaults to gpu-carry)
# Then on the device: bash scripts/gpu-bench/run.sh (see there).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dest=${1:-gpu-carry}
limit_mib=${GPU_CARRY_LIMIT_MIB:-60}
tmp="$dest.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/debs"
say() { echo "pack: $*" >&2; }

node_bin=$(command -v node)
node_id="$(node --version) $(stat -c %s "$node_bin") $(sha256sum "$node_bin" | cut -c1-16)"
dawn=node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$dawn" ] || { say "$dawn missing: npm install -D webgpu@0.6.2"; exit 1; }
dawn_id="$(stat -c %s "$dawn") $(sha256sum "$dawn" | cut -c1-16)"

# node.xz and dawn.node.xz take a minute to compress: reuse an earlier pack's when the input is the same.
reuse() { # reuse FILE ID
  [ -f "$dest/$1" ] && [ -f "$dest/$1.id" ] && [ "$(cat "$dest/$1.id")" = "$2" ] &&
    cp "$dest/$1" "$dest/$1.id" "$tmp/"
}
if ! reuse node.xz "$node_id"; then
  say "compressing $node_bin ($(node --version))"
  xz -9 -T0 -c "$node_bin" >"$tmp/node.xz"
  echo "$node_id" >"$tmp/node.xz.id"
fi
if ! reuse dawn.node.xz "$dawn_id"; then
  say "compressing $dawn"
  xz -9 -T0 -c "$dawn" >"$tmp/dawn.node.xz"
  echo "$dawn_id" >"$tmp/dawn.node.xz.id"
fi

say "bundling bench/gpu.ts"
npx tsx scripts/gpu-bench/bundle.ts "$tmp/gpu-bench.mjs"
xz -9 -T0 "$tmp/gpu-bench.mjs"
cp bench/gpu-torch.py "$tmp/"

debs=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
if [ -d "$dest/debs" ] && [ "$(ls "$dest/debs"/*.deb 2>/dev/null | wc -l)" -ge ${#debs[@]} ]; then
  cp "$dest"/debs/*.deb "$tmp/debs/"
else
  download() { (cd "$tmp/debs" && apt-get -q -oAPT::Architecture=amd64 download "${debs[@]}"); }
  if ! download; then
    say "apt-get download failed; apt-get update once and again"
    apt-get -q update >/dev/null
    download
  fi
fi

{
  echo "gpu-carry for scripts/gpu-bench/run.sh, packed $(date -u +%FT%TZ)"
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "node $node_id"
  echo "dawn.node $dawn_id (webgpu $(node -p "require('./node_modules/webgpu/package.json').version"))"
  echo "tfjs $(node -p "require('./node_modules/@tensorflow/tfjs/package.json').version")"
  (cd "$tmp" && find . -type f ! -name MANIFEST -printf '%P %s\n' | sort)
} >"$tmp/MANIFEST"

bytes=$(du -sb "$tmp" | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
if [ "$bytes" -gt $((limit_mib * 1048576)) ]; then
  say "$tmp is $mib MiB, over $limit_mib MiB"
  exit 1
fi
rm -rf "$dest"
mv "$tmp" "$dest"
say "$dest: $mib MiB"
ls -la "$dest" "$dest/debs" >&2
