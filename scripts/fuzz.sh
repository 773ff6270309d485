#!/usr/bin/env bash
# Runs the libFuzzer harnesses built by `make fuzz-build`: first replays the
# kept crashing inputs of tests/fuzz/regressions/NAME, then fuzzes each for
# SECONDS from its corpus (build/fuzz/corpus/NAME, grown run after run) and
# seeds. Prints one line per harness with libFuzzer's final numbers; fails
# when a replay or a run finds a crash (the input is in build/fuzz/crashes/).
# Usage: scripts/fuzz.sh SECONDS NAME...   (FUZZ_OUT=DIR: logs, corpus and
# crashes there instead, so a long run can go on beside make check)
set -u
secs=$1; shift
b=build/fuzz
out=${FUZZ_OUT:-$b}
mkdir -p "$out/crashes"
failed=0
for n in "$@"; do
	bin=$b/fuzz_$n
	reg=tests/fuzz/regressions/$n
	log=$out/$n.log
	mapfile -t kept < <(find "$reg" -type f ! -name '.*' 2>/dev/null | sort)
	if [ ${#kept[@]} -gt 0 ]; then
		if ! "$bin" -close_fd_mask=3 "${kept[@]}" >"$out/$n-replay.log" 2>&1; then
			echo "fuzz $n: a kept regression input crashes again:"
			tail -n 30 "$out/$n-replay.log"
			failed=1
			continue
		fi
		echo "fuzz $n: ${#kept[@]} regression inputs replayed clean"
	fi
	mkdir -p "$out/corpus/$n"
	dirs=("$out/corpus/$n")
	for d in "tests/fuzz/seeds/$n" "$b/seeds/$n"; do [ -d "$d" ] && dirs+=("$d"); done
	"$bin" -max_total_time="$secs" -close_fd_mask=3 -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$out/crashes/$n-" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	last=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1)
	cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
	corp=$(sed -nE 's/.*corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
	eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log")
	echo "fuzz $n: ${secs}s, ${runs:-?} runs, ${eps:-?} exec/s, cov ${cov:-?}, corpus ${corp:-?}"
	if [ $rc -ne 0 ]; then
		echo "fuzz $n: FAILED (exit $rc), log $log:"
		grep -E 'ERROR|SUMMARY|artifact|Test unit written' "$log" | head -n 20
		failed=1
	fi
done
[ $failed -eq 0 ] && echo "fuzz: all clean" || echo "fuzz: crashes found"
exit $failed
