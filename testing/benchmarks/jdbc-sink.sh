#!/usr/bin/env bash
# The Debezium JDBC sink connector as the comparison for `make bench` (issue 9): the same change events that dbsync
# drains, drained by io.debezium.connector.jdbc.JdbcSinkConnector in the stack's Connect worker (upsert, key from
# the record, one task). testing/benchmarks/bench.sh calls it; it can also be run by hand against `make up`.
#
#   usage: testing/benchmarks/jdbc-sink.sh prepare DIRECTION
#          testing/benchmarks/jdbc-sink.sh drain DIRECTION EXPECTED_EVENTS
#          testing/benchmarks/jdbc-sink.sh cleanup
#   DIRECTION: legacy-to-revamp (PostgreSQL -> MariaDB) or revamp-to-legacy (MariaDB -> PostgreSQL)
#
# prepare   Makes sure the JDBC sink plugin is in Connect's plugin path (testing/stack/deps.sh installs it; a
#           worker started before it was installed is restarted once through testing/stack/connect.sh, and the
#           stack's connectors are then awaited RUNNING). Removes what an earlier run of DIRECTION left behind,
#           then registers a bench SOURCE connector on DIRECTION's source side (testing/benchmarks/jdbc-sink/
#           source-legacy.json or source-revamp.json): users, posts and likes into their own topics
#           (benchjdbc_legacy.public.* / benchjdbc_revamp.revamp_db.*), JSON with schemas, no snapshot, no
#           tombstones; on PostgreSQL its own slot and publication (benchjdbc_legacy), on MariaDB its own server id
#           and schema history topic. Returns once the connector and its task are RUNNING and it streams (its
#           heartbeat topic has a message; on PostgreSQL also its slot exists), after recording the topics' end
#           offsets. Call it before the workload is written: changes committed earlier are not captured.
# drain     Waits until the bench topics hold EXPECTED_EVENTS change events since prepare, creates the target
#           tables fresh (benchjdbc_<source table> in the other database, plain columns shaped like the source
#           tables, so schema.evolution=none), registers the sink (sink-to-revamp.json / sink-to-legacy.json) and
#           waits until its consumer group has committed up to the topics' end and the target tables hold the
#           expected rows. Prints one line on stdout:
#             jdbc_sink direction=D events=N seconds=S events_per_s=R connect_cpu_s=C
#           N: change events drained (more than EXPECTED_EVENTS only if other writers touched the same tables);
#           S: from the sink's registration to drained; C: CPU seconds (utime + stime, /proc/<pid>/stat) of the
#           Connect worker JVM in that interval, all of its connectors included.
# cleanup   Deletes the bench connectors (their offsets too), the PostgreSQL slot and publication, the bench
#           topics, the sink's consumer groups and the target tables, for both directions. Idempotent, never fails.
#
# Counting: an event is one non-null message on a bench data topic; each is one row change (insert, update or
# delete) committed on the source. The source connectors run with tombstones.on.delete=false, so there are no
# tombstones; a null message would be reported apart and not counted. drain first waits, with cheap end-offset
# queries, until the topics hold EXPECTED_EVENTS messages past the offsets prepare recorded, then reads them all
# (kcat) from the topics' beginning, as the sink does: prepare deleted the old topics, so the beginning is where
# prepare left them unless another writer's change came in while prepare ran. It reports that count as N and
# derives the expected rows from it: per table, the keys whose last event is not a delete.
# Env: JDBC_SINK_TIMEOUT (seconds each wait may take, default 900). Progress goes to stderr. See README.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/testing/scripts/lib.sh"

CONF="$root/testing/benchmarks/jdbc-sink"
URL=$DBSYNC_CONNECT_URL
WORK="$STATE/bench/jdbc-sink"
TIMEOUT=${JDBC_SINK_TIMEOUT:-900}
SINK_CLASS=io.debezium.connector.jdbc.JdbcSinkConnector
DIRECTIONS=(legacy-to-revamp revamp-to-legacy)

