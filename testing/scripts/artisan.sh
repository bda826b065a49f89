#!/usr/bin/env bash
# Runs `php artisan ...` in the thin Laravel app. PHP loads the dbsync extension as installed by `make ext`; with
# DBSYNC_PHP_EXTENSION=/abs/path/libdbsync.so it loads that build instead (tests use the debug build), scanning
# PHP's conf.d without a system-wide dbsync.ini so the two cannot clash.
#   usage: testing/scripts/artisan.sh consume:legacy-events --stop-when-empty
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
app="$root/testing/laravel-app"
"$app/setup.sh" >/dev/null
cd "$app"
if [ -z "${DBSYNC_PHP_EXTENSION:-}" ]; then
    exec php artisan "$@"
fi
scan="${DBSYNC_STATE_DIR:-$root/.stack}/run/php-conf.d"
mkdir -p "$scan"
for ini in "$(php -r 'echo PHP_CONFIG_FILE_SCAN_DIR;')"/*.ini; do
    case "$(basename "$ini")" in *dbsync*) ;; *) ln -sf "$ini" "$scan/" ;; esac
done
PHP_INI_SCAN_DIR="$scan" exec php -d extension="$DBSYNC_PHP_EXTENSION" artisan "$@"
