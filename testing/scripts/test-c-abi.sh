#!/usr/bin/env bash
# The C ABI (core/src/capi/, header core/include/dbsync.h; README "Use from C"):
#   - the header in git is what cbindgen generates now (regenerated and diffed);
#   - the capi module's Rust unit tests and clippy (the feature is off in the workspace's `cargo test` and clippy);
#   - libdbsync_core.so and .a build (`cargo rustc --features capi --crate-type cdylib --crate-type staticlib`),
#     and testing/c/ compiles with `cc -Wall -Werror` against the header, both dynamically and statically linked;
#   - testing/c/test_capi.c under ASan (leaks included) and under valgrind: transform of a seed-shaped legacy user
#     event, an echo, malformed JSON and bad configs refused with a code and a message; then, per run, a new row in
#     legacy PostgreSQL that one dbsync_consumer_run(stop_when_empty) must bring into MariaDB, and a stop from a
#     second thread that must end a running consumer within a second.
# The background artisan consumers may apply the same row from legacy.events too, which the ledger makes a
# duplicate for whichever comes second, so the check is that the row is in MariaDB after the run and that the run
# consumed its event (applied or duplicate).
source "$(dirname "$0")/lib.sh"
cd "$TEST_ROOT"

GROUP=dbsync-capi-test
target=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
lib=$target/debug
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT

# 1. The header.
if core/include/generate.sh --check >"$build/header.log" 2>&1; then
    pass "core/include/dbsync.h equals cbindgen's output"
else
    fail "core/include/dbsync.h differs from cbindgen's output (run 'make header'):"
    head -n 40 "$build/header.log"
fi

# 2. The Rust side's own tests and lints (the workspace's clippy and tests run without the feature).
if cargo test -q -p dbsync-core --features capi --lib capi >"$build/unit.log" 2>&1; then
    pass "capi unit tests ($(grep -o '[0-9]* passed' "$build/unit.log" | head -n 1))"
else
    fail "capi unit tests"
    tail -n 30 "$build/unit.log"
fi
if cargo clippy -q -p dbsync-core --features capi --all-targets -- -D warnings >"$build/clippy.log" 2>&1; then
    pass "clippy is clean with the capi feature"
else
    fail "clippy with the capi feature"
    head -n 40 "$build/clippy.log"
fi

# 3. The libraries and the C programs.
if ! cargo rustc -q -p dbsync-core --lib --features capi --crate-type cdylib --crate-type staticlib \
    >"$build/lib.log" 2>&1; then
    fail "libdbsync_core builds"
    tail -n 30 "$build/lib.log"
    summary
    exit 1
fi
check_eq "libdbsync_core.so and libdbsync_core.a are built" "yes" \
    "$([ -f "$lib/libdbsync_core.so" ] && [ -f "$lib/libdbsync_core.a" ] && echo yes || echo no)"
CC=(cc -Wall -Wextra -Werror -g -I core/include)
# What the static library needs from the system (rustc --print native-static-libs), plus pthread for the test.
STATIC_LIBS=(-lz -lssl -lcrypto -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
compile() { # description output command...
    local what=$1 out=$2
    shift 2
    if "$@" -o "$build/$out" >"$build/$out.log" 2>&1; then pass "$what"; else fail "$what: $(head -c 2000 "$build/$out.log")"; fi
}
compile "example.c compiles with -Wall -Werror" example "${CC[@]}" testing/c/example.c -L "$lib" -ldbsync_core
compile "test_capi.c compiles with -Wall -Werror" test_capi "${CC[@]}" testing/c/test_capi.c -L "$lib" -ldbsync_core -lpthread
compile "test_capi.c compiles with ASan" test_capi_asan "${CC[@]}" -fsanitize=address -fno-omit-frame-pointer \
    testing/c/test_capi.c -L "$lib" -ldbsync_core -lpthread
compile "test_capi.c links the static library" test_capi_static "${CC[@]}" testing/c/test_capi.c \
    "$lib/libdbsync_core.a" "${STATIC_LIBS[@]}"
export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
mapping=$TEST_ROOT/core/mapping/default.toml

seed='{"event_id": "0d7c2f5e-8f7a-4c55-bb1c-3f0c8c1f2a10", "entity_type": "user", "operation": "UPDATE",
  "primary_key": 5, "source": "legacy", "timestamp": "2026-11-25T23:18:17Z", "payload": {"id": 5,
  "username": "quicktest", "email": "q@t.com", "full_name": "Quick Test", "status": "active", "is_admin": false,
  "created_at": "2026-11-24T08:00:00Z", "updated_at": "2026-11-25T23:18:17Z", "source": "legacy"}}'
