#!/usr/bin/env bash
# TLS end to end (README "Kafka over TLS and SASL", "Database TLS"): a consumer configured only through the
# documented settings (DBSYNC_BROKERS, DBSYNC_KAFKA_PROPERTIES, the DSNs' TLS parameters) syncs a row each way over
# TLS, and a wrong CA fails fast with an error naming the setting.
#
# What it starts, all torn down by the exit trap (the main stack's plaintext services stay as they are):
#   - a CA and a server certificate for 127.0.0.1/localhost (openssl), and a second, unrelated CA;
#   - a throwaway single-node Kafka (KRaft) with a SASL_SSL listener (SCRAM-SHA-512, PEM key store) on
#     127.0.0.1:19094 and a plaintext one on 19092 for the test's own producer; the SCRAM user is added as an
#     operator would (`kafka-configs --alter --add-config SCRAM-SHA-512=[...] --entity-type users`). Its topics
#     carry Debezium-shaped messages produced by the test (the stack's connectors are not involved);
#   - a throwaway MariaDB on 127.0.0.1:3307 with TLS, the revamp schema and the sync account, which must use TLS
#     (`REQUIRE SSL`);
#   - TLS on the stack's PostgreSQL (ALTER SYSTEM ssl=on + reload; reset in the trap). The consumer connects with
#     sslmode=verify-full, so the connection is TLS with the certificate checked, and the wrong-CA case shows the
#     check is real.
source "$(dirname "$0")/lib.sh"

WORK="$STATE/tls-test"
# Run alone (outside run-tests.sh, which sets it), take the debug build when PHP has no dbsync extension installed.
if [ -z "${DBSYNC_PHP_EXTENSION:-}" ] && ! php -m 2>/dev/null | grep -qx dbsync &&
    [ -f "$REPO_ROOT/target/debug/libdbsync.so" ]; then
    export DBSYNC_PHP_EXTENSION="$REPO_ROOT/target/debug/libdbsync.so"
fi
KAFKA_PORT=19092 KAFKA_CONTROLLER=19093 KAFKA_TLS_PORT=19094 MY_TLS_PORT=3307
SCRAM_USER=dbsync SCRAM_PASSWORD=dbsync-tls-test
KAFKA_PID_FILE="$WORK/kafka.pid"
MY_TLS_PID_FILE="$WORK/mysqld.pid"
PLAIN_BROKER="127.0.0.1:$KAFKA_PORT"
run=$(date +%s)$$

