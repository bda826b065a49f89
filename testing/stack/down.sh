#!/usr/bin/env bash
# `make down`: stops the stack's services (Connect first, the databases last). Data stays under $STATE; `make wipe`
# removes it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$STACK_DIR/postgres.sh"
source "$STACK_DIR/mariadb.sh"
source "$STACK_DIR/kafka.sh"
source "$STACK_DIR/connect.sh"

# Consumers started by `make demo` go first, so they commit their last batch against a live stack.
if [ -d "$RUN/consumers" ]; then
    for pidfile in "$RUN"/consumers/*.pid; do
        [ -e "$pidfile" ] || continue
        if pid_alive "$pidfile"; then
            pid=$(cat "$pidfile")
            kill -TERM "$pid"
            wait_until "consumer $(basename "$pidfile" .pid) to stop" 30 "$LOGS/$(basename "$pidfile" .pid).log" \
                bash -c "! kill -0 $pid"
            log "consumer $(basename "$pidfile" .pid): stopped"
        fi
        rm -f "$pidfile"
    done
fi
connect_stop
kafka_stop
my_stop
pg_stop
log "stack down"
