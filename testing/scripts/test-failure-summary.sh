#!/usr/bin/env bash
# The summary of `make test` (testing/scripts/suites.sh) names each failed suite with what its scripts reported,
# and nothing of the suites that passed. Two throwaway suites run through the real runner: one passes (and a
# script it runs dies with an expected stack ERROR), one fails a check and has a script die. Needs no service.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/test-passing.sh" <<SUITE
source "$TEST_ROOT/testing/scripts/lib.sh"
pass "fine"
bash -c 'source "$TEST_ROOT/testing/stack/lib.sh"; die "an error this suite expects"' 2>/dev/null || true
summary
SUITE
cat >"$tmp/test-failing.sh" <<SUITE
source "$TEST_ROOT/testing/scripts/lib.sh"
pass "fine"
fail "the count: expected '1', got '2'"
bash -c 'source "$TEST_ROOT/testing/stack/lib.sh"; die "kafka connect not ready after 120s"' 2>/dev/null || true
summary
SUITE
out=$(bash -c 'source "$1/testing/scripts/suites.sh"; suite "passing one" bash "$2/test-passing.sh";
    suite "failing one" bash "$2/test-failing.sh"; suites_summary' _ "$TEST_ROOT" "$tmp" 2>&1) && code=0 || code=$?
summary_part=$(sed -n '/^=== summary/,$p' <<<"$out")

check_eq "the runner fails" 1 "$code"
check_eq "the total" "=== summary: 1 of 2 suites passed" "$(head -n 1 <<<"$summary_part")"
grep -qx 'failed: failing one' <<<"$summary_part" && pass "the failed suite is named" ||
    fail "no 'failed: failing one' in: $summary_part"
grep -qx "    test-failing.sh: FAIL the count: expected '1', got '2'" <<<"$summary_part" &&
    pass "its FAIL line is repeated, with the script's name" || fail "no FAIL line in: $summary_part"
grep -qx '    bash: ERROR kafka connect not ready after 120s' <<<"$summary_part" &&
    pass "the stack ERROR of a script it ran is repeated" || fail "no stack ERROR in: $summary_part"
if grep -q 'passing one\|expects' <<<"$summary_part"; then
    fail "the passing suite shows in the summary: $summary_part"
else
    pass "nothing of the passing suite in the summary"
fi
summary
