#!/usr/bin/env bash
# Shared helpers for the stack scripts: paths, settings from stack.env, logging, polling with a deadline.
# Sourced, never run. Everything the stack writes lives under $STATE (default <repo>/.stack, git-ignored).

set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK_DIR="$REPO_ROOT/testing/stack"
STATE=${DBSYNC_STATE_DIR:-$REPO_ROOT/.stack}
JARS="$STATE/jars"
LOGS="$STATE/logs"
RUN="$STATE/run"
PG_BIN=${DBSYNC_PG_BIN:-/usr/lib/postgresql/15/bin}

# stack.env holds defaults; variables already set in the environment win.
load_env() {
    local line name
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in '' | '#'*) continue ;; esac
        name=${line%%=*}
        if [ -z "${!name+x}" ]; then export "$line"; fi
    done <"$REPO_ROOT/stack.env"
}
load_env

log() { printf '%s [stack] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() {
    printf '%s [stack] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2
    note_failure "ERROR $*"
    exit 1
}
# note_failure TEXT: under `make test` (DBSYNC_TEST_FAILURE_LOG, set per suite by testing/scripts/suites.sh), one
# line naming the script, so the run's summary repeats every failure at the end of a long log; elsewhere nothing.
note_failure() {
    [ -n "${DBSYNC_TEST_FAILURE_LOG:-}" ] || return 0
    printf '%s: %s\n' "$(basename "$0")" "$(printf '%s' "$*" | tr '\n' ' ' | cut -c1-400)" \
        >>"$DBSYNC_TEST_FAILURE_LOG" 2>/dev/null || true
}

# wait_until DESCRIPTION SECONDS LOGFILE COMMAND...: polls COMMAND every 0.5 s until it succeeds; on timeout
# prints the tail of LOGFILE and fails.
wait_until() {
    local what=$1 seconds=$2 logfile=$3
    shift 3
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            echo "---- last lines of $logfile ----" >&2
            tail -n 40 "$logfile" >&2 2>/dev/null || true
            die "$what not ready after ${seconds}s (log: $logfile)"
        fi
        sleep 0.5
    done
}

# stop_jvm NAME PIDFILE LOGFILE GRACE: asks the JVM in PIDFILE to stop (SIGTERM) and waits up to GRACE seconds. A
# JVM whose shutdown hangs past that (Connect's REST server alone may wait 60 s for requests in flight before its
# herder stops the connectors) gets its thread dump written to LOGFILE and is killed (SIGKILL): a stop always ends
# with the process gone, so a later start never finds a half-stopped one holding the pid file. Removes PIDFILE.
stop_jvm() {
    local name=$1 pidfile=$2 logfile=$3 grace=$4 pid deadline
    pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
    pid=$(head -n 1 "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
        printf '%s [stack] WARNING: %s still running %ss after SIGTERM; thread dump into %s, then SIGKILL\n' \
            "$(date +%H:%M:%S)" "$name" "$grace" "$logfile" >&2
        timeout 20 jcmd "$pid" Thread.print >>"$logfile" 2>&1 || true
        kill -KILL "$pid" 2>/dev/null || true
        wait_until "$name to exit after SIGKILL" 30 "$logfile" bash -c "! kill -0 $pid"
    fi
    rm -f "$pidfile"
}

# pid_alive PIDFILE: the process named in PIDFILE runs.
pid_alive() {
    [ -f "$1" ] && kill -0 "$(head -n 1 "$1")" 2>/dev/null
}

# port_owner PORT: "name (pid N)" of whatever listens on 127.0.0.1:PORT, empty if free.
port_owner() {
    ss -H -ltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 (pid \2)/p' | head -n 1
}

# require_port_free PORT SERVICE HINT: fails naming the process that holds PORT.
require_port_free() {
    local owner
    owner=$(port_owner "$1")
    if [ -n "$owner" ]; then
        die "port $1 (for $2) is taken by $owner, which this stack did not start. Stop it ($3) or set the port in stack.env."
    fi
}

# Run a command as the PostgreSQL owner: root runs the server as `postgres`, anyone else as themselves.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# PostgreSQL refuses to run as root, and its data dir must be reachable by the `postgres` user.
pg_data_dir() {
    if [ "$(id -u)" != 0 ] || runuser -u postgres -- test -x "$STATE" 2>/dev/null; then
        echo "$STATE/pg"
    else
        echo "/var/tmp/dbsync-$(printf '%s' "$STATE" | md5sum | cut -c1-12)/pg"
    fi
}

# JVM options of the stack's Java processes. C1 only by default: the tests' JVMs start and warm up fast. With
# DBSYNC_JVM_FULL_JIT=1 (what `make bench` sets) the JIT runs its optimizing tier as in production, so Connect's
# capture and the JDBC sink are measured at their real cost.
java_heap_opts() {
    local jit="-XX:TieredStopAtLevel=1"
    [ "${DBSYNC_JVM_FULL_JIT:-0}" = 1 ] && jit=""
    echo "-Xms128m -Xmx$1 -XX:+UseSerialGC${jit:+ $jit}"
}

mysql_admin() { mariadb --protocol=socket -S "$RUN/mysqld.sock" -uroot "$@"; }
psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DBSYNC_PG_PORT" -U postgres "$@"; }
