#!/usr/bin/env bash
# Registers (or updates) the Debezium connectors through the Kafka Connect REST API and waits until each one and
# its task run. Idempotent: PUT /connectors/<name>/config creates or replaces.
#   usage: debezium/register-connectors.sh [connector.json ...]   (default: both files in debezium/)
# Env: DBSYNC_CONNECT_URL (default http://127.0.0.1:8083); DBSYNC_REVAMP_FLAVOR=mysql registers the revamp side
# with Debezium's MySQL connector (MySQL 8, as in docker-compose.yml) instead of the MariaDB one; the other keys
# are the same. Secrets stay out of the files: they say ${env:NAME} and the Connect worker resolves them from its
# own environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
url=${DBSYNC_CONNECT_URL:-http://127.0.0.1:8083}
files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$here/postgres-connector.json" "$here/mysql-connector.json")

wait_for() { # seconds, description, command...
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@"; do
        [ $SECONDS -lt $deadline ] || { echo "register-connectors: timed out waiting for $what" >&2; return 1; }
        sleep 0.5
    done
}

wait_for 120 "Kafka Connect REST at $url" curl -sf -o /dev/null "$url/connectors"

running() {
    local status
    status=$(curl -sf "$url/connectors/$1/status") || return 1
    if jq -e '[.connector.state] + [.tasks[].state] | any(. == "FAILED")' <<<"$status" >/dev/null; then
        echo "register-connectors: connector $1 FAILED:" >&2
        jq -r '.connector.trace // empty, (.tasks[].trace // empty)' <<<"$status" | head -n 30 >&2
        exit 1
    fi
    jq -e '.connector.state == "RUNNING" and (.tasks | length) > 0 and all(.tasks[]; .state == "RUNNING")' \
        <<<"$status" >/dev/null
}

for file in "${files[@]}"; do
    name=$(jq -r .name "$file")
    body=$(jq -c .config "$file")
    if [ "${DBSYNC_REVAMP_FLAVOR:-mariadb}" = mysql ]; then
        body=$(jq -c 'if .["connector.class"] == "io.debezium.connector.mariadb.MariaDbConnector"
                      then .["connector.class"] = "io.debezium.connector.mysql.MySqlConnector" else . end' <<<"$body")
    fi
    if [ "$(curl -sf "$url/connectors/$name/config" | jq -cS 'del(.name)' 2>/dev/null)" = "$(jq -cS 'del(.name)' <<<"$body")" ]; then
        echo "register-connectors: $name unchanged"
    else
        code=$(curl -s -o /tmp/register-$$.out -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
            --data "$body" "$url/connectors/$name/config")
        case "$code" in
        200 | 201) echo "register-connectors: $name registered ($code)" ;;
        *)
            echo "register-connectors: $name rejected with HTTP $code:" >&2
            cat /tmp/register-$$.out >&2
            rm -f /tmp/register-$$.out
            exit 1
            ;;
        esac
        rm -f /tmp/register-$$.out
    fi
    wait_for 120 "connector $name to run" running "$name"
    echo "register-connectors: $name running"
done
