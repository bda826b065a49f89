#!/usr/bin/env bash
# `make up`: starts PostgreSQL, MariaDB, Kafka and Kafka Connect on loopback (each with its data dir and log under
# $STATE), applies both schemas, creates the topics and registers the Debezium connectors. Idempotent: what runs
# already is reused, so a second `make up` takes seconds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$STACK_DIR/postgres.sh"
source "$STACK_DIR/mariadb.sh"
source "$STACK_DIR/kafka.sh"
source "$STACK_DIR/connect.sh"

started=$SECONDS
mkdir -p "$LOGS" "$RUN"
[ -f "$JARS/connect/.pom.sha256" ] || die "jars missing: run 'make deps' first"

pg_start
my_start
kafka_start
pg_schema
my_schema
kafka_topics
connect_start
"$REPO_ROOT/debezium/register-connectors.sh" | sed 's/^/             /'
log "stack up in $((SECONDS - started))s (logs: $LOGS)"
