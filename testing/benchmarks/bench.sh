#!/usr/bin/env bash
# `make bench`: throughput, lag and memory of dbsync against its anchors, in one invocation on one generated
# workload, each direction separately (not part of `make test`; it prints figures and asserts nothing).
#
#   usage: testing/benchmarks/bench.sh [--quick] [--no-drain] [--no-jdbc] [--no-lag] [--no-memory] [--no-filters]
#          testing/benchmarks/bench.sh --ab='A.so B.so,VAR=VALUE' [--side=legacy|revamp] [--kind=users|mixed]
#                                      [--rounds=N] [--quick]
#
#   --quick      a tenth of every size (a smoke run of the whole harness; figures are noisier)
#   --no-drain   skip the backlog drains (and their warm-up): only the sections not skipped otherwise
#   --no-jdbc    skip the Debezium JDBC sink connector (testing/benchmarks/jdbc-sink.sh)
#   --no-lag     skip lag under steady load
#   --no-memory  skip the 1M-event memory run
#   --no-filters skip the capture filters' cost (Connect's CPU per 1,000 sync writes: compiled, Groovy, none)
#   --ab=LIST    instead of the whole bench, an A/B: one backlog of --kind (default mixed) from --side (default
#                legacy, i.e. drained into MariaDB), drained --rounds times (default 2) by each variant in turn. A
#                variant is an extension build (PATH.so) with, after commas, environment settings for its consumer
#                (e.g. `target/release/libdbsync.so,DBSYNC_BATCH_SIZE=1000`). Prints one `AB` line per drain (events/s,
#                CPU, RSS, phases); writes no RESULTS.md. Build the variants first (a baseline from a git worktree:
#                CARGO_TARGET_DIR=/tmp/base-target cargo build --release -p dbsync-php).
#
# Per direction (legacy -> revamp, revamp -> legacy) and workload (users: 100k inserts + 50k updates; mixed:
# users/posts/likes 1:2:4, 100k inserts + 40k updates + 5% deletes), on a backlog already on the topic:
#   - dbsync at the default batch (release build, `consume:* --stop-when-empty`, its own consumer group set to the
#     workload's first offsets): events/s from its committed offsets (dbsync-bench drain), CPU-seconds per 1,000
#     events and peak RSS from /usr/bin/time;
#   - dbsync with DBSYNC_BATCH_SIZE=1 (one transaction per event), measured over its first 20 s;
#   - the database ceiling: the same rows as 500-row multi-row upserts by a minimal loop (dbsync-bench ceiling);
#   - the Debezium JDBC sink connector in the stack's Connect worker (jdbc-sink.sh), when present.
# The target's copy of the workload (rows, tombstones and ledger rows since the bench started) is removed between
# two configs, as the sync service, so each config writes the same rows into the same state.
# Lag under steady load: 1,000, 2,000 and 5,000 application writes/s (half on each side, 60 s each) while both consumers
# run; p50/p99/max of source commit -> target write from the ledgers, and Debezium's capture delay from the topics.
# Memory: peak RSS of one consumer draining 1M events.
# The table is printed and written to testing/benchmarks/RESULTS.md with the machine, versions and date. Raw data
# stays in the /tmp/dbsync-bench.* directory the last line names.
#
# It needs the stack up (`make up`) and nothing else writing: the background consumers are stopped for the run and
# started again at the end; their consumer groups are moved past the bench's own events, and every bench row is
# removed from both sides (as the sync service) at the end.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/testing/scripts/lib.sh"

SCALE=1 DRAIN=1 JDBC=1 LAG=1 MEMORY=1 FILTERS=1 AB='' AB_SIDE=legacy AB_KIND=mixed AB_ROUNDS=2 AB_ONLY=''
for arg in "$@"; do
    case "$arg" in
    --ab=*) AB=${arg#--ab=} ;;
    --side=legacy | --side=revamp) AB_SIDE=${arg#--side=} AB_ONLY=$arg ;;
    --kind=users | --kind=mixed) AB_KIND=${arg#--kind=} AB_ONLY=$arg ;;
    --rounds=[1-9] | --rounds=[1-9][0-9]) AB_ROUNDS=${arg#--rounds=} AB_ONLY=$arg ;;
    --quick) SCALE=10 ;;
    --no-drain) DRAIN=0 ;;
    --no-jdbc) JDBC=0 ;;
    --no-lag) LAG=0 ;;
    --no-memory) MEMORY=0 ;;
    --no-filters) FILTERS=0 ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument '$arg' (see --help)" ;;
    esac
done
[ -n "$AB" ] || [ -z "$AB_ONLY" ] || die "$AB_ONLY goes with --ab (see --help)"
if [ -n "$AB" ]; then
    # Absolute paths: PHP looks a relative extension path up in its extension_dir.
    absolute=()
    for variant in $AB; do
        ext=${variant%%,*}
        [ -f "$ext" ] || die "--ab: no extension at '$ext'"
        absolute+=("$(realpath "$ext")${variant#"$ext"}")
    done
    AB=${absolute[*]}
