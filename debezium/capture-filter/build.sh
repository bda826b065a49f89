#!/usr/bin/env bash
# Builds dbsync's capture filter (a Kafka Connect transformation, src/) into OUT_DIR/dbsync-capture-filter.jar
# against the Connect API jars in CLASSPATH_DIR. Skips the build when the jar was made from the same sources.
# Usage: build.sh CLASSPATH_DIR OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
classpath_dir=${1:?usage: build.sh CLASSPATH_DIR OUT_DIR}
out_dir=${2:?usage: build.sh CLASSPATH_DIR OUT_DIR}
stamp="$out_dir/.sources.sha256"
want=$(cd "$here" && find src resources -type f | sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
if [ -f "$out_dir/dbsync-capture-filter.jar" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
command -v javac >/dev/null || { echo "build.sh: javac not found (Debian: openjdk-17-jdk-headless)" >&2; exit 1; }
api=$(ls "$classpath_dir"/connect-api-*.jar "$classpath_dir"/kafka-clients-*.jar 2>/dev/null | tr '\n' ':')
[ -n "$api" ] || { echo "build.sh: no connect-api/kafka-clients jar in $classpath_dir" >&2; exit 1; }
classes=$(mktemp -d)
trap 'rm -rf "$classes"' EXIT
javac --release 17 -Xlint:all -Werror -cp "$api" -d "$classes" $(find "$here/src" -name '*.java')
cp -r "$here/resources/." "$classes/"
mkdir -p "$out_dir"
jar --create --file "$out_dir/dbsync-capture-filter.jar" -C "$classes" .
echo "$want" >"$stamp"