out=$("$build/example" "$(cat "$mapping")" "$seed" 2>&1 || true)
check_eq "the README example prints the revamp row" "quicktest Quick Test" \
    "$(jq -r '"\(.columns.user_name) \(.columns.first_name) \(.columns.last_name)"' <<<"$out" 2>/dev/null || echo "$out")"
if "$build/test_capi_static" "$mapping" >"$build/static.log" 2>&1; then
    pass "the statically linked test passes its pure part"
else
    fail "the statically linked test: $(tail -n 20 "$build/static.log")"
fi

# 4. The whole test with a consumer, under ASan and under valgrind, one new legacy row each. The row's real Debezium
# event is copied from legacy.events (key and value as they are) to a topic of this test's own, which the C
# consumer reads in a group of its own: so it applies exactly this test's rows, never the backlog or the
# benchmarks' bursts of a shared topic, and `stop_when_empty` ends as soon as they are done.
TOPIC=dbsync-capi-test
config=$(jq -cn --arg brokers "$DBSYNC_BROKERS" --arg group "$GROUP" --arg topic "$TOPIC" \
    --arg dsn "$DBSYNC_REVAMP_DSN" --arg mapping "$mapping" \
    '{brokers: $brokers, group_id: $group, topic: $topic, direction: "legacy_to_revamp", target_dsn: $dsn,
      mapping_path: $mapping, instance_id: "capi-test", batch_linger_ms: 10}')

# copy_event ROW_ID SINCE_MS: copies the Debezium event of legacy_users row ROW_ID, published after SINCE_MS, from
# legacy.events to $TOPIC (created on first use: the broker auto-creates topics); false while it is not there yet.
copy_event() {
    local message
    message=$(kcat -b "$DBSYNC_BROKERS" -C -t "$DBSYNC_LEGACY_TOPIC" -o "s@$2" -e -q -f '%k\t%s\n' 2>/dev/null |
        jq -rR --argjson id "$1" 'split("\t") as [$key, $value] | ($value | fromjson?) as $event
            | select($event.source.table? == "legacy_users" and $event.after.id? == $id) | "\($key)\t\($value)"' |
        head -n 1)
    [ -n "$message" ] && printf '%s\n' "$message" | kcat -b "$DBSYNC_BROKERS" -P -t "$TOPIC" -K $'\t'
}

VALGRIND=(valgrind --quiet --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --suppressions=testing/c/valgrind.supp)
for tool in asan valgrind; do
    name="capi_${tool}_$RUN_TAG"
    since=$(($(date +%s%3N) - 1000))
    id=$(pg "INSERT INTO legacy_users (username, email, full_name) VALUES ('$name', '$name@c.test', 'Capi ${tool^}') RETURNING id")
    if ! poll_until 30 copy_event "$id" "$since"; then
        fail "$tool: the insert of legacy user $id reached $DBSYNC_LEGACY_TOPIC within 30 s"
        continue
    fi
    start=$SECONDS rc=0
    case $tool in
    asan) ASAN_OPTIONS=detect_leaks=1:exitcode=98 LSAN_OPTIONS=suppressions=testing/c/lsan.supp:print_suppressions=0 "$build/test_capi_asan" "$mapping" "$config" >"$build/$tool.log" 2>&1 || rc=$? ;;
    valgrind) "${VALGRIND[@]}" "$build/test_capi" "$mapping" "$config" >"$build/$tool.log" 2>&1 || rc=$? ;;
    esac
    grep -v '^stats: ' "$build/$tool.log" | sed 's/^/    /' | tail -n 40 || true
    check_eq "$tool: the whole C test passes with no leaks or invalid accesses ($((SECONDS - start)) s)" 0 "$rc"
    stats=$(sed -n 's/^stats: //p' "$build/$tool.log")
    echo "    stats: ${stats:-none}"
    check_eq "$tool: the run consumed the new row's event (applied or, after an artisan consumer, duplicate)" yes \
        "$(jq -r 'if .consumed >= 1 and (.applied + .duplicates) >= 1 then "yes" else "no: \(.)" end' <<<"${stats:-null}" 2>/dev/null || echo "no stats")"
    check_eq "$tool: legacy user $id is in MariaDB with the revamp names and split full_name" \
        "$name	$name@c.test	Capi	${tool^}" \
        "$(my "SELECT user_name, email_address, first_name, last_name FROM revamp_users WHERE id = $id")"
done

summary