fi
INSERTS=$((100000 / SCALE)) USERS_UPDATES=$((50000 / SCALE)) MIXED_UPDATES=$((40000 / SCALE))
MEMORY_EVENTS=$((1000000 / SCALE))
PER_EVENT_SECS=20
LAG_SECS=$((60 / (SCALE > 1 ? 4 : 1)))
LAG_RATES='1000 2000 5000'
TAG="b$(date +%s)"
WORK=$(mktemp -d /tmp/dbsync-bench.XXXXXX)
EXT="$root/target/release/libdbsync.so"
BENCH="$root/target/release/dbsync-bench"
JDBC_SINK="$root/testing/benchmarks/jdbc-sink.sh"
RESULTS="$root/testing/benchmarks/RESULTS.md"
CONSUMERS="$root/testing/scripts/consumers.sh"
STARTED_SQL_UTC=$(date -u '+%Y-%m-%d %H:%M:%S')
[ -x "$JDBC_SINK" ] || JDBC=0

# The stack's JVMs run C1-only for the tests' quick start; the Connect worker (Debezium's capture, the echo filter,
# the JDBC sink) is measured with the optimizing JIT, as it runs in production (up.sh restarts it when that differs).
log "Kafka Connect with the JVM's optimizing JIT (DBSYNC_JVM_FULL_JIT=1 make up)"
DBSYNC_JVM_FULL_JIT=1 "$root/testing/stack/up.sh" >"$WORK/up.log" 2>&1 || die "make up with the full JIT failed (log: $WORK/up.log)"

log "building the release extension and dbsync-bench (cargo build --release)"
(cd "$root" && cargo build --release --quiet -p dbsync-php -p dbsync-bench)

