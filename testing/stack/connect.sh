#!/usr/bin/env bash
# Kafka Connect (distributed mode, REST on 127.0.0.1:8083) with the Debezium plugins, and the two connectors.
# Sourced by up/down/status.

CONNECT_LOG="$LOGS/connect.log"
CONNECT_PID="$RUN/connect.pid"
CONNECT_PROPS="$STATE/conf/connect-distributed.properties"
# What the running worker was started with (jar set, capture filter, worker config, log config, JVM options): a
# `make up` after any of them changed restarts the worker, which would otherwise keep the old classpath (e.g. the
# slf4j jars) until `make down`.
CONNECT_STAMP="$RUN/connect.stamp"

connect_stamp() {
    cat "$JARS/connect/.pom.sha256" "$JARS/plugins/dbsync-capture-filter/.sources.sha256" \
        "$STACK_DIR/conf/connect-distributed.properties" "$STACK_DIR/conf/log4j2.xml" <(java_heap_opts 768m) |
        sha256sum | cut -d' ' -f1
}

connect_running() { pid_alive "$CONNECT_PID"; }
connect_ready() { curl -sf "$DBSYNC_CONNECT_URL/connector-plugins" | grep -q PostgresConnector; }

connect_start() {
    if connect_running && [ "$(cat "$CONNECT_STAMP" 2>/dev/null)" != "$(connect_stamp)" ]; then
        log "connect: jars or config changed since the worker started; restarting it"
        connect_stop
    fi
    if connect_running; then
        log "connect: already running (pid $(cat "$CONNECT_PID"))"
        return
    fi
    require_port_free 8083 "kafka connect" "stop the other Connect worker"
    mkdir -p "$STATE/conf" "$RUN"
    sed -e "s#@STATE@#$STATE#g" "$STACK_DIR/conf/connect-distributed.properties" >"$CONNECT_PROPS"
    log "connect: starting on 127.0.0.1:8083"
    connect_stamp >"$CONNECT_STAMP"
    # The worker resolves ${env:...} in connector configs from this environment (stack.env is loaded).
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$CONNECT_PID" \
        java $(java_heap_opts 768m) -Dlog4j2.configurationFile="$STACK_DIR/conf/log4j2.xml" \
        -cp "$JARS/connect/*" org.apache.kafka.connect.cli.ConnectDistributed "$CONNECT_PROPS" \
        >>"$CONNECT_LOG" 2>&1 </dev/null &
    wait_until "kafka connect" 120 "$CONNECT_LOG" connect_ready
}

# Stops the worker: SIGTERM, then after DBSYNC_CONNECT_STOP_GRACE seconds (default 90) a thread dump and SIGKILL.
connect_stop() {
    if connect_running; then
        stop_jvm "kafka connect" "$CONNECT_PID" "$CONNECT_LOG" "${DBSYNC_CONNECT_STOP_GRACE:-90}"
        log "connect: stopped"
    fi
}

connect_status() {
    if ! connect_running; then
        echo "connect    down"
        return
    fi
    echo "connect    up    $DBSYNC_CONNECT_URL"
    local name
    for name in $(curl -sf "$DBSYNC_CONNECT_URL/connectors" | jq -r '.[]'); do
        curl -sf "$DBSYNC_CONNECT_URL/connectors/$name/status" |
            jq -r '"  connector \(.name): \(.connector.state), tasks: \([.tasks[].state] | join(","))"'
    done
}
