#!/usr/bin/env bash
# Stack lifecycle: from `make down` and wiped data, `make up` succeeds; a second `make up` starts nothing new and
# succeeds. Runs first in `make test` (the other tests then use the fresh stack).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TEST_ROOT"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
testing/stack/wipe.sh >/dev/null
check_eq "after wipe nothing runs" 0 "$(testing/stack/status.sh | grep -c ' up ' || true)"
start=$SECONDS
if testing/stack/up.sh >"$out" 2>&1; then
    pass "cold 'make up' from wiped data succeeds ($((SECONDS - start)) s)"
else
    fail "cold 'make up' failed:"
    tail -n 30 "$out"
fi
start=$SECONDS
if testing/stack/up.sh >"$out" 2>&1; then
    pass "second 'make up' succeeds ($((SECONDS - start)) s)"
    check_eq "second 'make up' starts nothing" 4 "$(grep -c 'already running' "$out")"
    check_eq "second 'make up' leaves connectors unchanged" 2 "$(grep -c 'unchanged' "$out")"
else
    fail "second 'make up' failed:"
    tail -n 30 "$out"
fi
check_eq "status shows four services up" 4 "$(testing/stack/status.sh | grep -cE '^(postgres|mariadb|kafka|connect) +up' || true)"
check_eq "both connectors running" 2 "$(testing/stack/status.sh | grep -c 'RUNNING, tasks: RUNNING' || true)"
summary