kafka_tool() { # ConsumerGroupCommand arguments...
    (source "$root/testing/stack/kafka.sh" &&
        kafka_java 256m org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$DBSYNC_BROKERS" "$@")
}
topic_of() { [ "$1" = legacy ] && echo "$DBSYNC_LEGACY_TOPIC" || echo "$DBSYNC_REVAMP_TOPIC"; }
other_of() { [ "$1" = legacy ] && echo revamp || echo legacy; }
direction_of() { [ "$1" = legacy ] && echo legacy-to-revamp || echo revamp-to-legacy; }
command_of() { [ "$1" = legacy ] && echo consume:legacy-events || echo consume:revamp-events; }

# end_offsets TOPIC: "topic,partition,offset" lines (the format of --reset-offsets --from-file).
end_offsets() {
    local args=() p
    for ((p = 0; p < DBSYNC_TOPIC_PARTITIONS; p++)); do args+=(-t "$1:$p:-1"); done
    kcat -b "$DBSYNC_BROKERS" -Q "${args[@]}" 2>/dev/null |
        sed -n "s/^$1 \[\([0-9]*\)\] offset \([0-9]*\)$/$1,\1,\2/p" | sort -t, -k2n
}
total_of() { awk -F, '{ n += $3 } END { print n + 0 }' "$1"; }
until_spec() { awk -F, '{ printf "%s%s:%s=%s", (NR > 1 ? "," : ""), $1, $2, $3 }' "$1"; }

# settled TOPIC FILE [FROM_FILE MIN]: waits until the topic's end offsets stop moving for 3 s (and, with FROM_FILE,
# are at least MIN messages past it: Debezium may not have started publishing a big workload yet), then writes
# them to FILE.
settled() {
    local last="" now stable=0 deadline=$((SECONDS + 900)) floor=0
    [ $# -lt 4 ] || floor=$(($(total_of "$3") + $4))
    while [ $SECONDS -lt $deadline ]; do
        now=$(end_offsets "$1")
        if [ "$now" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
        last=$now
        if [ $stable -ge 6 ] && [ "$(awk -F, '{ n += $3 } END { print n + 0 }' <<<"$now")" -ge "$floor" ]; then
            echo "$now" >"$2"
            return 0
        fi
        sleep 0.5
    done
    die "$1 kept growing for 900 s: is something else writing?"
}

# ---- background consumers off for the run; on again at the end, past the bench's events ------------------------
was_running=0
for pidfile in "$RUN/consumers"/*.pid; do
    if pid_alive "$pidfile"; then was_running=1; fi
done
BG=()
finish() {
    local status=$?
    set +e
    for pid in "${BG[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    wait 2>/dev/null
    [ "$JDBC" = 1 ] && "$JDBC_SINK" cleanup >"$WORK/jdbc-cleanup.log" 2>&1
    log "cleaning up: the bench's rows on both sides, tombstones and ledger rows since $STARTED_SQL_UTC (as the sync service)"
    reset_side legacy "$TAG"
    reset_side revamp "$TAG"
    # Events of the cleanup itself (tombstone rows) must be on the topics before the groups move past them.
    settled "$DBSYNC_LEGACY_TOPIC" "$WORK/final-legacy.csv"
    settled "$DBSYNC_REVAMP_TOPIC" "$WORK/final-revamp.csv"
    local side group
    for side in legacy revamp; do
        group="$DBSYNC_GROUP_PREFIX-$(direction_of $side)"
        if [ -s "$WORK/regular-$side.csv" ]; then
            kafka_tool --group "$group" --reset-offsets --from-file "$WORK/final-$side.csv" --execute >/dev/null 2>&1 ||
                log "could not move $group past the bench's events"
        fi
    done
    # The tests' debug build, as the background consumers usually run (unless the extension is installed).
    local debug="$root/target/debug/libdbsync.so"
    if [ "$was_running" = 1 ]; then
        if [ -z "${DBSYNC_PHP_EXTENSION:-}" ] && [ -f "$debug" ] && ! php -m | grep -qx dbsync; then
            DBSYNC_PHP_EXTENSION=$debug "$CONSUMERS" start || status=1
        else
            "$CONSUMERS" start || status=1
        fi
    fi
    log "raw data kept in $WORK"
    exit $status
}

# reset_side SIDE TAG: removes the rows whose user name starts with TAG from SIDE (their posts and likes cascade),
# every tombstone and ledger row written since the bench started, and the position watermarks (so each config
# replays the backlog as new events, not as redeliveries to look up), as the sync service (nothing is captured).
reset_side() {
    if [ "$1" = legacy ]; then
        pg_as_sync "DELETE FROM legacy_users WHERE username LIKE '$2%';
            DELETE FROM dbsync_tombstones WHERE deleted_at >= '$STARTED_SQL_UTC+00';
            DELETE FROM dbsync_applied_events WHERE applied_at >= '$STARTED_SQL_UTC+00';
            DELETE FROM dbsync_source_positions" >/dev/null
    else
        my_as_sync "SET time_zone = '+00:00';
            DELETE FROM revamp_users WHERE user_name LIKE '$2%';
            DELETE FROM dbsync_tombstones WHERE deleted_at >= '$STARTED_SQL_UTC';
            DELETE FROM dbsync_applied_events WHERE applied_at >= '$STARTED_SQL_UTC';
            DELETE FROM dbsync_source_positions"
    fi
}

# capture_caught_up SIDE [NAME]: an application write on SIDE, awaited on its topic: Debezium has read everything
# written before it, also the changes its capture filter dropped, which never reach a topic (so a topic's end
# offsets cannot tell). The marker rows carry the bench's tag, so the cleanup removes them.
MARKERS=0
capture_caught_up() {
    MARKERS=$((MARKERS + 1))
    local marker="${TAG}k-${2:-$1-$MARKERS}"
    if [ "$1" = legacy ]; then
        pg "INSERT INTO legacy_users (username, email) VALUES ('$marker', 'm@x')" >/dev/null
    else
        my "INSERT INTO revamp_users (user_name, email_address) VALUES ('$marker', 'm@x')"
    fi
    poll_until 900 bash -c "kcat -b '$DBSYNC_BROKERS' -C -t '$(topic_of "$1")' -o -100 -e -q 2>/dev/null |
        grep -qF '\"$marker\"'"
}

# settle_side SIDE: after a reset, lets the database clean up the deleted rows before the next config writes the
# same keys again (otherwise the next config pays for the previous one's deletes): Debezium's capture of SIDE is
# awaited (capture_caught_up), PostgreSQL VACUUMs the tables, MariaDB's purge is awaited (history list length below
# 1,000, at most 300 s).
settle_side() {
    capture_caught_up "$1" || die "Debezium's capture of $1 did not catch up within 900 s"
    if [ "$1" = legacy ]; then
        pg "VACUUM legacy_users, legacy_posts, legacy_likes, dbsync_tombstones, dbsync_applied_events" >/dev/null
    else
        local deadline=$((SECONDS + 300))
        while [ "$(my "SELECT COUNT FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'")" -ge 1000 ] &&
            [ $SECONDS -lt $deadline ]; do
            sleep 1
        done
    fi
}

trap finish EXIT
trap 'exit 130' INT TERM
# Where the regular groups stand; they are moved to the topics' ends at the end only if they were caught up now.
for side in legacy revamp; do
    lag=$(group_lag "$DBSYNC_GROUP_PREFIX-$(direction_of $side)")
    if [ "${lag:-0}" = 0 ]; then end_offsets "$(topic_of $side)" >"$WORK/regular-$side.csv"; else
        log "WARNING: $DBSYNC_GROUP_PREFIX-$(direction_of $side) is $lag events behind; it is left where it is"
    fi
done
[ "$was_running" = 1 ] && "$CONSUMERS" stop

# cpu_ticks WHAT: CPU time (utime + stime, clock ticks) of the processes of one pipeline part, now.
cpu_ticks() {
    local pids
    case $1 in
    connect) pids=$(pgrep -f org.apache.kafka.connect.cli.ConnectDistributed || true) ;;
    mariadb) pids=$(pgrep -x mariadbd || true) ;;
    postgres) pids=$(pgrep -x postgres || true) ;;
    kafka) pids=$(pgrep -f 'kafka\.Kafka ' || true) ;;
    esac
    local pid total=0
    for pid in $pids; do
        total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
PARTS=(connect kafka mariadb postgres)
cpu_snapshot() { local part; for part in "${PARTS[@]}"; do echo "$part=$(cpu_ticks "$part")"; done; }
# settle_cpu: waits, up to 60 s, until the stack's services together use under 15% of one core over 2 s, so no
# measured run starts while the previous step's work (Connect's JIT and capture, a database's purge or autovacuum)
# still takes CPU from it. Every drain, the ceiling loop and the JDBC sink wait the same way.
settle_cpu() {
    local deadline=$((SECONDS + 60)) hz before after part
    hz=$(getconf CLK_TCK)
    while [ $SECONDS -lt $deadline ]; do
        before=0 after=0
        for part in "${PARTS[@]}"; do before=$((before + $(cpu_ticks "$part"))); done
        sleep 2
        for part in "${PARTS[@]}"; do after=$((after + $(cpu_ticks "$part"))); done
        [ $((after - before)) -lt $((hz * 3 / 10)) ] && return 0
    done
    log "note: the services still used 15% of a core or more after 60 s; measuring anyway"
}
# cpu_per_1000 BEFORE AFTER EVENTS: "part=CPU-seconds per 1,000 events" lines from two snapshots.
cpu_per_1000() {
    awk -F= -v n="$3" -v hz="$(getconf CLK_TCK)" 'NR == FNR { b[$1] = $2; next }
        { printf "%s_cpu_per_1000=%.2f\n", $1, (n > 0 ? ($2 - b[$1]) / hz * 1000 / n : 0) }' "$1" "$2"
}

# ---- one dbsync drain -------------------------------------------------------------------------------------------
# dbsync_drain NAME SOURCE START_CSV END_CSV BATCH [FOR_SECS]: a consumer of its own group from START to END;
# writes NAME.fig with events_per_s, cpu_per_1000, rss_mib, applied.
dbsync_drain() {
    local name=$1 side=$2 start=$3 end=$4 batch=$5 for_secs=${6:-} dir="$WORK/$1"
    local group_prefix="$TAG-$name" group
    group="$group_prefix-$(direction_of "$side")"
    mkdir -p "$dir"
    settle_cpu
    kafka_tool --group "$group" --reset-offsets --from-file "$start" --execute >"$dir/reset.log" 2>&1 ||
        { cat "$dir/reset.log" >&2; die "$name: could not set the offsets of $group"; }
    "$BENCH" drain --group "$group" --until "$(until_spec "$end")" ${for_secs:+--for-secs "$for_secs"} \
        >"$dir/drain.out" 2>"$dir/drain.err" &
    local watcher=$!
    poll_until 30 grep -q 'watching' "$dir/drain.err" || die "$name: the drain watcher did not start"
    DBSYNC_GROUP_PREFIX=$group_prefix DBSYNC_BATCH_SIZE=$batch DBSYNC_DLQ_TOPIC="$TAG.dlq" DBSYNC_PHP_EXTENSION=$EXT \
        DBSYNC_METRICS_ADDR='' DBSYNC_INSTANCE_ID="$group_prefix" \
        DBSYNC_LOG="info,dbsync_core::write::phases=debug,dbsync_core::consume::batch=debug" \
        /usr/bin/time -v -o "$dir/time.txt" "$root/testing/scripts/artisan.sh" "$(command_of "$side")" --stop-when-empty \
        >"$dir/consume.log" 2>&1 &
    local consumer=$!
    BG+=("$consumer")
    cpu_snapshot >"$dir/cpu-before.txt"
    wait "$watcher" || { tail -n 5 "$dir/drain.err" >&2; die "$name: drain watch failed"; }
    cpu_snapshot >"$dir/cpu-after.txt"
    if [ -n "$for_secs" ]; then
        local php
        php=$(pgrep -P "$consumer" || true)
        [ -n "$php" ] && kill -TERM "$php" 2>/dev/null
    fi
    wait "$consumer" || { tail -n 20 "$dir/consume.log" >&2; die "$name: the consumer failed"; }
    local summary user sys rss
    summary=$(grep -E "^consume:[a-z]+-events: consumed=" "$dir/consume.log" | tail -n 1)
    user=$(sed -n 's/.*User time (seconds): //p' "$dir/time.txt")
    sys=$(sed -n 's/.*System time (seconds): //p' "$dir/time.txt")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
    [ "$(counter dead_lettered "$summary")" = 0 ] || log "WARNING $name: dead letters: $summary"
    log "$name: $(cat "$dir/drain.out") | $summary"
    awk -v u="$user" -v s="$sys" -v rss="$rss" -v applied="$(counter consumed "$summary")" '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
        END {
            printf "events_per_s=%s\n", f["events_per_s"]
            printf "cpu_per_1000=%.2f\n", (applied > 0 ? (u + s) * 1000 / applied : 0)
            printf "rss_mib=%.1f\n", rss / 1024
            printf "consumed=%d\n", applied
        }' "$dir/drain.out" >"$WORK/$name.fig"
    cpu_per_1000 "$dir/cpu-before.txt" "$dir/cpu-after.txt" "$(counter consumed "$summary")" >>"$WORK/$name.fig"
    # Where the time went, per 1,000 events: each bulk batch's phases (debug line `batch phases`) and the Kafka
    # offset commits, summed over the batches, next to the drain's wall time. Batches of two partitions run at once
    # (one per connection), so the sums can add up to more than the wall time.
    awk -v n="$(counter consumed "$summary")" -v secs="$(sed -n 's/.*seconds=\([0-9.]*\) .*/\1/p' "$dir/drain.out")" '
        /batch phases/ { for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] ~ /_us$/) t[kv[1]] += kv[2]; b++ }
        /offset committed/ { for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] == "commit_us") k += kv[2] }
        END {
            if (n == 0) exit
            split("lock_us read_us decide_us write_us commit_us", names, " ")
            for (j = 1; j <= 5; j++) { printf "%s_per_1000=%.0f\n", names[j], t[names[j]] / 1000 / n * 1000 }
            printf "kafka_commit_us_per_1000=%.0f\n", k / 1000 / n * 1000
            printf "wall_us_per_1000=%.0f\n", secs * 1e6 / 1000 / n * 1000
            printf "batches=%d\n", b
        }' "$dir/consume.log" >>"$WORK/$name.fig"
}
fig() { sed -n "s/^$2=//p" "$WORK/$1.fig" 2>/dev/null | head -n 1; }

