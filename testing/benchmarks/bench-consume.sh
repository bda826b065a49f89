#!/usr/bin/env bash
# Benchmark of the legacy -> revamp consumer (not part of `make test`): one batch per event against the default
# batch size, in one invocation, so every figure is read as a ratio against the baseline run beside it.
#
#   usage: testing/benchmarks/bench-consume.sh [--release] [N]        (N legacy users, default 20000)
#
# For each config (baseline: DBSYNC_BATCH_SIZE=1, one transaction per event; candidate: DBSYNC_BATCH_SIZE=500):
#   1. note the end offsets of the legacy topic and give the config's own consumer group (DBSYNC_GROUP_PREFIX)
#      exactly those offsets, so it reads only what comes next;
#   2. insert N fresh legacy users in one statement (generate_series, unique usernames);
#   3. wait until Debezium has published all N (counted on the topic with kcat);
#   4. run `artisan consume:legacy-events --stop-when-empty` under /usr/bin/time, while a poller counts the config's rows in
#      revamp_users every ~50 ms (the visibility samples the throughput and lag figures come from). Dead letters go
#      to a private topic; if other writers keep the topic busy, the consumer is stopped cleanly (SIGTERM) 5 s after
#      the last of the N rows is visible.
# The background consumers are stopped for the run and started again at the end (also on failure or Ctrl-C); the
# rows are removed from both sides at the end, as the sync service (so Debezium ignores it), with their tombstones.
# The ledger rows stay, so the restarted background consumer takes the 2N events as duplicates. See README.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/testing/scripts/lib.sh"

N=20000
BUILD=debug
while [ $# -gt 0 ]; do
    case "$1" in
    --release) BUILD=release ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *[!0-9]* | '') die "unknown argument '$1' (usage: $0 [--release] [N])" ;;
    *) N=$1 ;;
    esac
    shift
done
[ "$N" -ge 100 ] || die "N must be at least 100"

BASELINE_BATCH=1
CANDIDATE_BATCH=500
ONCE_IDLE=2.0 # ConsumeCommand::EMPTY_IDLE_SECONDS: --stop-when-empty returns after this long without a message
TOPIC=$DBSYNC_LEGACY_TOPIC
TAG="bench$(date +%s)$RANDOM"
DLQ="$TAG.dlq" # the bench consumers' own dead-letter topic (auto-created), so the shared sync.dlq stays clean
WORK=$(mktemp -d "/tmp/dbsync-bench.XXXXXX")
CONSUMERS="$root/testing/scripts/consumers.sh"
DEBUG_EXT="$root/target/debug/libdbsync.so"

if [ "$BUILD" = release ]; then
    log "building the release extension (cargo build --release -p dbsync-php)"
    (cd "$root" && cargo build --release -p dbsync-php --quiet)
    EXT="$root/target/release/libdbsync.so"
else
    [ -f "$DEBUG_EXT" ] || (cd "$root" && cargo build -p dbsync-php --quiet)
    EXT=$DEBUG_EXT
fi
[ -f "$EXT" ] || die "no extension at $EXT"
[ -f "$DEBUG_EXT" ] || die "no debug extension at $DEBUG_EXT (the background consumers need it)"

