#!/usr/bin/env bash
# Prepares the thin Laravel app: creates the writable dirs Laravel needs and installs the bridge with Composer,
# offline (the bridge is a path repository, Laravel itself comes from Debian's php-laravel-framework).
# Idempotent, and returns at once when vendor/ is newer than both composer.json files.
set -euo pipefail

app="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$app"

mkdir -p storage/app storage/framework/cache/data storage/framework/sessions storage/framework/views storage/logs \
    bootstrap/cache

stamp=vendor/composer/installed.json
bridge=../../laravel-bridge/composer.json
if [[ -f vendor/autoload.php && -f $stamp && $stamp -nt composer.json && $stamp -nt $bridge ]]; then
    exit 0
fi

command -v composer >/dev/null || { echo "setup.sh: composer not found (apt-get install composer)" >&2; exit 1; }
export COMPOSER_ALLOW_SUPERUSER=1 COMPOSER_DISABLE_NETWORK=1 COMPOSER_NO_INTERACTION=1
composer install --no-interaction --no-progress
touch "$stamp"
