#!/usr/bin/env bash
# Builds the `dbsync` PHP extension in release mode and installs it for the PHP CLI found on PATH:
# copies the .so into `php-config --extension-dir`, writes mods-available/dbsync.ini from dbsync.ini.in and enables
# it for the CLI with Debian's phpenmod. Idempotent: unchanged files are left alone. `make ext` calls this.
#
# Environment: PHP_CONFIG (default php-config), CARGO (default cargo), DESTDIR (stage into a prefix instead of the
# live system; phpenmod is skipped then).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
php_config="${PHP_CONFIG:-php-config}"
cargo="${CARGO:-cargo}"
destdir="${DESTDIR:-}"

die() { echo "install.sh: $*" >&2; exit 1; }
command -v "$php_config" >/dev/null || die "$php_config not found; install php8.2-dev (apt-get install php8.2-dev)"

php_version="$("$php_config" --version | cut -d. -f1,2)"
ext_dir="$destdir$("$php_config" --extension-dir)"
ini_dir="$destdir/etc/php/$php_version/mods-available"

# Only copy when the content differs, so a rerun neither touches mtimes nor needs write access.
install_if_changed() { # <source> <target> <mode>
    if ! cmp -s "$1" "$2"; then
        mkdir -p "$(dirname "$2")"
        install -m "$3" "$1" "$2"
        echo "install.sh: wrote $2"
    fi
}

# DESTDIR must not reach cargo: librdkafka's cmake install step would honour it and stage its own files there.
(cd "$root" && env -u DESTDIR "$cargo" build --release -p dbsync-php)
install_if_changed "$root/target/release/libdbsync.so" "$ext_dir/dbsync.so" 0644

ini="$(mktemp)"
trap 'rm -f "$ini"' EXIT
sed 's|@EXTENSION@|dbsync.so|' "$here/dbsync.ini.in" >"$ini"
install_if_changed "$ini" "$ini_dir/dbsync.ini" 0644

if [[ -n "$destdir" ]]; then
    echo "install.sh: staged under $destdir; enable with: phpenmod -v $php_version -s cli dbsync"
    exit 0
fi
command -v phpenmod >/dev/null || die "phpenmod not found (Debian's php-common); link $ini_dir/dbsync.ini into conf.d"
phpenmod -v "$php_version" -s cli dbsync
php -r 'exit(extension_loaded("dbsync") ? 0 : 1);' || die "php still does not load dbsync; see php --ini"
echo "install.sh: dbsync $(php -r 'echo DbSync\version();') enabled for php$php_version-cli"