# write_backlog KEY SIDE KIND TAG INSERTS UPDATES: the workload written on SIDE, once the topic is quiet, and waited
# for until all its events are on the topic; $WORK/KEY-start.csv and KEY-end.csv hold the offsets around it.
write_backlog() {
    local key=$1 side=$2 kind=$3 tag=$4 inserts=$5 updates=$6 topic
    topic=$(topic_of "$side")
    settled "$topic" "$WORK/$key-start.csv"
    "$BENCH" workload --side "$side" --kind "$kind" --tag "${tag%-}" --inserts "$inserts" --updates "$updates" \
        >"$WORK/$key-workload.out" 2>"$WORK/$key-workload.err"
    settled "$topic" "$WORK/$key-end.csv" "$WORK/$key-start.csv" "$(sed -n 's/^rows_written=//p' "$WORK/$key-workload.out")"
}
backlog_events() { echo $(($(total_of "$WORK/$1-end.csv") - $(total_of "$WORK/$1-start.csv"))); }

# ---- A/B (--ab): one backlog, drained in turn by each variant, round after round ----------------------------------
ab() {
    local side=$AB_SIDE kind=$AB_KIND key="ab-$AB_SIDE-$AB_KIND" updates=$USERS_UPDATES other variants
    [ "$kind" = mixed ] && updates=$MIXED_UPDATES
    local tag="$TAG${side}${kind:0:1}-"
    other=$(other_of "$side")
    read -r -a variants <<<"$AB"
    write_backlog "$key" "$side" "$kind" "$tag" "$INSERTS" "$updates"
    log "$key: $(backlog_events "$key") events, ${#variants[@]} variants, $AB_ROUNDS rounds"
    local round i variant envs
    for round in $(seq 1 "$AB_ROUNDS"); do
        i=0
        for variant in "${variants[@]}"; do
            i=$((i + 1))
            settle_side "$other"
            envs=()
            [ "$variant" = "${variant%%,*}" ] || IFS=, read -r -a envs <<<"${variant#*,}"
            # In a subshell, so that a variant's settings end with its drain.
            (
                EXT=${variant%%,*}
                for setting in "${envs[@]}"; do export "${setting?}"; done
                dbsync_drain "v$i-r$round" "$side" "$WORK/$key-start.csv" "$WORK/$key-end.csv" "$DBSYNC_BATCH_SIZE"
            )
            echo "AB v$i ($variant) round $round: $(tr '\n' ' ' <"$WORK/v$i-r$round.fig")" | tee -a "$WORK/ab.txt"
            reset_side "$other" "$tag"
        done
    done
}
if [ -n "$AB" ]; then
    ab
    exit 0
