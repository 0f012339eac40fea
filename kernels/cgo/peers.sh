#!/usr/bin/env bash
# peers.sh fetches the prebuilt ggml CPU backends that the ggml-tq2_0-* peer
# kernels load at run time: the npm package @node-llama-cpp/linux-x64 (only
# its files; `npm pack` runs no install scripts) unpacked into <repo>/peers/.
# Idempotent: does nothing when the libraries are already there.
#
# Usage: kernels/cgo/peers.sh [DEST]   (DEST defaults to <repo root>/peers)
set -euo pipefail

pkg="@node-llama-cpp/linux-x64"
ver="3.22.1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="${1:-$root/peers}"
libdir="$dest/node-llama-cpp-linux-x64-$ver/bins/linux-x64"

if [ -f "$libdir/libggml-base.so" ] && [ -f "$libdir/libggml-cpu-zen4.so" ]; then
	echo "peers: $pkg@$ver already in $libdir"
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "peers: npm not found; install Node.js/npm, or set QKBENCH_GGML_DIR to a folder holding libggml-base.so and libggml-cpu-*.so" >&2
	exit 1
fi

mkdir -p "$dest"
tmp="$(mktemp -d "$dest/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent --ignore-scripts "$pkg@$ver" >pack.out)
tgz="$tmp/$(tail -n 1 "$tmp/pack.out")"
if [ ! -f "$tgz" ]; then
	echo "peers: npm pack $pkg@$ver produced no tarball (output: $(cat "$tmp/pack.out"))" >&2
	exit 1
fi
mkdir -p "$tmp/x"
tar -xzf "$tgz" -C "$tmp/x"
if [ ! -f "$tmp/x/package/bins/linux-x64/libggml-base.so" ]; then
	echo "peers: $tgz has no bins/linux-x64/libggml-base.so" >&2
	exit 1
fi
rm -rf "$dest/node-llama-cpp-linux-x64-$ver"
mv "$tmp/x/package" "$dest/node-llama-cpp-linux-x64-$ver"
echo "peers: $pkg@$ver unpacked into $libdir"
