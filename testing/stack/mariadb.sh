#!/usr/bin/env bash
# MariaDB 10.11 for the revamp side: own data dir, loopback port, ROW binlog with full images, UTC.
# Sourced by up.sh/down.sh/status.sh.

MY_LOG="$LOGS/mariadb.log"
MY_CNF="$STATE/conf/my.cnf"

my_running() { pid_alive "$RUN/mysqld.pid"; }
my_ready() { mariadb-admin --protocol=socket -S "$RUN/mysqld.sock" -uroot ping; }

my_start() {
    if my_running; then
        log "mariadb: already running (pid $(cat "$RUN/mysqld.pid"))"
        return
    fi
    require_port_free "$DBSYNC_MYSQL_PORT" mariadb "e.g. 'service mariadb stop'"
    mkdir -p "$STATE/conf" "$RUN" "$LOGS"
    sed -e "s#@STATE@#$STATE#g" -e "s#@RUN@#$RUN#g" -e "s#@PORT@#$DBSYNC_MYSQL_PORT#" \
        "$STACK_DIR/conf/my.cnf" >"$MY_CNF"
    local user=()
    [ "$(id -u)" = 0 ] && user=(--user=root)
    if [ ! -d "$STATE/mysql/mysql" ]; then
        log "mariadb: initializing $STATE/mysql"
        mariadb-install-db --defaults-file="$MY_CNF" "${user[@]}" --auth-root-authentication-method=normal \
            --skip-test-db >"$LOGS/mariadb-install.log" 2>&1 ||
            { tail -n 20 "$LOGS/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
    fi
    log "mariadb: starting on 127.0.0.1:$DBSYNC_MYSQL_PORT"
    setsid mariadbd --defaults-file="$MY_CNF" "${user[@]}" >>"$MY_LOG" 2>&1 </dev/null &
    wait_until "mariadb" 60 "$MY_LOG" my_ready
}

# Creates revamp_db, applies the schema, migrations and accounts; seeds a fresh database. Idempotent.
my_schema() {
    local fresh=0 migration
    # Loopback TCP access for the admin, as `mysql -h 127.0.0.1 -uroot` (local development default).
    mysql_admin -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
    if ! mysql_admin -N -e "SHOW DATABASES LIKE '$DBSYNC_MYSQL_DATABASE'" | grep -q .; then
        mysql_admin -e "CREATE DATABASE $DBSYNC_MYSQL_DATABASE CHARACTER SET utf8mb4"
        fresh=1
    fi
    mysql_admin "$DBSYNC_MYSQL_DATABASE" <"$REPO_ROOT/databases/mysql/schema.sql"
    for migration in "$REPO_ROOT"/databases/mysql/migrations/*.sql; do
        [ -e "$migration" ] && mysql_admin "$DBSYNC_MYSQL_DATABASE" <"$migration"
    done
    sed -e "s#@@DEBEZIUM_PASSWORD@@#$DBSYNC_DEBEZIUM_PASSWORD#g" -e "s#@@SYNC_PASSWORD@@#$DBSYNC_SYNC_PASSWORD#g" \
        "$REPO_ROOT/databases/mysql/roles.sql" | mysql_admin
    if [ $fresh = 1 ]; then
        mysql_admin "$DBSYNC_MYSQL_DATABASE" <"$REPO_ROOT/databases/mysql/seeds/seed.sql"
        log "mariadb: created $DBSYNC_MYSQL_DATABASE with schema and seed rows"
    else
        log "mariadb: schema of $DBSYNC_MYSQL_DATABASE is current"
    fi
}

my_stop() {
    if my_running; then
        mariadb-admin --protocol=socket -S "$RUN/mysqld.sock" -uroot shutdown && log "mariadb: stopped"
    fi
}

my_status() {
    if my_running; then echo "mariadb    up    127.0.0.1:$DBSYNC_MYSQL_PORT  data $STATE/mysql"; else echo "mariadb    down"; fi
}