fi

# ---- backlog drains ---------------------------------------------------------------------------------------------
# backlog SIDE KIND [warm-up]: with `warm-up`, a tenth of the workload drained by dbsync and the JDBC sink only,
# reported nowhere (see WARM-UP below).
backlog() {
    local side=$1 kind=$2 key="$1-$2" updates=$USERS_UPDATES inserts=$INSERTS warm=${3:-}
    [ "$kind" = mixed ] && updates=$MIXED_UPDATES
    if [ -n "$warm" ]; then
        key="warm-up-$key" inserts=$((INSERTS / 10)) updates=$((updates / 10))
    fi
    local topic tag="$TAG$1${2:0:1}${warm:+w}-"
    topic=$(topic_of "$side")
    log "== $key: $(direction_of "$side"), workload $kind ($inserts inserts, $updates updates)"
    [ "$JDBC" = 1 ] && "$JDBC_SINK" prepare "$(direction_of "$side")" >"$WORK/$key-jdbc-prepare.log" 2>&1
    write_backlog "$key" "$side" "$kind" "$tag" "$inserts" "$updates"
    local events other
    events=$(backlog_events "$key")
    echo "events=$events" >"$WORK/$key-events.fig"
    log "$key: $events events on $topic"
    other=$(other_of "$side")

    settle_side "$other"
    dbsync_drain "$key-dbsync" "$side" "$WORK/$key-start.csv" "$WORK/$key-end.csv" "$DBSYNC_BATCH_SIZE"
    reset_side "$other" "$tag"
    settle_side "$other"
    [ -z "$warm" ] || { backlog_jdbc "$side" "$key" "$events"; return; }
    dbsync_drain "$key-per-event" "$side" "$WORK/$key-start.csv" "$WORK/$key-end.csv" 1 "$PER_EVENT_SECS"
    reset_side "$other" "$tag"
    settle_side "$other"
    settle_cpu
    "$BENCH" ceiling --source "$side" --kind "$kind" --tag "${tag%-}" --updates "$updates" \
        >"$WORK/$key-ceiling.out" 2>"$WORK/$key-ceiling.err"
    log "$key-ceiling: $(cat "$WORK/$key-ceiling.out")"
    sed -n 's/.*rows_per_s=\([0-9.]*\).*/events_per_s=\1/p' "$WORK/$key-ceiling.out" >"$WORK/$key-ceiling.fig"
    reset_side "$other" "$tag"
    settle_side "$other"
    backlog_jdbc "$side" "$key" "$events"
}

