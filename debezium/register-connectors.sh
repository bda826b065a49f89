#!/usr/bin/env bash
# Registers (or updates) the Debezium connectors through the Kafka Connect REST API and waits until each one and
# its task run. Idempotent: PUT /connectors/<name>/config creates or replaces. A FAILED connector or task (Kafka
# Connect never restarts one by itself, e.g. after a database outage) is restarted through
# POST /connectors/<name>/restart?includeTasks=true&onlyFailed=true, with backoff, up to DBSYNC_CONNECT_RESTARTS
# times (default 3) per connector; then the script prints the trace and fails. After a restart, the connector
# counts as running once it has stayed RUNNING for DBSYNC_CONNECT_SETTLE_SECS (default 5): a restarted task shows
# RUNNING before it fails again.
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

max_restarts=${DBSYNC_CONNECT_RESTARTS:-3}
settle=${DBSYNC_CONNECT_SETTLE_SECS:-5}
restarts=0
next_restart=0
running_since=""

# running NAME: true once the connector and all its tasks run; restarts what FAILED (see the header).
running() {
    local status
    status=$(curl -sf "$url/connectors/$1/status") || return 1
    if jq -e '[.connector.state] + [.tasks[].state] | any(. == "FAILED")' <<<"$status" >/dev/null; then
        running_since=""
        [ $SECONDS -ge $next_restart ] || return 1
        if [ $restarts -ge "$max_restarts" ]; then
            echo "register-connectors: connector $1 FAILED after $restarts restarts:" >&2
            jq -r '.connector.trace // empty, (.tasks[].trace // empty)' <<<"$status" | head -n 30 >&2
            exit 1
        fi
        restarts=$((restarts + 1))
        next_restart=$((SECONDS + 2 ** restarts))
        echo "register-connectors: ERROR: connector $1 has FAILED parts ($(jq -r '[.connector.state] + [.tasks[].state] | join(",")' <<<"$status")):" \
            "$(jq -r '[.connector.trace // empty, (.tasks[].trace // empty)] | first // "no trace" | split("\n") | first' <<<"$status");" \
            "restarting the failed parts (restart $restarts of $max_restarts)" >&2
        curl -sf -o /dev/null -X POST "$url/connectors/$1/restart?includeTasks=true&onlyFailed=true" ||
            echo "register-connectors: restart request for $1 failed" >&2
        return 1
    fi
    if ! jq -e '.connector.state == "RUNNING" and (.tasks | length) > 0 and all(.tasks[]; .state == "RUNNING")' \
        <<<"$status" >/dev/null; then
        running_since=""
        return 1
    fi
    [ $restarts -gt 0 ] || return 0
    running_since=${running_since:-$SECONDS}
    [ $((SECONDS - running_since)) -ge "$settle" ]
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
    restarts=0
    next_restart=0
    running_since=""
    wait_for 120 "connector $name to run" running "$name"
    echo "register-connectors: $name running$([ $restarts = 0 ] || echo " (after $restarts restarts)")"
done