say() { printf '%s [jdbc-sink] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

# use_direction DIRECTION: the names of one direction.
use_direction() {
    DIRECTION=$1
    case "$1" in
    legacy-to-revamp)
        SOURCE_SIDE=legacy PREFIX=benchjdbc_legacy
        SOURCE_JSON="$CONF/source-legacy.json" SINK_JSON="$CONF/sink-to-revamp.json"
        TOPIC_RE='^benchjdbc_legacy\.public\.'
        TARGETS=(benchjdbc_legacy_users benchjdbc_legacy_posts benchjdbc_legacy_likes)
        ;;
    revamp-to-legacy)
        SOURCE_SIDE=revamp PREFIX=benchjdbc_revamp
        SOURCE_JSON="$CONF/source-revamp.json" SINK_JSON="$CONF/sink-to-legacy.json"
        TOPIC_RE='^benchjdbc_revamp\.revamp_db\.'
        TARGETS=(benchjdbc_revamp_users benchjdbc_revamp_posts benchjdbc_revamp_post_likes)
        ;;
    *) die "DIRECTION must be legacy-to-revamp or revamp-to-legacy, not '$1'" ;;
    esac
    SOURCE_NAME=$(jq -r .name "$SOURCE_JSON")
    SINK_NAME=$(jq -r .name "$SINK_JSON")
    # Every topic of the direction: data topics, the heartbeat topic, MariaDB's schema history.
    ALL_TOPICS_RE="^(__debezium-heartbeat\\.$PREFIX|$PREFIX\\..*)\$"
    START="$WORK/$DIRECTION.start"
}

# ---- Kafka -------------------------------------------------------------------------------------------------------
# topics_matching REGEX: existing topic names (from the full metadata: asking for one topic auto-creates it).
topics_matching() {
    kcat -b "$DBSYNC_BROKERS" -L -J 2>/dev/null | jq -r --arg re "$1" '.topics[].topic | select(test($re))'
}

