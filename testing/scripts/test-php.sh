#!/usr/bin/env bash
# PHP tests: builds the dbsync extension (debug), prepares the thin Laravel app and runs PHPUnit (Debian's phpunit
# 9.6) on the bridge's unit tests and the app's tests with the fresh build loaded by `-d extension=<abs path>`.
# The `integration` group (real Kafka and databases: `make up`) is excluded by phpunit.xml; include it with
#   testing/scripts/test-php.sh --group integration
# Other arguments go to phpunit as well (e.g. --filter ConfigTest).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
app="$root/testing/laravel-app"
ext="$root/target/debug/libdbsync.so"

(cd "$root" && cargo build --quiet -p dbsync-php)
"$app/setup.sh"

# If `make ext` enabled dbsync system-wide, PHP would load the installed copy and refuse the fresh one. Scan the
# CLI's conf.d without it; child processes of the tests inherit this and run without the extension.
scan_dir="$(mktemp -d)"
trap 'rm -rf "$scan_dir"' EXIT
conf_d="$(php -r 'echo PHP_CONFIG_FILE_SCAN_DIR;')"
for ini in "$conf_d"/*.ini; do
    [[ -e $ini && $(basename "$ini") != *dbsync* ]] && ln -s "$ini" "$scan_dir/"
done

cd "$app"
PHP_INI_SCAN_DIR="$scan_dir" exec php -d extension="$ext" "$(command -v phpunit)" -c phpunit.xml "$@"
