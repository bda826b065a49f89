#!/usr/bin/env bash
# Starts or stops both artisan consumers of the thin Laravel app in the background (what `make demo` leaves
# running and what the end-to-end tests drive), and next to them `dbsync:supervise`, which restarts FAILED Debezium
# connectors and tasks (every DBSYNC_SUPERVISE_INTERVAL seconds, default 5). Pid files under $STATE/run/consumers,
# logs in $STATE/logs (consume:legacy-events -> legacy-events.log, dbsync:supervise -> supervise.log).
#   usage: testing/scripts/consumers.sh start|stop|restart
# PHP runs through testing/scripts/artisan.sh (the extension as installed by `make ext`, or DBSYNC_PHP_EXTENSION).
source "$(dirname "${BASH_SOURCE[0]}")/../stack/lib.sh"

PIDS="$RUN/consumers"
COMMANDS=(consume:legacy-events consume:revamp-events dbsync:supervise)

# name_of COMMAND: the pid and log file name (legacy-events, revamp-events, supervise).
name_of() { echo "${1#*:}"; }
# What each logs once it runs, and the summary line it prints last on a clean stop.
ready_line() { case $1 in supervise) echo 'supervisor ready' ;; *) echo 'consumer ready' ;; esac; }
summary_prefix() { case $1 in supervise) echo 'dbsync:supervise: checks=' ;; *) echo "consume:$1: consumed=" ;; esac; }
# extra_args COMMAND: options the background run gets.
extra_args() { case $1 in dbsync:supervise) echo "--interval=${DBSYNC_SUPERVISE_INTERVAL:-5}" ;; esac; }
# metrics_addr COMMAND: each consumer's Prometheus endpoint (README "Operating dbsync: Metrics"); set
# DBSYNC_LEGACY_METRICS_ADDR / DBSYNC_REVAMP_METRICS_ADDR to move one, or to '' for none.
metrics_addr() {
    case $1 in
    consume:legacy-events) echo "${DBSYNC_LEGACY_METRICS_ADDR-127.0.0.1:9464}" ;;
    consume:revamp-events) echo "${DBSYNC_REVAMP_METRICS_ADDR-127.0.0.1:9465}" ;;
    esac
}

start() {
    mkdir -p "$PIDS" "$LOGS"
    local command name
    declare -A first_line
    for command in "${COMMANDS[@]}"; do
        name=$(name_of "$command")
        touch "$LOGS/$name.log"
        first_line[$name]=$(($(wc -l <"$LOGS/$name.log") + 1))
        if pid_alive "$PIDS/$name.pid"; then
            log "consumer $command: already running (pid $(cat "$PIDS/$name.pid"))"
            first_line[$name]=1
            continue
        fi
        # shellcheck disable=SC2046 # extra_args prints whole words
        DBSYNC_METRICS_ADDR=$(metrics_addr "$command") \
            setsid "$REPO_ROOT/testing/scripts/artisan.sh" "$command" $(extra_args "$command") >>"$LOGS/$name.log" 2>&1 </dev/null &
        echo $! >"$PIDS/$name.pid"
        log "consumer $command: started (pid $!, log $LOGS/$name.log)"
    done
    # Ready once each has logged its start-up line (in this run's part of the log), or failed fast (bad config,
    # missing extension).
    for command in "${COMMANDS[@]}"; do
        name=$(name_of "$command")
        wait_until "consumer $command" 30 "$LOGS/$name.log" \
            bash -c "tail -n +${first_line[$name]} '$LOGS/$name.log' | grep -q '$(ready_line "$name")' || ! kill -0 \$(cat '$PIDS/$name.pid')"
        pid_alive "$PIDS/$name.pid" || { tail -n 20 "$LOGS/$name.log" >&2; die "consumer $command exited"; }
    done
}

stop() {
    local pidfile pid name last
    for pidfile in "$PIDS"/*.pid; do
        [ -e "$pidfile" ] || continue
        name=$(basename "$pidfile" .pid)
        if pid_alive "$pidfile"; then
            pid=$(cat "$pidfile")
            kill -TERM "$pid"
            wait_until "consumer $name to stop" 30 "$LOGS/$name.log" bash -c "! kill -0 $pid"
            # A clean stop finishes its batch, commits and prints the summary line last.
            last=$(tail -n 1 "$LOGS/$name.log")
            case "$last" in
            "$(summary_prefix "$name")"*) log "consumer $name: stopped ($last)" ;;
            *) die "consumer $name did not stop cleanly; last log line: $last" ;;
            esac
        fi
        rm -f "$pidfile"
    done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart) stop && start ;;
*) die "usage: $0 start|stop|restart" ;;
esac
