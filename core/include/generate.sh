#!/usr/bin/env bash
# Generates core/include/dbsync.h, the C ABI's header, from core/src/capi/ with cbindgen (`make header`; settings in
# core/cbindgen.toml). Never edit the header by hand.
#   generate.sh          write the header
#   generate.sh --check  generate into a temporary file and fail, printing the diff, when the header differs
# cbindgen comes from crates.io at a pinned version (its output is part of the header), installed once into
# <cargo target dir>/cbindgen; later runs take well under a second.
set -euo pipefail
CBINDGEN_VERSION=0.29.4

core=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${CARGO_TARGET_DIR:-$core/../target}
mkdir -p "$target"
target=$(cd "$target" && pwd)
cbindgen=$target/cbindgen/bin/cbindgen
header=$core/include/dbsync.h

if [ "$("$cbindgen" --version 2>/dev/null)" != "cbindgen $CBINDGEN_VERSION" ]; then
    echo "installing cbindgen $CBINDGEN_VERSION into $target/cbindgen (once)" >&2
    cargo install --quiet --locked --force --version "=$CBINDGEN_VERSION" --root "$target/cbindgen" \
        --target-dir "$target/cbindgen/build" cbindgen
fi

# generate OUTPUT: cbindgen reads src/capi/ alone, mod.rs as its root (see that file's doc).
generate() { (cd "$core" && "$cbindgen" --quiet --config cbindgen.toml --output "$1" src/capi/mod.rs); }

if [ "${1:-}" = --check ]; then
    fresh=$(mktemp --suffix=.h)
    trap 'rm -f "$fresh"' EXIT
    generate "$fresh"
    if ! diff -u "$header" "$fresh"; then
        echo "core/include/dbsync.h is stale or hand-edited: run 'make header' and commit the result" >&2
        exit 1
    fi
    echo "core/include/dbsync.h matches cbindgen $CBINDGEN_VERSION's output"
else
    generate "$header"
    echo "wrote core/include/dbsync.h (cbindgen $CBINDGEN_VERSION)"
fi
