#!/usr/bin/env bash
# docker-compose only: runs once in the official mysql image's entrypoint, on a fresh data dir. Applies what
# `make up` applies natively (testing/stack/mariadb.sh): schema, migrations, accounts, seeds.
set -euo pipefail
run() { mysql -uroot "$@"; }
run revamp_db </dbsync/mysql/schema.sql
for migration in /dbsync/mysql/migrations/*.sql; do [ -e "$migration" ] && run revamp_db <"$migration"; done
sed -e "s#@@DEBEZIUM_PASSWORD@@#$DBSYNC_DEBEZIUM_PASSWORD#g" -e "s#@@SYNC_PASSWORD@@#$DBSYNC_SYNC_PASSWORD#g" \
    /dbsync/mysql/roles.sql | run
run revamp_db </dbsync/mysql/seeds/seed.sql
