#!/usr/bin/env bash
# Writes php-ext/dbsync.stub.php, the declarations of everything the `dbsync` extension gives PHP (for IDEs and
# PHPStan), with ext-php-rs's generator `cargo php stubs` (crate cargo-php, pinned below; installed into
# target/cargo-php on first use) from the debug build that testing/scripts/test-php.sh loads. The debug-only
# `DbSync\Testing` namespace (the panic-boundary hook) is left out.
#   php-ext/stubs.sh          regenerate the checked-in stub
#   php-ext/stubs.sh --check  exit 1 (with a diff) when the checked-in stub differs from what the generator gives now
set -euo pipefail

CARGO_PHP_VERSION=0.2.2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
stub="$here/dbsync.stub.php"
tools="$root/target/cargo-php"

if [[ ! -x $tools/bin/cargo-php ]]; then
    echo "stubs.sh: installing cargo-php $CARGO_PHP_VERSION into $tools (once)" >&2
    cargo install --quiet --locked --version "$CARGO_PHP_VERSION" --root "$tools" cargo-php
fi
(cd "$root" && cargo build --quiet -p dbsync-php)

generated="$(mktemp)"
trap 'rm -f "$generated"' EXIT
# `cargo php stubs` reads the module's description from the built library.
PATH="$tools/bin:$PATH" cargo php stubs --stdout "$root/target/debug/libdbsync.so" \
    | awk '/^namespace DbSync\\Testing \{/ { skip = 1; next } skip && /^\}/ { skip = 0; next } !skip' \
    | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$generated"

if [[ ${1:-} == --check ]]; then
    if ! diff -u "$stub" "$generated"; then
        echo "stubs.sh: php-ext/dbsync.stub.php is stale: run php-ext/stubs.sh and commit it" >&2
        exit 1
    fi
    echo "stubs.sh: php-ext/dbsync.stub.php is up to date"
    exit 0
fi
cp "$generated" "$stub"
echo "stubs.sh: wrote $stub"
