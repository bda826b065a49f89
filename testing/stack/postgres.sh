#!/usr/bin/env bash
# PostgreSQL 15 for the legacy side: own data dir, loopback port, logical WAL. Sourced by up.sh/down.sh/status.sh.

# PostgreSQL runs as `postgres` when we are root, so everything the server itself opens (data dir, socket dir, log)
# lives where that user can reach: under $STATE, or under the /var/tmp fallback of pg_data_dir (a clone in /root).
# The config templates are read by us and written into the data dir as its owner, so they may stay unreadable to it.
PG_DATA=$(pg_data_dir)
PG_HOME=$(dirname "$PG_DATA")
PG_SOCKETS="$PG_HOME/run"
if [ "$PG_HOME" = "$STATE" ]; then PG_LOG="$LOGS/postgres.log"; else PG_LOG="$PG_HOME/postgres.log"; fi

pg_running() { pid_alive "$PG_DATA/postmaster.pid"; }
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$DBSYNC_PG_PORT"; }

pg_start() {
    if pg_running; then
        log "postgres: already running (pid $(head -n 1 "$PG_DATA/postmaster.pid"))"
        return
    fi
    require_port_free "$DBSYNC_PG_PORT" postgres "e.g. 'pg_ctlcluster 15 main stop'"
    mkdir -p "$PG_SOCKETS" "$PG_HOME" "$LOGS"
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_SOCKETS" "$PG_HOME" && chmod 0755 "$PG_SOCKETS"
    touch "$PG_LOG" && { [ "$(id -u)" != 0 ] || chown postgres: "$PG_LOG"; }
    # The log sits in the fallback dir then; $LOGS/postgres.log points to it.
    [ "$PG_LOG" = "$LOGS/postgres.log" ] || ln -sfn "$PG_LOG" "$LOGS/postgres.log"
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        log "postgres: initdb $PG_DATA"
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >>"$PG_LOG" 2>&1 ||
            die "initdb failed (log: $PG_LOG)"
    fi
    pg_configure
    log "postgres: starting on 127.0.0.1:$DBSYNC_PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null ||
        { tail -n 20 "$PG_LOG" >&2; die "postgres did not start (log: $PG_LOG)"; }
    wait_until "postgres" 30 "$PG_LOG" pg_ready
}

# Writes our settings into the data dir, at every start, so an edit in testing/stack/conf takes effect on restart.
# We read the templates (stdin), `postgres` writes the files: the clone may be unreadable to it.
pg_configure() {
    sed -e "s#@PORT@#$DBSYNC_PG_PORT#" -e "s#@RUN@#$PG_SOCKETS#" "$STACK_DIR/conf/postgresql.conf" |
        as_pg tee "$PG_DATA/dbsync.conf" >/dev/null
    grep -q "^include_if_exists = 'dbsync.conf'" "$PG_DATA/postgresql.conf" ||
        echo "include_if_exists = 'dbsync.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
    as_pg tee "$PG_DATA/pg_hba.conf" <"$STACK_DIR/conf/pg_hba.conf" >/dev/null
}

# Creates legacy_db, applies the schema, migrations and roles; seeds a fresh database. Idempotent.
pg_schema() {
    local fresh=0
    if ! psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DBSYNC_PG_DATABASE'" | grep -q 1; then
        psql_admin -d postgres -c "CREATE DATABASE $DBSYNC_PG_DATABASE"
        fresh=1
    fi
    psql_admin -d "$DBSYNC_PG_DATABASE" -f "$REPO_ROOT/databases/postgres/schema.sql" >/dev/null
    local migration
    for migration in "$REPO_ROOT"/databases/postgres/migrations/*.sql; do
        [ -e "$migration" ] && psql_admin -d "$DBSYNC_PG_DATABASE" -f "$migration" >/dev/null
    done
    psql_admin -d "$DBSYNC_PG_DATABASE" -v debezium_password="$DBSYNC_DEBEZIUM_PASSWORD" \
        -v sync_password="$DBSYNC_SYNC_PASSWORD" -f "$REPO_ROOT/databases/postgres/roles.sql" >/dev/null
    if [ $fresh = 1 ]; then
        psql_admin -d "$DBSYNC_PG_DATABASE" -f "$REPO_ROOT/databases/postgres/seeds/seed.sql" >/dev/null
        log "postgres: created $DBSYNC_PG_DATABASE with schema and seed rows"
    else
        log "postgres: schema of $DBSYNC_PG_DATABASE is current"
    fi
}

pg_stop() {
    if pg_running; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && log "postgres: stopped"
    fi
}

pg_status() {
    if pg_running; then echo "postgres   up    127.0.0.1:$DBSYNC_PG_PORT  data $PG_DATA"; else echo "postgres   down"; fi
}
