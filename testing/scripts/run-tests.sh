#!/usr/bin/env bash
# `make test`: every test, in order, against the real stack that `make up` started. Each suite prints its own
# "N passed, N failed" line; this script prints the total and fails if any suite failed.
#   DBSYNC_TEST_SKIP_LIFECYCLE=1  skip the wipe-and-restart test (faster local runs)
set -uo pipefail
cd "$(dirname "$0")/../.."

suites=()
[ "${DBSYNC_TEST_SKIP_LIFECYCLE:-0}" = 1 ] || suites+=(testing/scripts/test-stack-lifecycle.sh)
suites+=(testing/scripts/test-stack.sh)

failed=()
for suite in "${suites[@]}"; do
    echo "=== $suite"
    "$suite" || failed+=("$suite")
done
echo "=== summary: $((${#suites[@]} - ${#failed[@]})) of ${#suites[@]} suites passed"
if [ ${#failed[@]} -gt 0 ]; then
    printf 'failed: %s\n' "${failed[@]}"
    exit 1
fi
