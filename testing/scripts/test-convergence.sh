#!/usr/bin/env bash
# Randomized convergence (issue: convergence): testing/convergence (`dbsync-convergence`) makes N seeded random
# application writes on both databases from several connections at once (inserts, updates, deletes with cascades,
# child rows, the same row edited on both sides back to back), waits until both consumers are idle, then checks that
# both databases hold the same rows through the mapping (per-table counts and checksums, first differing rows), that
# the topics gained exactly one event per write (no echo) and sync.dlq nothing. It must be the only writer meanwhile.
#   DBSYNC_CONVERGENCE_SEED (default 42), DBSYNC_CONVERGENCE_N (default 2000); further flags pass through
#   (e.g. --workers 8, --deadline-secs 300; see `target/debug/dbsync-convergence --help`).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_consumers
cd "$TEST_ROOT"
build_convergence
exec "$TEST_ROOT/target/debug/dbsync-convergence" --seed "${DBSYNC_CONVERGENCE_SEED:-42}" \
    --operations "${DBSYNC_CONVERGENCE_N:-2000}" "$@"
