#!/usr/bin/env bash
# `make wipe`: stops the stack and deletes its data (databases, Kafka log, Connect offsets); jars are kept.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$STACK_DIR/down.sh"
source "$STACK_DIR/postgres.sh"
rm -rf "$STATE/mysql" "$STATE/kafka" "$STATE/conf" "$RUN" "$LOGS" "$PG_DATA"
log "stack data wiped (jars kept in $JARS)"