kafka_tool() { # ConsumerGroupCommand arguments...
    (source "$root/testing/stack/kafka.sh" &&
        kafka_java 256m org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$DBSYNC_BROKERS" "$@")
}

# ---- background consumers off for the run, on again at the end -------------------------------------------------
was_running=0
for pidfile in "$RUN/consumers"/*.pid; do
    if pid_alive "$pidfile"; then was_running=1; fi
done
POLLER=""
GROUPS_MADE=()
finish() {
    local status=$?
    set +e # clean up and restart the consumers whatever fails here
    [ -n "$POLLER" ] && kill "$POLLER" 2>/dev/null || true
    log "cleaning up: bench rows and their tombstones on both sides (as the sync service), consumer groups"
    pg "BEGIN; SET LOCAL dbsync.origin = 'sync_service';
        CREATE TEMP TABLE bench_ids ON COMMIT DROP AS SELECT id FROM legacy_users WHERE username LIKE '$TAG-%';
        DELETE FROM legacy_users WHERE id IN (SELECT id FROM bench_ids);
        DELETE FROM dbsync_tombstones WHERE table_name = 'legacy_users' AND row_id IN (SELECT id FROM bench_ids);
        COMMIT;" >/dev/null || status=1
    # Join syntax: MariaDB 10.11 runs DELETE ... WHERE id IN (SELECT ...) as a dependent subquery (minutes here).
    my "SET @dbsync_origin = 'sync_service';
        CREATE TEMPORARY TABLE bench_ids (id BIGINT PRIMARY KEY)
            SELECT id FROM revamp_users WHERE user_name LIKE '$TAG-%';
        DELETE u FROM revamp_users u JOIN bench_ids b ON b.id = u.id;
        DELETE t FROM dbsync_tombstones t JOIN bench_ids b ON b.id = t.row_id WHERE t.table_name = 'revamp_users';
        SET @dbsync_origin = NULL;" || status=1
    if [ ${#GROUPS_MADE[@]} -gt 0 ]; then
        local args=() group
        for group in "${GROUPS_MADE[@]}"; do args+=(--group "$group"); done
        kafka_tool --delete "${args[@]}" >/dev/null 2>&1 || log "could not delete consumer groups ${GROUPS_MADE[*]}"
        local dead
        dead=$( (kcat -b "$DBSYNC_BROKERS" -Q -t "$DLQ:0:-1" -t "$DLQ:1:-1" -t "$DLQ:2:-1" 2>/dev/null || true) |
            awk '{ n += $NF } END { print n + 0 }')
        [ "$dead" = 0 ] || log "the bench consumers dead-lettered $dead messages of other writers (private $DLQ)"
        (source "$root/testing/stack/kafka.sh" && kafka_java 256m org.apache.kafka.tools.TopicCommand \
            --bootstrap-server "$DBSYNC_BROKERS" --delete --if-exists --topic "$DLQ") >/dev/null 2>&1 || true
    fi
    if [ "$was_running" = 1 ]; then
        DBSYNC_PHP_EXTENSION=$DEBUG_EXT "$CONSUMERS" start || status=1
    fi
    log "raw data kept in $WORK"
    exit $status
}
trap finish EXIT
trap 'exit 130' INT TERM
if [ "$was_running" = 1 ]; then
    DBSYNC_PHP_EXTENSION=$DEBUG_EXT "$CONSUMERS" stop
fi

# ---- one config --------------------------------------------------------------------------------------------------
# end_offsets: "topic,partition,offset" lines: where the next message of each partition will go.
end_offsets() {
    local args=() p
    for ((p = 0; p < DBSYNC_TOPIC_PARTITIONS; p++)); do args+=(-t "$TOPIC:$p:-1"); done
    kcat -b "$DBSYNC_BROKERS" -Q "${args[@]}" 2>/dev/null |
        sed -n "s/^$TOPIC \[\([0-9]*\)\] offset \([0-9]*\)$/$TOPIC,\1,\2/p" | sort -t, -k2n
}

# published FROM_CSV PREFIX: values on the topic after FROM_CSV's offsets that carry a username starting PREFIX.
published() {
    local topic partition offset
    while IFS=, read -r topic partition offset; do
        kcat -b "$DBSYNC_BROKERS" -C -t "$topic" -p "$partition" -o "$offset" -e -q -f '%s\n' 2>/dev/null |
            grep -F "\"username\":\"$2" || true
    done <"$1"
}

poll_visible() { # PREFIX OUT: "epoch_seconds visible_rows" lines until killed
    while :; do
        echo "$EPOCHREALTIME $(my "SELECT COUNT(*) FROM revamp_users WHERE user_name LIKE '$1%'")" >>"$2"
        sleep 0.05
    done
}

run_config() { # NAME BATCH_SIZE
    local name=$1 batch=$2 dir="$WORK/$1"
    local prefix="$TAG-$name-" group_prefix="$TAG-$name"
    mkdir -p "$dir"
    end_offsets >"$dir/offsets.csv"
    [ "$(wc -l <"$dir/offsets.csv")" = "$DBSYNC_TOPIC_PARTITIONS" ] || die "could not read the offsets of $TOPIC"
    GROUPS_MADE+=("$group_prefix-legacy-to-revamp")
    kafka_tool --group "$group_prefix-legacy-to-revamp" --reset-offsets --from-file "$dir/offsets.csv" --execute \
        >"$dir/reset.log" 2>&1 || { cat "$dir/reset.log" >&2; die "could not set the offsets of the $name group"; }

    log "$name: inserting $N legacy users (one statement)"
    pg "INSERT INTO legacy_users (username, email, full_name, status)
        SELECT '$prefix' || g, 'bench@bench.test', 'Bench Mark', 'active' FROM generate_series(1, $N) g" >/dev/null

    log "$name: waiting for Debezium to publish them"
    local deadline=$((SECONDS + 600)) seen=0
    while :; do
        published "$dir/offsets.csv" "$prefix" >"$dir/published.json"
        seen=$(wc -l <"$dir/published.json")
        [ "$seen" -ge "$N" ] && break
        [ $SECONDS -lt $deadline ] || die "$name: only $seen of $N events published after 600 s"
        sleep 2
    done
    # Debezium's source.ts_ms is the source transaction's commit time (one transaction for all N rows).
    local commit_ms
    commit_ms=$(head -n 1 "$dir/published.json" | jq -r '.source.ts_ms')

    log "$name: consuming (DBSYNC_BATCH_SIZE=$batch, group prefix $group_prefix)"
    : >"$dir/visible.txt"
    poll_visible "$prefix" "$dir/visible.txt" &
    POLLER=$!
    local start=$EPOCHREALTIME
    DBSYNC_GROUP_PREFIX=$group_prefix DBSYNC_BATCH_SIZE=$batch DBSYNC_DLQ_TOPIC=$DLQ DBSYNC_PHP_EXTENSION=$EXT \
        /usr/bin/time -v -o "$dir/time.txt" "$root/testing/scripts/artisan.sh" consume:legacy-events --stop-when-empty \
        >"$dir/consume.log" 2>&1 &
    local timed=$! all_at="" stopped=0 php
    # While other writers keep the topic busy, --stop-when-empty never sees 2 s of quiet: 5 s after the last of the N rows is
    # visible, the consumer is stopped cleanly (SIGTERM: it finishes its batch and prints its summary).
    while kill -0 "$timed" 2>/dev/null; do
        if [ -z "$all_at" ] && [ "$(tail -n 1 "$dir/visible.txt" | cut -d' ' -f2)" = "$N" ]; then
            all_at=$SECONDS
        fi
        if [ -n "$all_at" ] && [ "$stopped" = 0 ] && [ $((SECONDS - all_at)) -ge 5 ]; then
            php=$(pgrep -P "$timed" || true)
            [ -n "$php" ] && kill -TERM "$php" 2>/dev/null && stopped=1
        fi
        sleep 0.2
    done
    wait "$timed" || { tail -n 20 "$dir/consume.log" >&2; die "$name: the consumer failed"; }
    sleep 0.2
    kill "$POLLER" 2>/dev/null || true
    wait "$POLLER" 2>/dev/null || true
    POLLER=""

    local summary rss visible
    summary=$(grep "^consume:legacy-events: consumed=" "$dir/consume.log" | tail -n 1)
    [ -n "$summary" ] || die "$name: no summary line in $dir/consume.log"
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$dir/time.txt")
    visible=$(my "SELECT COUNT(*) FROM revamp_users WHERE user_name LIKE '$prefix%'")
    [ "$visible" = "$N" ] || die "$name: $visible of $N rows reached revamp_users ($summary)"
    [ "$(counter dead_lettered "$summary")" = 0 ] || log "WARNING $name: dead letters: $summary"
    log "$name: $summary"

    # Figures, from the visibility samples: t(k) = first sample showing at least k of the N rows.
    awk -v n="$N" -v start="$start" -v commit="$commit_ms" -v rss="$rss" -v idle="$ONCE_IDLE" \
        -v applied="$(counter applied "$summary")" -v consumed="$(counter consumed "$summary")" \
        -v elapsed="$(sed -n 's/.*(\([0-9.]*\)s)$/\1/p' <<<"$summary")" -v stopped="$stopped" '
        function at(k,   i) { for (i = 1; i <= m; i++) if (c[i] >= k) return t[i]; return -1 }
        { m++; t[m] = $1; c[m] = $2 }
        END {
            p50 = int(n * 0.50 + 0.999999); p99 = int(n * 0.99 + 0.999999)
            for (i = 1; i <= m && c[i] < 1; i++) ;
            first = t[i]; first_count = c[i]; last = at(n)
            printf "eps_visible=%.1f\n", (n - first_count) / (last - first)
            # Only meaningful when the consumer read nothing but the N events and ended by itself (--stop-when-empty).
            if (consumed == n && !stopped) printf "eps_summary=%.1f\n", applied / (elapsed - idle)
            else print "eps_summary=n/a"
            printf "foreign=%d\n", consumed - n
            printf "rss_mib=%.1f\n", rss / 1024
            printf "drain_p50=%.3f\n", at(p50) - start
            printf "drain_p99=%.3f\n", at(p99) - start
            printf "source_p99=%.3f\n", at(p99) - commit / 1000
            printf "wait_before_start=%.3f\n", start - commit / 1000
            printf "consumed=%d\napplied=%d\nelapsed=%s\nsamples=%d\n", consumed, applied, elapsed, m
        }' "$dir/visible.txt" >"$dir/figures.txt"
    echo "$summary" >"$dir/summary.txt"
}

fig() { sed -n "s/^$2=//p" "$WORK/$1/figures.txt"; }

run_config baseline "$BASELINE_BATCH"
run_config candidate "$CANDIDATE_BATCH"

# ---- the table ---------------------------------------------------------------------------------------------------
cores=$(nproc)
echo
echo "bench-consume: N=$N legacy users -> revamp, consume:legacy-events --stop-when-empty, $BUILD build, $(date -u '+%Y-%m-%d %H:%M UTC'), $cores cores"
printf '%-46s %16s %16s %12s\n' "metric" "baseline" "candidate" "cand/base"
printf '%-46s %16s %16s %12s\n' "" "batch $BASELINE_BATCH" "batch $CANDIDATE_BATCH" ""
row() { # LABEL KEY
    local b c ratio=n/a
    b=$(fig baseline "$2")
    c=$(fig candidate "$2")
    if [[ $b =~ ^[0-9.]+$ && $c =~ ^[0-9.]+$ ]]; then
        ratio=$(awk -v b="$b" -v c="$c" 'BEGIN { if (b > 0) printf "%.2fx", c / b; else printf "n/a" }')
    fi
    printf '%-46s %16s %16s %12s\n' "$1" "$b" "$c" "$ratio"
}
row "events/s, first to last row visible" eps_visible
row "events/s, summary: applied / (elapsed - 2 s)" eps_summary
row "peak RSS of the PHP process (MiB)" rss_mib
row "drain lag p50 (s, from consumer start)" drain_p50
row "drain lag p99 (s, from consumer start)" drain_p99
row "lag p99 (s, from source commit)" source_p99
row "  of which waiting before start (s)" wait_before_start
row "other writers' events also consumed" foreign
echo "baseline:  $(cat "$WORK/baseline/summary.txt")"
echo "candidate: $(cat "$WORK/candidate/summary.txt")"
echo "(events/s: higher is better; RSS and lag: lower is better. Definitions: testing/benchmarks/README.md)"