backlog_jdbc() { # SIDE KEY EVENTS: the JDBC sink's drain of the backlog the source connector published for it
    local side=$1 key=$2 events=$3
    if [ "$JDBC" = 1 ]; then
        settle_cpu
        if "$JDBC_SINK" drain "$(direction_of "$side")" "$events" >"$WORK/$key-jdbc.out" 2>"$WORK/$key-jdbc.err"; then
            log "$key-jdbc: $(cat "$WORK/$key-jdbc.out")"
            awk -v n="$events" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
                END { printf "events_per_s=%s\ncpu_per_1000=%.2f\n", f["events_per_s"], f["connect_cpu_s"] * 1000 / n }' \
                "$WORK/$key-jdbc.out" >"$WORK/$key-jdbc.fig"
        else
            log "WARNING $key: the JDBC sink run failed: $(tail -n 3 "$WORK/$key-jdbc.err")"
        fi
        "$JDBC_SINK" cleanup >>"$WORK/jdbc-cleanup.log" 2>&1 || true
    fi
}

# WARM-UP. The Connect worker has just (re)started and its JIT compiles each code path the first time it runs
# hot: Debezium's capture of either database, the echo filter, the JDBC sink. Without a warm-up, the first drain of
# each direction pays for those compilations (at 16:57, right after a restart, the first revamp-to-legacy drain cost
# Connect 0.07 CPU-s per 1,000 events, against 0.05 in a run on a warm worker). A
# tenth of the users workload is drained once per direction by dbsync and the sink; its figures are not reported.
if [ "$DRAIN" = 1 ]; then
    for side in legacy revamp; do backlog "$side" users warm-up; done
    for side in legacy revamp; do
        for kind in users mixed; do backlog "$side" "$kind"; done
    done
fi

# ---- capturing the sync's own writes: Connect's CPU per 1,000 sync-service writes, per way of dropping them -----
# filter_config NAME: the revamp connector's config with its capture filter replaced: `compiled` (the file as it
# is: dbsync's DropEchoesAndRawDeletes), `groovy` (Debezium's scripted Filter, same condition), `none` (echoes
# published; the core drops them).
filter_config() {
    local config="$root/debezium/mysql-connector.json"
    case $1 in
    compiled) jq '.config' "$config" ;;
    groovy) jq '.config | del(."transforms.dropEchoesAndRawDeletes.type") + {
            "transforms.dropEchoesAndRawDeletes.type": "io.debezium.transforms.Filter",
            "transforms.dropEchoesAndRawDeletes.language": "jsr223.groovy",
            "transforms.dropEchoesAndRawDeletes.topic.regex": "revamp\\.revamp_db\\..*",
            "transforms.dropEchoesAndRawDeletes.condition": "value.get(\u0027op\u0027) != \u0027d\u0027 && (value.get(\u0027after\u0027) == null || value.get(\u0027after\u0027).get(\u0027source\u0027) != \u0027sync_service\u0027)",
            "transforms.dropEchoesAndRawDeletes.null.handling.mode": "keep"}' "$config" ;;
    none) jq '.config | del(."transforms.dropEchoesAndRawDeletes.type")
            | .transforms = (.transforms | split(",") | map(select(. != "dropEchoesAndRawDeletes")) | join(","))' "$config" ;;
    esac
}
# filter_cost NAME: CPU-seconds of Connect per 1,000 of ECHO_WRITES sync-service inserts into revamp_users (500 rows
# a statement), from the first write until a marker written after them is on the topic.
ECHO_WRITES=$((100000 / SCALE))
filter_cost() {
    local name=$1 before after
    filter_config "$name" | curl -sf -X PUT -H 'Content-Type: application/json' --data @- \
        "$DBSYNC_CONNECT_URL/connectors/dbsync-revamp/config" >/dev/null || die "echo filter $name: Connect refused the config"
    # A restarted task, caught up and warmed, before the measured writes.
    capture_caught_up revamp "warm-$name" || die "echo filter $name: the connector did not come back"
    before=$(cpu_ticks connect)
    local i
    for ((i = 0; i < ECHO_WRITES; i += 500)); do
        echo "INSERT INTO revamp_users (user_name, email_address) SELECT CONCAT('${TAG}e-$name-', $i + seq), 'e@x' FROM seq_1_to_500;"
    done | my "SET @dbsync_origin = 'sync_service'; $(cat)"
    capture_caught_up revamp "$name" || die "echo filter $name: the marker never arrived"
    after=$(cpu_ticks connect)
    awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v n="$ECHO_WRITES" \
        'BEGIN { printf "connect_cpu_per_1000=%.3f\n", t / hz * 1000 / n }' >"$WORK/filter-$name.fig"
    log "echo filter $name: $(cat "$WORK/filter-$name.fig")"
}
if [ "$FILTERS" = 1 ]; then
    log "== capturing the sync's own writes: $ECHO_WRITES sync-service inserts per capture filter"
    for filter in groovy none compiled; do filter_cost "$filter"; done
    reset_side revamp "${TAG}e"
    settle_side revamp
fi

