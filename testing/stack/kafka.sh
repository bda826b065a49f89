#!/usr/bin/env bash
# Apache Kafka 4.x broker in KRaft mode (one node, loopback) and the dbsync topics. Sourced by up/down/status.

KAFKA_LOG="$LOGS/kafka.log"
KAFKA_PID="$RUN/kafka.pid"
KAFKA_PROPS="$STATE/conf/server.properties"

kafka_java() {
    # shellcheck disable=SC2046
    java $(java_heap_opts "$1") -Dlog4j2.configurationFile="$STACK_DIR/conf/log4j2.xml" -cp "$JARS/broker/*" "${@:2}"
}
kafka_running() { pid_alive "$KAFKA_PID"; }
kafka_ready() { kcat -b "$DBSYNC_BROKERS" -L -m 3 -t __dbsync_probe_none >/dev/null 2>&1; }

kafka_start() {
    if kafka_running; then
        log "kafka: already running (pid $(cat "$KAFKA_PID"))"
        return
    fi
    require_port_free 9092 kafka "stop the other broker"
    require_port_free 9093 "kafka controller" "stop the other broker"
    mkdir -p "$STATE/conf" "$STATE/kafka" "$RUN"
    sed -e "s#@STATE@#$STATE#g" "$STACK_DIR/conf/server.properties" >"$KAFKA_PROPS"
    if [ ! -f "$STATE/kafka/data/meta.properties" ]; then
        local cluster_id
        cluster_id=$(kafka_java 128m kafka.tools.StorageTool random-uuid 2>>"$KAFKA_LOG" | tail -n 1)
        log "kafka: formatting storage (cluster $cluster_id)"
        kafka_java 256m kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$KAFKA_PROPS" \
            --ignore-formatted >>"$KAFKA_LOG" 2>&1 || die "kafka storage format failed (log: $KAFKA_LOG)"
    fi
    log "kafka: starting on 127.0.0.1:9092"
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KAFKA_PID" \
        java $(java_heap_opts 512m) -Dlog4j2.configurationFile="$STACK_DIR/conf/log4j2.xml" \
        -cp "$JARS/broker/*" kafka.Kafka "$KAFKA_PROPS" >>"$KAFKA_LOG" 2>&1 </dev/null &
    wait_until "kafka" 90 "$KAFKA_LOG" kafka_ready
}

# The three dbsync topics, with several partitions so that per-key ordering is real. Creates only what is missing.
kafka_topics() {
    local existing topic missing=()
    existing=$(kcat -b "$DBSYNC_BROKERS" -L -J 2>/dev/null | jq -r '.topics[].topic')
    for topic in "$DBSYNC_LEGACY_TOPIC" "$DBSYNC_REVAMP_TOPIC" "$DBSYNC_DLQ_TOPIC"; do
        grep -qx "$topic" <<<"$existing" || missing+=("$topic")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "kafka: topics present"
        return
    fi
    for topic in "${missing[@]}"; do
        kafka_java 256m org.apache.kafka.tools.TopicCommand --bootstrap-server "$DBSYNC_BROKERS" --create \
            --if-not-exists --topic "$topic" --partitions "$DBSYNC_TOPIC_PARTITIONS" --replication-factor 1 \
            >>"$KAFKA_LOG" 2>&1 || die "could not create topic $topic (log: $KAFKA_LOG)"
        log "kafka: created topic $topic ($DBSYNC_TOPIC_PARTITIONS partitions)"
    done
}

kafka_stop() {
    if kafka_running; then
        stop_jvm "kafka" "$KAFKA_PID" "$KAFKA_LOG" 90
        log "kafka: stopped"
    fi
}

kafka_status() {
    if kafka_running; then echo "kafka      up    127.0.0.1:9092 (controller 9093)"; else echo "kafka      down"; fi
}
