#!/usr/bin/env bash
# `make test`: every test, in order, against the real stack that `make up` started:
#   1. stack lifecycle (wipe, cold up, warm up), stack behaviour (CDC events, stamping, echo filter), the MariaDB
#      row clock, tombstone keys, the ledger's migration to its time-ordered key, restart of FAILED connector
#      tasks, Connect's logs and the connectors' heartbeats, PostgreSQL from a clone under /root;
#   2. Rust: formatting, clippy, unit and integration tests (cargo test: real PostgreSQL, MariaDB, Kafka);
#   3. PHP: PHPUnit, including the `integration` group (real consumer through artisan); TLS end to end (SASL_SSL
#      Kafka, TLS to both databases, wrong CAs refused naming the setting);
#   4. end to end through `php artisan consume:*` running in the background.
# Each suite prints its own "N passed, N failed" line; this script prints the total, then each failed suite with
# its scripts' FAIL lines and stack ERRORs (testing/scripts/suites.sh), and fails if any suite failed.
#   DBSYNC_TEST_SKIP_LIFECYCLE=1  skip the wipe-and-restart test (faster local runs)
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
scripts=testing/scripts

# The tests load the debug build of the extension, so they need no release build or system install.
export DBSYNC_PHP_EXTENSION="$root/target/debug/libdbsync.so"
export CARGO_TERM_COLOR=never

# shellcheck source=suites.sh
source "$scripts/suites.sh"

suite "failure summary" $scripts/test-failure-summary.sh
[ "${DBSYNC_TEST_SKIP_LIFECYCLE:-0}" = 1 ] || suite "stack lifecycle" $scripts/test-stack-lifecycle.sh
suite "stack" $scripts/test-stack.sh
suite "row clock" $scripts/test-row-clock.sh
suite "tombstone keys" $scripts/test-tombstone-keys.sh
suite "ledger migration" $scripts/test-ledger-migration.sh
suite "connector restart" $scripts/test-connector-restart.sh
suite "connect logs and heartbeats" $scripts/test-connect.sh
suite "clone anywhere" $scripts/test-clone-anywhere.sh
suite "docker-compose cross-check" /usr/bin/python3 $scripts/test-compose.py
suite "cargo fmt" cargo fmt --all -- --check
suite "cargo clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
suite "cargo test" cargo test --workspace --quiet
suite "c abi" $scripts/test-c-abi.sh
suite "phpunit" $scripts/test-php.sh --group default,integration
# TLS end to end: throwaway TLS broker and MariaDB, TLS on the stack's PostgreSQL (reset afterwards); needs the
# debug extension that the phpunit suite builds.
suite "tls" $scripts/test-tls.sh
# The consumers run in the background for the end-to-end suites and stop (committing) afterwards.
suite "consumers start" $scripts/consumers.sh restart
for name in backfill legacy-to-revamp revamp-to-legacy loop-prevention conflicts schema-evolution idempotency dlq db-failures convergence scale-out verify verify-live status metrics outage; do
    suite "$name" $scripts/test-$name.sh
done
suite "consumers stop" $scripts/consumers.sh stop

suites_summary || exit 1
