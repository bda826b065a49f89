#!/usr/bin/env bash
# `make status`: one line per service (and per connector), from pid files and the Connect REST API.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$STACK_DIR/postgres.sh"
source "$STACK_DIR/mariadb.sh"
source "$STACK_DIR/kafka.sh"
source "$STACK_DIR/connect.sh"

pg_status
my_status
kafka_status
connect_status
for pidfile in "$RUN"/consumers/*.pid; do
    [ -e "$pidfile" ] || continue
    if pid_alive "$pidfile"; then state=up; else state=down; fi
    printf 'consumer   %-5s %s (log %s)\n' "$state" "$(basename "$pidfile" .pid)" "$LOGS/$(basename "$pidfile" .pid).log"
done
