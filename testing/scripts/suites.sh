#!/usr/bin/env bash
# The suite runner of `make test` (run-tests.sh), sourced: `suite NAME COMMAND...` runs one suite and records
# whether it passed; `suites_summary` prints the total, then each failed suite with what its scripts reported
# (their FAIL lines and stack ERRORs, which testing/scripts/lib.sh and testing/stack/lib.sh write to the file named
# by DBSYNC_TEST_FAILURE_LOG, one per suite; the first 20 lines), and fails if any suite failed. A CI log is often
# read from its end. test-failure-summary.sh checks it.

failure_logs=$(mktemp -d)
trap 'rm -rf "$failure_logs"' EXIT
failed=()
ran=0

suite() { # name command...
    local name=$1
    shift
    ran=$((ran + 1))
    echo
    echo "=== $name"
    local start=$SECONDS
    export DBSYNC_TEST_FAILURE_LOG="$failure_logs/$name"
    if "$@"; then
        echo "=== $name: ok ($((SECONDS - start)) s)"
    else
        echo "=== $name: FAILED ($((SECONDS - start)) s)"
        failed+=("$name")
    fi
}

suites_summary() {
    echo
    echo "=== summary: $((ran - ${#failed[@]})) of $ran suites passed"
    [ ${#failed[@]} -gt 0 ] || return 0
    local name
    for name in "${failed[@]}"; do
        echo "failed: $name"
        [ ! -s "$failure_logs/$name" ] || head -n 20 "$failure_logs/$name" | sed 's/^/    /'
    done
    return 1
}