# end_offsets REGEX: "topic partition end_offset" for every partition of the matching topics, sorted.
end_offsets() {
    local meta args=() t p
    meta=$(kcat -b "$DBSYNC_BROKERS" -L -J 2>/dev/null) || return 1
    while read -r t p; do args+=(-t "$t:$p:-1"); done < <(jq -r --arg re "$1" \
        '.topics[] | select(.topic | test($re)) | .topic as $t | .partitions[] | "\($t) \(.partition)"' <<<"$meta")
    [ ${#args[@]} -gt 0 ] || return 0
    kcat -b "$DBSYNC_BROKERS" -Q "${args[@]}" 2>/dev/null |
        sed -n 's/^\([^ ]*\) \[\([0-9]*\)\] offset \([0-9]*\)$/\1 \2 \3/p' | sort
}

# since START_FILE END_FILE: messages in END_FILE past START_FILE's offsets (a partition absent from START: 0).
since() {
    awk 'FILENAME == ARGV[1] { s[$1 " " $2] = $3; next } { n += $3 - s[$1 " " $2] } END { print n + 0 }' "$1" "$2"
}

# read_events START_FILE END_FILE: reads the messages between the two offset lists and prints
# "events N", "nulls N" and one "rows TABLE N" per source table (keys whose last event is not a delete).
read_events() {
    local t p e s
    while read -r t p e; do
        s=$(awk -v k="$t $p" '$1 " " $2 == k { print $3 }' "$1")
        s=${s:-0}
        [ "$e" -gt "$s" ] || continue
        kcat -b "$DBSYNC_BROKERS" -C -t "$t" -p "$p" -o "$s" -c $((e - s)) -e -q -f '%t\t%S\t%k\t%s\n' 2>/dev/null
    done <"$2" | awk -F '\t' '
        # Values are compact JSON (no raw tab or newline). The key is {"schema":...,"payload":{...}}; "op":"x"
        # occurs only in the value payload (the schema names it as "field":"op").
        {
            table = $1; sub(/.*\./, "", table)
            if ($2 == -1) { nulls++; next }
            events++
            key = $3; sub(/.*"payload":/, "", key)
            i = index($4, "\"op\":\"")
            op = substr($4, i + 6, 1)
            alive[table SUBSEP key] = (op != "d")
            tables[table] = 1
        }
        END {
            printf "events %d\nnulls %d\n", events, nulls
            for (k in alive) { split(k, parts, SUBSEP); rows[parts[1]] += alive[k] }
            for (t in tables) printf "rows %s %d\n", t, rows[t]
        }'
}

# ---- Connect -----------------------------------------------------------------------------------------------------
connector_exists() { curl -sf -o /dev/null "$URL/connectors/$1"; }

# put_connector FILE [JQ_FILTER]: creates or updates the connector described by FILE.
put_connector() {
    local name body code out
    name=$(jq -r .name "$1")
    body=$(jq -c ".config | ${2:-.}" "$1")
    out=$(mktemp)
    code=$(curl -s -o "$out" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' --data "$body" \
        "$URL/connectors/$name/config")
    case "$code" in
    200 | 201) rm -f "$out" ;;
    *)
        cat "$out" >&2
        rm -f "$out"
        die "connector $name rejected with HTTP $code"
        ;;
    esac
}

# running NAME: the connector and all its tasks run; fails the script, with the trace, if any part FAILED.
running() {
    local status
    status=$(curl -sf "$URL/connectors/$1/status") || return 1
    if jq -e '[.connector.state] + [.tasks[].state] | any(. == "FAILED")' <<<"$status" >/dev/null; then
        jq -r '[.connector.trace // empty, (.tasks[].trace // empty)] | first' <<<"$status" | head -n 30 >&2
        die "connector $1 FAILED"
    fi
    jq -e '.connector.state == "RUNNING" and (.tasks | length) > 0 and all(.tasks[]; .state == "RUNNING")' \
        <<<"$status" >/dev/null
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND (in this shell, so it may die) until it succeeds.
wait_for() {
    local seconds=$1 what=$2
    local deadline=$((SECONDS + seconds))
    shift 2
    until "$@"; do
        [ $SECONDS -lt $deadline ] || die "timed out after ${seconds}s waiting for $what"
        sleep 0.25
    done
}

plugin_loaded() {
    curl -sf "$URL/connector-plugins" | jq -e --arg c "$SINK_CLASS" 'any(.[]; .class == $c)' >/dev/null
}

# ensure_plugin: the JDBC sink is installed and loaded by the worker.
ensure_plugin() {
    curl -sf -o /dev/null "$URL/connectors" || die "Kafka Connect does not answer at $URL (run 'make up')"
    plugin_loaded && return 0
    say "installing the JDBC sink plugin (testing/stack/deps.sh)"
    "$root/testing/stack/deps.sh" >&2
    say "restarting the Connect worker so that it loads the new plugin (testing/stack/connect.sh)"
    # shellcheck source=../stack/connect.sh
    (source "$STACK_DIR/connect.sh" && connect_stop && connect_start) >&2
    plugin_loaded || die "Connect does not list $SINK_CLASS after the restart (log: $LOGS/connect.log)"
    # The stack's own connectors resume by themselves; wait until they run again (restarts what FAILED).
    "$root/debezium/register-connectors.sh" >&2
}

# ---- databases ---------------------------------------------------------------------------------------------------
# create_targets: the sink's target tables, fresh, plain columns shaped like the source tables (no defaults, no
# foreign keys, no unique keys besides the primary key), writable by the sink's account (dbsync_sync).
create_targets() {
    if [ "$DIRECTION" = legacy-to-revamp ]; then
        my "DROP TABLE IF EXISTS benchjdbc_legacy_likes, benchjdbc_legacy_posts, benchjdbc_legacy_users;
            CREATE TABLE benchjdbc_legacy_users (id BIGINT NOT NULL PRIMARY KEY, username TEXT NOT NULL,
                email TEXT NOT NULL, full_name TEXT NULL, status TEXT NOT NULL, is_admin BOOLEAN NOT NULL,
                created_at DATETIME(6) NOT NULL, updated_at DATETIME(6) NOT NULL, source TEXT NOT NULL)
                ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
            CREATE TABLE benchjdbc_legacy_posts (id BIGINT NOT NULL PRIMARY KEY, author_id BIGINT NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL, created_at DATETIME(6) NOT NULL,
                updated_at DATETIME(6) NOT NULL, source TEXT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
            CREATE TABLE benchjdbc_legacy_likes (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL,
                post_id BIGINT NOT NULL, created_at DATETIME(6) NOT NULL, updated_at DATETIME(6) NOT NULL,
                source TEXT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"
    else
        pg "DROP TABLE IF EXISTS benchjdbc_revamp_post_likes, benchjdbc_revamp_posts, benchjdbc_revamp_users;
            CREATE TABLE benchjdbc_revamp_users (id bigint PRIMARY KEY, user_name varchar(191) NOT NULL,
                email_address varchar(255) NOT NULL, first_name varchar(255), last_name varchar(255),
                status smallint NOT NULL, is_admin smallint NOT NULL, created_at timestamp(6) NOT NULL,
                updated_at timestamp(6) NOT NULL, source varchar(16) NOT NULL);
            CREATE TABLE benchjdbc_revamp_posts (id bigint PRIMARY KEY, user_id bigint NOT NULL,
                headline varchar(255) NOT NULL, content text NOT NULL, status varchar(8) NOT NULL,
                created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL, source varchar(16) NOT NULL);
            CREATE TABLE benchjdbc_revamp_post_likes (id bigint PRIMARY KEY, post_id bigint NOT NULL,
                user_id bigint NOT NULL, liked_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL,
                source varchar(16) NOT NULL);
            GRANT SELECT, INSERT, UPDATE, DELETE ON benchjdbc_revamp_users, benchjdbc_revamp_posts,
                benchjdbc_revamp_post_likes TO $DBSYNC_SYNC_USER;" >/dev/null
    fi
}

# target_rows: "TABLE N" for each target table (TABLE without the benchjdbc_ prefix: the source table's name).
target_rows() {
    local sql="" t
    for t in "${TARGETS[@]}"; do
        sql+="${sql:+ UNION ALL }SELECT '${t#benchjdbc_}', COUNT(*) FROM $t"
    done
    if [ "$DIRECTION" = legacy-to-revamp ]; then my "$sql" | tr '\t' ' '; else pg "$sql" | tr '|' ' '; fi
}

# ---- cleanup -----------------------------------------------------------------------------------------------------
cleanup_direction() {
    local name topics
    for name in "$SINK_NAME" "$SOURCE_NAME"; do
        if connector_exists "$name"; then
            say "removing connector $name"
            remove_connector "$name" # stop, delete its offsets (a sink's: its consumer group), delete
        fi
    done
    if [ "$SOURCE_SIDE" = legacy ]; then
        # The slot stays active until the stopped connector's replication connection has closed.
        poll_until 30 bash -c "[ -z \"\$(PGOPTIONS='-c client_min_messages=warning' psql -X -q -tA -h 127.0.0.1 \
            -p $DBSYNC_PG_PORT -U postgres $DBSYNC_PG_DATABASE -c \"SELECT slot_name FROM pg_replication_slots \
            WHERE slot_name = '$PREFIX' AND active\")\" ]" || say "slot $PREFIX still active after 30 s"
        pg "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
            WHERE slot_name = '$PREFIX' AND NOT active" >/dev/null 2>&1 || true
        pg "DROP PUBLICATION IF EXISTS $PREFIX" >/dev/null 2>&1 || true
    fi
    if [ "$DIRECTION" = legacy-to-revamp ]; then
        my "DROP TABLE IF EXISTS $(IFS=,; echo "${TARGETS[*]}")" >/dev/null 2>&1 || true
    else
        pg "DROP TABLE IF EXISTS $(IFS=,; echo "${TARGETS[*]}")" >/dev/null 2>&1 || true
    fi
    rm -f "$START" "$WORK/$DIRECTION.end" "$WORK/$DIRECTION.rows"
    if ! kcat -b "$DBSYNC_BROKERS" -L -m 3 >/dev/null 2>&1; then
        say "kafka does not answer: the topics and the consumer group of $DIRECTION are left"
        return 0
    fi
    # The sink's group outlives DELETE /offsets if that call failed (e.g. the task had not stopped yet).
    (source "$STACK_DIR/kafka.sh" && kafka_java 256m org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
        --bootstrap-server "$DBSYNC_BROKERS" --delete --group "connect-$SINK_NAME") >/dev/null 2>&1 || true
    topics=$(topics_matching "$ALL_TOPICS_RE" || true)
    if [ -n "$topics" ]; then
        say "deleting topics: $(tr '\n' ' ' <<<"$topics")"
        (source "$STACK_DIR/kafka.sh" && kafka_java 256m org.apache.kafka.tools.TopicCommand \
            --bootstrap-server "$DBSYNC_BROKERS" --delete --if-exists --topic "$ALL_TOPICS_RE") >/dev/null 2>&1 ||
            say "could not delete the topics of $DIRECTION"
    fi
}

cmd_cleanup() {
    set +e
    local d
    for d in "${DIRECTIONS[@]}"; do
        use_direction "$d"
        cleanup_direction
    done
    say "cleaned up"
    return 0
}

# ---- prepare -----------------------------------------------------------------------------------------------------
no_bench_topics() { [ -z "$(topics_matching "$ALL_TOPICS_RE")" ]; }
streaming() {
    [ "$(end_offsets "^__debezium-heartbeat\\.$PREFIX\$" | awk '{ n += $3 } END { print n + 0 }')" -gt 0 ]
}
slot_exists() {
    [ "$(pg "SELECT COUNT(*) FROM pg_replication_slots WHERE slot_name = '$PREFIX'")" = 1 ]
}

cmd_prepare() {
    use_direction "$1"
    ensure_plugin
    (cleanup_direction) || true
    wait_for 60 "the old bench topics to disappear" no_bench_topics
    mkdir -p "$WORK"
    if [ "$SOURCE_SIDE" = legacy ]; then
        pg "CREATE PUBLICATION $PREFIX FOR TABLE legacy_users, legacy_posts, legacy_likes" >/dev/null
    fi
    say "registering $SOURCE_NAME ($DIRECTION: $PREFIX.* topics, JSON with schemas, no snapshot)"
    put_connector "$SOURCE_JSON" \
        ".[\"topic.creation.default.partitions\"] = \"$DBSYNC_TOPIC_PARTITIONS\""
    wait_for 120 "$SOURCE_NAME to run" running "$SOURCE_NAME"
    [ "$SOURCE_SIDE" = revamp ] || wait_for 60 "replication slot $PREFIX" slot_exists
    # A heartbeat is sent from the streaming loop only: from then on, every commit is captured.
    wait_for 120 "$SOURCE_NAME to stream (a message on __debezium-heartbeat.$PREFIX)" streaming
    end_offsets "$TOPIC_RE" >"$START"
    say "prepared $DIRECTION: $SOURCE_NAME streams; start offsets in $START ($(wc -l <"$START") partitions so far)"
}

# ---- drain -------------------------------------------------------------------------------------------------------
connect_cpu_ticks() {
    local pid
    pid=$(head -n 1 "$RUN/connect.pid")
    # Fields after "pid (comm) ": state is $1, so utime (field 14) is $12 and stime (15) is $13.
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat"
}

# lag_zero END_FILE: the sink's group has committed up to END_FILE. Each call costs the worker an admin client
# (~10 ms of its CPU, which the figure includes), so drained asks only when it matters.
lag_zero() {
    local committed
    committed=$(curl -sf "$URL/connectors/$SINK_NAME/offsets" |
        jq -r '.offsets[] | "\(.partition.kafka_topic) \(.partition.kafka_partition) \(.offset.kafka_offset)"') ||
        return 1
    awk 'FILENAME == ARGV[1] { c[$1 " " $2] = $3; next } $3 > 0 && c[$1 " " $2] < $3 { bad = 1 } END { exit bad }' \
        <(echo "$committed") "$1"
}

# drained END_FILE ROWS_FILE: the target tables hold ROWS_FILE and the sink's group has committed up to END_FILE.
# If other writers' events arrived past END_FILE (they change the rows too), lag 0 at END_FILE alone counts,
# checked every 2 s, as is the sink's status (the script fails if the sink FAILED): REST calls cost the worker CPU.
DRAIN_SLOW_CHECK=0
drained() {
    if [ "$(target_rows | sort)" = "$(sort "$2")" ] && lag_zero "$1"; then
        return 0
    fi
    [ $SECONDS -ge $DRAIN_SLOW_CHECK ] || return 1
    DRAIN_SLOW_CHECK=$((SECONDS + 2))
    running "$SINK_NAME" || return 1
    [ "$(since "$1" <(end_offsets "$TOPIC_RE"))" -gt 0 ] && lag_zero "$1" || return 1
    say "WARNING: other writers' events arrived during the drain; lag 0 at the recorded end, rows not compared"
}

cmd_drain() {
    use_direction "$1"
    local expected=$2 deadline published=0 next_note=0 counts events nulls
    [[ $expected =~ ^[0-9]+$ ]] && [ "$expected" -gt 0 ] || die "EXPECTED_EVENTS must be a positive number"
    [ -f "$START" ] || die "no start offsets for $DIRECTION: run '$0 prepare $DIRECTION' before the workload"
    connector_exists "$SOURCE_NAME" || die "$SOURCE_NAME is not registered: run prepare first"
    local end="$WORK/$DIRECTION.end" rows="$WORK/$DIRECTION.rows"

    say "waiting for $expected events on $PREFIX.* (deadline ${TIMEOUT}s)"
    deadline=$((SECONDS + TIMEOUT))
    while :; do
        end_offsets "$TOPIC_RE" >"$end"
        published=$(since "$START" "$end")
        if [ "$published" -ge "$expected" ]; then
            # From the topics' beginning, as the sink reads them: they were created after prepare deleted the old
            # ones, so the start offsets are 0 unless another writer got a change in while prepare ran.
            counts=$(read_events /dev/null "$end")
            events=$(sed -n 's/^events //p' <<<"$counts")
            nulls=$(sed -n 's/^nulls //p' <<<"$counts")
            [ "$events" -ge "$expected" ] && break
        fi
        [ $SECONDS -lt $deadline ] || die "only $published of $expected events on $PREFIX.* after ${TIMEOUT}s"
        if [ $SECONDS -ge $next_note ]; then
            say "  $published of $expected published"
            next_note=$((SECONDS + 10))
        fi
        sleep 0.5
    done
    sed -n 's/^rows //p' <<<"$counts" >"$rows"
    say "$events events on the topics ($nulls null messages apart); expected rows: $(tr '\n' ' ' <<<"$(cat "$rows")")"
    [ "$events" = "$expected" ] || say "WARNING: $events events, not $expected: other writers changed the same tables"
    # Tables without events must stay empty.
    local t
    for t in "${TARGETS[@]}"; do
        grep -q "^${t#benchjdbc_} " "$rows" || echo "${t#benchjdbc_} 0" >>"$rows"
    done

    create_targets
    say "registering $SINK_NAME (upsert, record_key, delete.enabled, one task)"
    local hz cpu0 cpu1 t0 t1
    hz=$(getconf CLK_TCK)
    cpu0=$(connect_cpu_ticks)
    t0=$EPOCHREALTIME
    put_connector "$SINK_JSON"
    deadline=$((SECONDS + TIMEOUT))
    until drained "$end" "$rows"; do
        [ $SECONDS -lt $deadline ] || {
            say "target rows: $(target_rows | tr '\n' ' ')"
            die "$SINK_NAME did not drain within ${TIMEOUT}s"
        }
        sleep 0.25
    done
    t1=$EPOCHREALTIME
    cpu1=$(connect_cpu_ticks)
    say "drained; target rows: $(target_rows | tr '\n' ' ')"
    awk -v d="$DIRECTION" -v n="$events" -v t0="$t0" -v t1="$t1" -v c0="$cpu0" -v c1="$cpu1" -v hz="$hz" 'BEGIN {
        s = t1 - t0
        printf "jdbc_sink direction=%s events=%d seconds=%.2f events_per_s=%.1f connect_cpu_s=%.2f\n",
            d, n, s, n / s, (c1 - c0) / hz
    }'
}

# ---- main --------------------------------------------------------------------------------------------------------
case "${1:-}" in
prepare)
    [ $# -eq 2 ] || die "usage: $0 prepare DIRECTION"
    cmd_prepare "$2"
    ;;
drain)
    [ $# -eq 3 ] || die "usage: $0 drain DIRECTION EXPECTED_EVENTS"
    cmd_drain "$2" "$3"
    ;;
cleanup)
    [ $# -eq 1 ] || die "usage: $0 cleanup"
    cmd_cleanup
    ;;
-h | --help | help)
    usage
    ;;
*)
    usage >&2
    exit 2
    ;;
esac
