#!/usr/bin/env bash
# `make wipe`: stops the stack and deletes its data (databases, Kafka log, Connect offsets); jars are kept.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$STACK_DIR/down.sh"
source "$STACK_DIR/postgres.sh"
rm -rf "$STATE/mysql" "$STATE/kafka" "$STATE/conf" "$RUN" "$LOGS" "$PG_DATA"
# A clone that `postgres` cannot read keeps PostgreSQL's files in a /var/tmp dir of its own (see postgres.sh).
[ "$PG_HOME" = "$STATE" ] || rm -rf "$PG_HOME"
log "stack data wiped (jars kept in $JARS)"
