#!/usr/bin/env bash
# docker-compose only: runs once in the official postgres image's entrypoint, on a fresh data dir. Applies what
# `make up` applies natively (testing/stack/postgres.sh): schema, migrations, roles, seeds.
set -euo pipefail
run() { psql -v ON_ERROR_STOP=1 -U postgres -d legacy_db "$@"; }
run -f /dbsync/postgres/schema.sql
for migration in /dbsync/postgres/migrations/*.sql; do [ -e "$migration" ] && run -f "$migration"; done
run -v debezium_password="$DBSYNC_DEBEZIUM_PASSWORD" -v sync_password="$DBSYNC_SYNC_PASSWORD" -f /dbsync/postgres/roles.sql
run -f /dbsync/postgres/seeds/seed.sql