# ---- lag under steady load --------------------------------------------------------------------------------------
steady() { # RATE: both consumers (own groups at the topics' ends) while RATE writes/s run, half on each side
    local rate=$1 name="lag-$1" pids=() side
    for side in legacy revamp; do
        settled "$(topic_of $side)" "$WORK/$name-$side-start.csv"
        kafka_tool --group "$TAG-$name-$(direction_of $side)" --reset-offsets \
            --from-file "$WORK/$name-$side-start.csv" --execute >/dev/null 2>&1 || die "$name: could not set offsets"
        DBSYNC_GROUP_PREFIX="$TAG-$name" DBSYNC_PHP_EXTENSION=$EXT DBSYNC_METRICS_ADDR='' \
            DBSYNC_INSTANCE_ID="$TAG-$name-$side" DBSYNC_DLQ_TOPIC="$TAG.dlq" \
            "$root/testing/scripts/artisan.sh" "$(command_of $side)" >"$WORK/$name-$side.log" 2>&1 &
        pids+=($!)
        BG+=("$!")
    done
    poll_until 60 bash -c "grep -q 'consumer ready' '$WORK/$name-legacy.log' && grep -q 'consumer ready' '$WORK/$name-revamp.log'" ||
        die "$name: the consumers did not start"
    local since until
    since=$(date +%s%3N)
    log "$name: $rate writes/s for $LAG_SECS s"
    "$BENCH" load --legacy-rate $((rate / 2)) --revamp-rate $((rate / 2)) --seconds "$LAG_SECS" --tag "${TAG}l$rate" \
        >"$WORK/$name-load.out" 2>"$WORK/$name-load.err"
    until=$(date +%s%3N)
    for side in legacy revamp; do
        settled "$(topic_of $side)" "$WORK/$name-$side-end.csv"
        "$BENCH" drain --group "$TAG-$name-$(direction_of $side)" --until "$(until_spec "$WORK/$name-$side-end.csv")" \
            --timeout-secs 600 >/dev/null 2>>"$WORK/$name-drain.err" || log "WARNING $name: $side consumer did not catch up"
    done
    for pid in "${pids[@]}"; do kill -TERM "$(pgrep -P "$pid" || echo "$pid")" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$BENCH" lag --since-ms "$since" --until-ms "$until" >"$WORK/$name.out"
    log "$name: $(cat "$WORK/$name-load.out")"
    sed 's/^/    /' "$WORK/$name.out"
    reset_side legacy "${TAG}l$rate"
    reset_side revamp "${TAG}l$rate"
}
if [ "$LAG" = 1 ]; then
    for rate in $LAG_RATES; do steady "$rate"; done
fi

# ---- memory: one consumer draining 1M events --------------------------------------------------------------------
if [ "$MEMORY" = 1 ]; then
    log "== memory: $MEMORY_EVENTS legacy inserts drained by consume:legacy-events"
    settled "$DBSYNC_LEGACY_TOPIC" "$WORK/memory-start.csv"
    "$BENCH" workload --side legacy --tag "${TAG}m" --inserts "$MEMORY_EVENTS" --updates 0 >/dev/null 2>"$WORK/memory-workload.err"
    settled "$DBSYNC_LEGACY_TOPIC" "$WORK/memory-end.csv" "$WORK/memory-start.csv" "$MEMORY_EVENTS"
    dbsync_drain memory legacy "$WORK/memory-start.csv" "$WORK/memory-end.csv" "$DBSYNC_BATCH_SIZE"
fi

