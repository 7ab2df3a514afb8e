#!/bin/sh
# cuda-stubs.sh: make `go build -tags cuda` possible on a machine with no CUDA installed.
#
# Building the cuda backend needs only two files from NVIDIA: the driver API header cuda.h
# (gorgonia.org/cu's cgo code includes <cuda.h>) and a libcuda.so to link against (its cgo
# directive says -lcuda; at run time the real driver's libcuda.so.1 is loaded instead). Both
# are in Debian's non-free package nvidia-cuda-dev: cuda.h in /usr/include and a link stub in
# /usr/lib/<triplet>/stubs. This script downloads that package WITHOUT installing it, extracts
# just those two files into a cache outside the clone, and prints the cgo flags to use:
#
#     eval "$(scripts/cuda-stubs.sh)"
#     go vet -tags cuda ./... && go build -tags cuda ./...
#
# The exports go to stdout and everything else to stderr. Needs apt-get and dpkg-deb (Debian
# or Ubuntu); adds the non-free component to apt's sources if no source offers the package
# (that step needs root). A second run reuses the cache.
set -eu

cache="${XDG_CACHE_HOME:-$HOME/.cache}/vgg-cuda"
triplet="$(uname -m)-linux-gnu"

say() { echo "cuda-stubs: $*" >&2; }

# The version apt would download, or nothing. `apt-cache show` is no test: it succeeds for a
# package that apt has heard of (from a removed source, or as someone's dependency) but has
# no candidate to download.
candidate() { apt-cache policy nvidia-cuda-dev 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {print $2}'; }

if [ ! -s "$cache/include/cuda.h" ] || [ ! -s "$cache/lib/libcuda.so" ]; then
    if [ -z "$(candidate)" ]; then
        . /etc/os-release
        say "no apt source offers nvidia-cuda-dev; adding Debian's non-free component for $VERSION_CODENAME"
        if [ "$(id -u)" != 0 ]; then
            say "adding an apt source needs root; run as root or add non-free to your sources"
            exit 1
        fi
        cat >/etc/apt/sources.list.d/vgg-cuda-non-free.sources <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: $VERSION_CODENAME
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
        apt-get update >&2
        if [ -z "$(candidate)" ]; then
            say "still no candidate for nvidia-cuda-dev after adding non-free; see apt-cache policy nvidia-cuda-dev"
            exit 1
        fi
    fi
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    say "downloading nvidia-cuda-dev (not installing it)"
    (cd "$work" && apt-get download nvidia-cuda-dev >&2)
    deb="$(ls "$work"/nvidia-cuda-dev_*.deb)"
    dpkg-deb --fsys-tarfile "$deb" |
        tar -x -C "$work" ./usr/include/cuda.h "./usr/lib/$triplet/stubs/libcuda.so"
    mkdir -p "$cache/include" "$cache/lib"
    # Copy to temporary names, then rename: an interrupted run never leaves half a file.
    cp "$work/usr/include/cuda.h" "$cache/include/cuda.h.tmp"
    cp "$work/usr/lib/$triplet/stubs/libcuda.so" "$cache/lib/libcuda.so.tmp"
    mv "$cache/include/cuda.h.tmp" "$cache/include/cuda.h"
    mv "$cache/lib/libcuda.so.tmp" "$cache/lib/libcuda.so"
    say "cached cuda.h and the libcuda.so link stub in $cache"
fi

echo "export CGO_ENABLED=1"
echo "export CGO_CFLAGS=\"-I$cache/include\""
echo "export CGO_LDFLAGS=\"-L$cache/lib\""
