#!/usr/bin/env bash
# Runs every Check test binary given, passes Check's own output through, and
# ends with one line that sums the checks of all suites.
set -u
passed=0 failed=0 bad_bins=()
for t in "$@"; do
	echo "== $t"
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: [0-9]+' | tail -n 1)
	if [ -n "$line" ]; then
		n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
		f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
		e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
		passed=$((passed + n - f - e)); failed=$((failed + f + e))
	fi
	if [ $rc -ne 0 ] && { [ -z "$line" ] || [ "$rc" -gt 1 ]; }; then
		bad_bins+=("$t (exit $rc)"); [ -z "$line" ] && failed=$((failed + 1))
	fi
done
[ ${#bad_bins[@]} -gt 0 ] && printf 'failed binaries: %s\n' "${bad_bins[*]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#bad_bins[@]} -eq 0 ]