# ---- the table --------------------------------------------------------------------------------------------------
report() {
    local cores mem
    cores=$(nproc)
    mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
    echo "# dbsync benchmark results"
    echo
    echo "\`make bench\` ($(basename "$0")$([ "$SCALE" = 1 ] || echo " --quick")), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo '+changes')."
    echo "Machine: $cores cores, $mem, $(uname -sr); every service on it. PostgreSQL $(pg 'SHOW server_version' | cut -d' ' -f1),"
    echo "MariaDB $(my 'SELECT VERSION()' | cut -d- -f1), Kafka $(basename "$(ls "$JARS"/broker/kafka-clients-*.jar | head -n 1)" .jar | sed 's/kafka-clients-//'), Debezium $(basename "$(ls "$JARS"/plugins/debezium/debezium-api-*.jar | head -n 1)" .jar | sed 's/debezium-api-//'), release build."
    echo "Connect worker JVM: $(java -version 2>&1 | head -n 1 | tr -d '"'), $(ps -o args= -p "$(cat "$RUN/connect.pid")" | grep -o -- ' -X[^ ]*' | tr -d '\n')$([ "$DRAIN" = 0 ] || echo ', warmed up by a tenth-size drain per direction (dbsync and the sink) before the figures')."
    echo
    local side kind key
    if [ "$DRAIN" = 1 ]; then
        echo "## Backlog drain (events/s; CPU-seconds per 1,000 events of the applying process)"
        echo
        echo "| direction, workload | events | dbsync (batch $DBSYNC_BATCH_SIZE) | dbsync (batch 1) | JDBC sink | ceiling (500-row upserts) | dbsync / ceiling | dbsync / JDBC sink | dbsync / per-event |"
        echo "|---|---|---|---|---|---|---|---|---|"
        for side in legacy revamp; do
            for kind in users mixed; do
                key="$side-$kind"
                awk -v label="$(direction_of $side), $kind" -v n="$(fig "$key-events" events)" \
                    -v d="$(fig "$key-dbsync" events_per_s)" -v dc="$(fig "$key-dbsync" cpu_per_1000)" \
                    -v p="$(fig "$key-per-event" events_per_s)" -v pc="$(fig "$key-per-event" cpu_per_1000)" \
                    -v j="$(fig "$key-jdbc" events_per_s)" -v jc="$(fig "$key-jdbc" cpu_per_1000)" \
                    -v c="$(fig "$key-ceiling" events_per_s)" '
                    function cell(r, cpu) { return r == "" ? "n/a" : sprintf("%.0f (%s CPU-s)", r, cpu == "" ? "?" : cpu) }
                    function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "n/a" : sprintf("%.2f", a / b) }
                    BEGIN {
                        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, n, cell(d, dc), cell(p, pc),
                            cell(j, jc), c == "" ? "n/a" : sprintf("%.0f", c), ratio(d, c), ratio(d, j), ratio(d, p)
                    }'
            done
        done
        echo
        echo "JDBC sink CPU is the Connect worker's. Ceiling: the same rows, no Kafka, no mapping, no ledger."
        echo
        echo "### The whole pipeline's CPU while dbsync (batch $DBSYNC_BATCH_SIZE) drains (CPU-seconds per 1,000 events)"
        echo
        echo "Connect captures dbsync's own writes from the target's log and drops them (dbsync's capture filter), so its share"
        echo "is the cost of the echo filter; the databases' share includes applying the rows."
        echo
        echo "| direction, workload | dbsync | Connect | Kafka | MariaDB | PostgreSQL |"
        echo "|---|---|---|---|---|---|"
        for side in legacy revamp; do
            for kind in users mixed; do
                key="$side-$kind-dbsync"
                echo "| $(direction_of $side), $kind | $(fig "$key" cpu_per_1000) | $(fig "$key" connect_cpu_per_1000) | $(fig "$key" kafka_cpu_per_1000) | $(fig "$key" mariadb_cpu_per_1000) | $(fig "$key" postgres_cpu_per_1000) |"
            done
        done
        echo
        echo "### Where dbsync's time goes (batch $DBSYNC_BATCH_SIZE; ms per 1,000 events, summed over the batches' debug timings; two partitions' batches run at once, so the phases can add up to more than the wall time)"
        echo
        echo "| direction, workload | batches | begin + row locks | reads (rows, parents, tombstones, ledger) | decide | writes (rows, tombstones, ledger) | commit | Kafka offset commit | drain wall time |"
        echo "|---|---|---|---|---|---|---|---|---|"
        for side in legacy revamp; do
            for kind in users mixed; do
                key="$side-$kind-dbsync"
                echo "| $(direction_of $side), $kind | $(fig "$key" batches) | $(fig "$key" lock_us_per_1000) | $(fig "$key" read_us_per_1000) | $(fig "$key" decide_us_per_1000) | $(fig "$key" write_us_per_1000) | $(fig "$key" commit_us_per_1000) | $(fig "$key" kafka_commit_us_per_1000) | $(fig "$key" wall_us_per_1000) |"
            done
        done
    fi
    if [ "$FILTERS" = 1 ]; then
        echo
        echo "## Capturing the sync's own writes (Connect's CPU-seconds per 1,000 sync-service writes to revamp)"
        echo
        echo "| dbsync's compiled filter (DropEchoesAndRawDeletes) | Debezium's Groovy Filter | no filter (echoes published, the core drops them) |"
        echo "|---|---|---|"
        echo "| $(fig filter-compiled connect_cpu_per_1000) | $(fig filter-groovy connect_cpu_per_1000) | $(fig filter-none connect_cpu_per_1000) (plus Kafka's and the consumer's share) |"
    fi
    if [ "$LAG" = 1 ]; then
        echo
        echo "## Lag under steady load (ms; source commit -> target write, and Debezium's capture: source commit -> Kafka)"
        echo
        echo "| load asked | direction | end-to-end p50 / p99 / max | end-to-end p99 of each 10 s | capture p50 / p99 / max | events | writes/s reached (legacy + revamp) |"
        echo "|---|---|---|---|---|---|---|"
        local rate reached
        for rate in $LAG_RATES; do
            reached=$(tr ' =' '\n\n' <"$WORK/lag-$rate-load.out" | awk 'NR % 2 == 0 { v[NR / 2] = $1 }
                END { printf "%.0f (%.0f + %.0f)", (v[1] + v[2]) / v[3], v[1] / v[3], v[2] / v[3] }')
            awk -v rate="$rate" -v reached="$reached" '
                { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
                  printf "| %d writes/s | %s | %s / %s / %s | %s | %s / %s / %s | %s | %s |\n", rate, $1,
                      f["e2e_ms_p50"], f["e2e_ms_p99"], f["e2e_ms_max"], f["e2e_ms_p99_by_10s"],
                      f["capture_ms_p50"], f["capture_ms_p99"],
                      f["capture_ms_max"], f["e2e_ms_n"], reached }' "$WORK/lag-$rate.out"
        done
    fi
    if [ "$MEMORY" = 1 ]; then
        echo
        echo "## Memory"
        echo
        echo "Peak RSS of consume:legacy-events (PHP + the extension) draining $(fig memory consumed) events: $(fig memory rss_mib) MiB ($(fig memory events_per_s) events/s)."
    fi
}
report | tee "$WORK/RESULTS.md"
cp "$WORK/RESULTS.md" "$RESULTS"
log "wrote $RESULTS"