cleanup() {
    set +e
    stop_jvm "the TLS broker" "$KAFKA_PID_FILE" "$WORK/kafka.log" 30
    if [ -f "$MY_TLS_PID_FILE" ]; then
        local pid
        pid=$(cat "$MY_TLS_PID_FILE")
        kill "$pid" 2>/dev/null
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
    if [ "${PG_TLS_ON:-0}" = 1 ]; then
        psql -X -q -h 127.0.0.1 -p "$DBSYNC_PG_PORT" -U postgres -d postgres -c "ALTER SYSTEM RESET ssl" \
            -c "ALTER SYSTEM RESET ssl_cert_file" -c "ALTER SYSTEM RESET ssl_key_file" \
            -c "SELECT pg_reload_conf()" >/dev/null
        # As the sync service, so the stack's Debezium filters the delete as an echo.
        pg_as_sync "DELETE FROM legacy_users WHERE id = $PG_ROW_ID" >/dev/null 2>&1
    fi
    # Logs of the throwaway services stay under $LOGS for a failed run.
    for log in kafka mariadb; do [ -f "$WORK/$log.log" ] && cp "$WORK/$log.log" "$LOGS/test-tls-$log.log"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
rm -rf "$WORK"
mkdir -p "$WORK"
for port in $KAFKA_PORT $KAFKA_CONTROLLER $KAFKA_TLS_PORT $MY_TLS_PORT; do
    owner=$(port_owner "$port")
    [ -z "$owner" ] || die "port $port is taken by $owner (a leftover of an earlier run? stop it)"
done

echo "== certificates"
(
    cd "$WORK"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=dbsync test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 \
        -subj "/CN=some other CA" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
        -extfile server.ext 2>/dev/null
    # Kafka's PEM key store wants a PKCS#8 key; PostgreSQL wants its key owned by its own user, mode 0600.
    openssl pkcs8 -topk8 -nocrypt -in server.key -out server-pkcs8.key
    cp server.pem pg-server.pem && cp server.key pg-server.key
    chown postgres pg-server.pem pg-server.key 2>/dev/null || true
    chmod 0600 pg-server.key
)
if openssl verify -CAfile "$WORK/ca.pem" "$WORK/server.pem" >/dev/null; then
    pass "a CA and a server certificate for 127.0.0.1/localhost"
else
    fail "the server certificate does not verify against the CA"
fi

echo "== Kafka with SASL_SSL (SCRAM-SHA-512) on 127.0.0.1:$KAFKA_TLS_PORT"
cat >"$WORK/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER,SASL_SSL://127.0.0.1:$KAFKA_TLS_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER,SASL_SSL://127.0.0.1:$KAFKA_TLS_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.certificate.chain=$(awk 'NF {printf "%s\\n", $0}' "$WORK/server.pem" | sed 's/\\n$//')
ssl.keystore.key=$(awk 'NF {printf "%s\\n", $0}' "$WORK/server-pkcs8.key" | sed 's/\\n$//')
log.dirs=$WORK/kafka-data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
tls_java() {
    java -Xmx256m -Dlog4j2.configurationFile="$STACK_DIR/conf/log4j2.xml" -cp "$JARS/broker/*" "$@"
}
cluster_id=$(tls_java kafka.tools.StorageTool random-uuid 2>>"$WORK/kafka.log" | tail -n 1)
tls_java kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$WORK/server.properties" \
    >>"$WORK/kafka.log" 2>&1 ||
    { tail -n 20 "$WORK/kafka.log"; die "formatting the TLS broker's storage failed"; }
setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KAFKA_PID_FILE" \
    java -Xmx384m -Dlog4j2.configurationFile="$STACK_DIR/conf/log4j2.xml" -cp "$JARS/broker/*" \
    kafka.Kafka "$WORK/server.properties" >>"$WORK/kafka.log" 2>&1 </dev/null &
poll_until 60 kcat -b "$PLAIN_BROKER" -L -m 3 -t __probe_none ||
    { tail -n 20 "$WORK/kafka.log"; die "the TLS broker did not start"; }
# The SCRAM user, as an operator adds one (kafka-configs.sh --alter --add-config ... --entity-type users).
tls_java kafka.admin.ConfigCommand --bootstrap-server "$PLAIN_BROKER" --alter \
    --add-config "SCRAM-SHA-512=[password=$SCRAM_PASSWORD]" --entity-type users --entity-name "$SCRAM_USER" \
    >>"$WORK/kafka.log" 2>&1 || { tail -n 20 "$WORK/kafka.log"; die "could not create the SCRAM user"; }
# The handshake against the test CA, certificate and host name checked (Debian's kcat links librdkafka 2.0.2, whose
# SCRAM fails against this broker, so SASL is exercised by the consumer's own librdkafka below).
tls_handshake() { # CA
    openssl s_client -connect "127.0.0.1:$KAFKA_TLS_PORT" -CAfile "$1" -verify_return_error -verify_ip 127.0.0.1 \
        </dev/null 2>&1 | grep -q "Verify return code: 0 (ok)"
}
if poll_until 60 tls_handshake "$WORK/ca.pem"; then
    pass "the broker's SASL_SSL listener presents the test certificate (verified for 127.0.0.1)"
else
    tail -n 30 "$WORK/kafka.log"
    fail "the TLS broker did not answer on 127.0.0.1:$KAFKA_TLS_PORT"
    summary
    exit 1
fi
if tls_handshake "$WORK/other-ca.pem"; then
    fail "the broker's certificate verified against an unrelated CA"
else
    pass "the broker's certificate does not verify against an unrelated CA"
fi

echo "== MariaDB with TLS on 127.0.0.1:$MY_TLS_PORT"
mkdir -p "$WORK/mysql-run"
sed -e "s#@STATE@/mysql#$WORK/mysql#g" -e "s#@STATE@/logs/mariadb.log#$WORK/mariadb.log#g" \
    -e "s#@RUN@/mysqld.sock#$WORK/mysql-run/mysqld.sock#" -e "s#@RUN@/mysqld.pid#$MY_TLS_PID_FILE#" \
    -e "s#@PORT@#$MY_TLS_PORT#" -e '/^innodb_buffer_pool_size/s/=.*/= 32M/' \
    "$STACK_DIR/conf/my.cnf" >"$WORK/my.cnf"
printf 'ssl_ca = %s\nssl_cert = %s\nssl_key = %s\n' "$WORK/ca.pem" "$WORK/server.pem" "$WORK/server.key" \
    >>"$WORK/my.cnf"
user=()
[ "$(id -u)" = 0 ] && user=(--user=root)
mariadb-install-db --defaults-file="$WORK/my.cnf" "${user[@]}" --auth-root-authentication-method=normal \
    --skip-test-db >"$WORK/mariadb-install.log" 2>&1 ||
    { tail -n 20 "$WORK/mariadb-install.log"; die "mariadb-install-db failed"; }
setsid mariadbd --defaults-file="$WORK/my.cnf" "${user[@]}" >>"$WORK/mariadb.log" 2>&1 </dev/null &
my_tls_admin() { mariadb -S "$WORK/mysql-run/mysqld.sock" -uroot -N -B "$@"; }
poll_until 60 my_tls_admin -e "SELECT 1" || { tail -n 20 "$WORK/mariadb.log"; die "the TLS MariaDB did not start"; }
my_tls_admin -e "CREATE DATABASE $DBSYNC_MYSQL_DATABASE CHARACTER SET utf8mb4"
my_tls_admin "$DBSYNC_MYSQL_DATABASE" <"$REPO_ROOT/databases/mysql/schema.sql"
for migration in "$REPO_ROOT"/databases/mysql/migrations/*.sql; do
    [ -e "$migration" ] && my_tls_admin "$DBSYNC_MYSQL_DATABASE" <"$migration"
done
sed -e "s#@@DEBEZIUM_PASSWORD@@#$DBSYNC_DEBEZIUM_PASSWORD#g" -e "s#@@SYNC_PASSWORD@@#$DBSYNC_SYNC_PASSWORD#g" \
    "$REPO_ROOT/databases/mysql/roles.sql" | my_tls_admin
my_tls_admin -e "ALTER USER 'dbsync_sync'@'%' REQUIRE SSL"
check_eq "MariaDB has TLS on" "YES" "$(my_tls_admin -e "SHOW VARIABLES LIKE 'have_ssl'" | cut -f2)"
if mariadb -h 127.0.0.1 -P $MY_TLS_PORT -u dbsync_sync -p"$DBSYNC_SYNC_PASSWORD" --skip-ssl -e "SELECT 1" \
    >/dev/null 2>&1; then
    fail "the sync account logged in without TLS"
else
    pass "the sync account is refused without TLS (REQUIRE SSL)"
fi

echo "== PostgreSQL with TLS on 127.0.0.1:$DBSYNC_PG_PORT"
PG_ROW_ID=0
PG_TLS_ON=1
psql -X -q -h 127.0.0.1 -p "$DBSYNC_PG_PORT" -U postgres -d postgres \
    -c "ALTER SYSTEM SET ssl_cert_file = '$WORK/pg-server.pem'" \
    -c "ALTER SYSTEM SET ssl_key_file = '$WORK/pg-server.key'" -c "ALTER SYSTEM SET ssl = on" \
    -c "SELECT pg_reload_conf()" >/dev/null
pg_tls_ok() {
    [ "$(psql -X -tA "postgresql://postgres@127.0.0.1:$DBSYNC_PG_PORT/postgres?sslmode=verify-full&sslrootcert=$WORK/ca.pem" \
        -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")" = t ]
}
if poll_until 15 pg_tls_ok; then
    pass "PostgreSQL takes sslmode=verify-full connections with the test CA"
else
    tail -n 10 "$STATE/logs/postgres.log" 2>/dev/null
    fail "PostgreSQL did not turn TLS on"
fi

# The consumer's environment: only documented settings (README "Configuration", "Kafka over TLS and SASL",
# "Database TLS").
kafka_properties() { # CA [PASSWORD]
    echo "security.protocol=SASL_SSL,sasl.mechanism=SCRAM-SHA-512,sasl.username=$SCRAM_USER,sasl.password=${2:-$SCRAM_PASSWORD},ssl.ca.location=$1"
}
REVAMP_DSN_TLS="mysql://dbsync_sync:$DBSYNC_SYNC_PASSWORD@127.0.0.1:$MY_TLS_PORT/$DBSYNC_MYSQL_DATABASE?ssl-mode=VERIFY_IDENTITY&ssl-ca=$WORK/ca.pem"
LEGACY_DSN_TLS="postgres://dbsync_sync:$DBSYNC_SYNC_PASSWORD@127.0.0.1:$DBSYNC_PG_PORT/$DBSYNC_PG_DATABASE?sslmode=verify-full&sslrootcert=$WORK/ca.pem"
consume() { # COMMAND KAFKA_CA LEGACY_DSN REVAMP_DSN ARGS...: runs the consumer; output in $WORK/out
    local command=$1 ca=$2 legacy=$3 revamp=$4
    shift 4
    DBSYNC_BROKERS="127.0.0.1:$KAFKA_TLS_PORT" DBSYNC_KAFKA_PROPERTIES="$(kafka_properties "$ca" "${SASL_PASSWORD:-}")" \
        DBSYNC_LEGACY_TOPIC="tls.legacy.events" DBSYNC_REVAMP_TOPIC="tls.revamp.events" DBSYNC_DLQ_TOPIC="tls.dlq" \
        DBSYNC_GROUP_PREFIX="dbsync-tls-$run" DBSYNC_INSTANCE_ID="tls-test-$command-$run" \
        DBSYNC_LEGACY_DSN="$legacy" DBSYNC_REVAMP_DSN="$revamp" \
        timeout 90 "$REPO_ROOT/testing/scripts/artisan.sh" "consume:$command" "$@" >"$WORK/out" 2>&1
}

# sync_over_tls NAME ID EVENT TARGET: puts EVENT (keyed by ID) on tls.NAME through the plaintext listener, then runs
# consume:NAME over SASL_SSL and TLS to TARGET until it is caught up.
sync_over_tls() {
    local started=$SECONDS
    printf '{"id":%s}\t%s\n' "$2" "$3" |
        kcat -b "$PLAIN_BROKER" -P -t "tls.${1%-events}.events" -K $'\t' 2>>"$WORK/kcat.log"
    if consume "$1" "$WORK/ca.pem" "$LEGACY_DSN_TLS" "$REVAMP_DSN_TLS" --stop-when-empty --max-time=60; then
        pass "consume:$1 over SASL_SSL and TLS to $4 exits 0 ($((SECONDS - started)) s)"
    else
        fail "consume:$1 failed: $(tail -n 5 "$WORK/out")"
    fi
}

echo "== legacy -> revamp over TLS"
LEGACY_ID=$((970000000000 + RANDOM * 1000 + RANDOM % 1000))
now_us=$(($(date +%s%N) / 1000))
legacy_event=$(jq -cn --argjson id "$LEGACY_ID" --arg run "$run" --argjson lsn "$now_us" '{
    before: null,
    after: {id: $id, username: ("tls-" + $run), email: ("tls." + $run + "@example.test"), full_name: "Tls Tester",
            status: "active", is_admin: false, created_at: "2026-01-01T00:00:00.000000Z",
            updated_at: "2026-01-01T00:00:00.000000Z", source: "legacy"},
    source: {version: "3.6.1.Final", connector: "postgresql", name: "legacy", ts_ms: ($lsn / 1000 | floor),
             db: "legacy_db", schema: "public", table: "legacy_users", txId: 4242, lsn: $lsn},
    op: "c", ts_ms: ($lsn / 1000 | floor)}')
sync_over_tls legacy-events "$LEGACY_ID" "$legacy_event" MariaDB
check_eq "the legacy row arrived in the TLS MariaDB" "tls-$run" \
    "$(my_tls_admin "$DBSYNC_MYSQL_DATABASE" -e "SELECT user_name FROM revamp_users WHERE id = $LEGACY_ID")"

echo "== revamp -> legacy over TLS"
REVAMP_ID=$((1900000000000 + RANDOM * 1000 + RANDOM % 1000))
PG_ROW_ID=$REVAMP_ID
revamp_event=$(jq -cn --argjson id "$REVAMP_ID" --arg run "$run" --argjson us "$now_us" '{
    before: null,
    after: {id: $id, user_name: ("tls-r-" + $run), email_address: ("tls.r." + $run + "@example.test"),
            first_name: "Tls", last_name: "Tester", status: 1, is_admin: 0, created_at: 1767225600000000,
            updated_at: 1767225600000000, source: "revamp"},
    source: {version: "3.6.1.Final", connector: "mariadb", name: "revamp", ts_ms: ($us / 1000 | floor),
             snapshot: "false", db: "revamp_db", table: "revamp_users", server_id: 1, gtid: null,
             file: "mysql-bin.000001", pos: ($us % 1000000000), row: 0, thread: 1, query: null},
    transaction: null, op: "c", ts_ms: ($us / 1000 | floor)}')
sync_over_tls revamp-events "$REVAMP_ID" "$revamp_event" PostgreSQL
check_eq "the revamp row arrived in PostgreSQL" "tls-r-$run" \
    "$(pg "SELECT username FROM legacy_users WHERE id = $REVAMP_ID")"

echo "== a wrong CA fails fast, naming the setting"
# expect_refusal DESCRIPTION SETTING COMMAND KAFKA_CA LEGACY_DSN REVAMP_DSN
expect_refusal() {
    local what=$1 setting=$2 started=$SECONDS code=0
    shift 2
    consume "$@" --max-time=60 || code=$?
    local elapsed=$((SECONDS - started))
    if grep -qF -e "$SCRAM_PASSWORD" -e "$DBSYNC_SYNC_PASSWORD" "$WORK/out"; then
        fail "$what: the output shows a password"
    elif [ "$code" -ne 0 ] && [ "$elapsed" -le 8 ] && grep -qF "$setting" "$WORK/out"; then
        pass "$what: exit $code after ${elapsed} s, the error names $setting (no password shown)"
    else
        fail "$what: exit $code after ${elapsed} s, output: $(tail -n 5 "$WORK/out")"
    fi
}
expect_refusal "Kafka with another CA in ssl.ca.location" "kafka_properties.ssl.ca.location" \
    legacy-events "$WORK/other-ca.pem" "$LEGACY_DSN_TLS" "$REVAMP_DSN_TLS"
SASL_PASSWORD=wrong expect_refusal "Kafka with a wrong SCRAM password" "kafka_properties.sasl.password" \
    legacy-events "$WORK/ca.pem" "$LEGACY_DSN_TLS" "$REVAMP_DSN_TLS"
expect_refusal "MariaDB with another CA in ssl-ca" "target_dsn" \
    legacy-events "$WORK/ca.pem" "$LEGACY_DSN_TLS" "${REVAMP_DSN_TLS%ssl-ca=*}ssl-ca=$WORK/other-ca.pem"
expect_refusal "PostgreSQL with another CA in sslrootcert" "target_dsn" \
    revamp-events "$WORK/ca.pem" "${LEGACY_DSN_TLS%sslrootcert=*}sslrootcert=$WORK/other-ca.pem" "$REVAMP_DSN_TLS"

summary
