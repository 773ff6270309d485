#!/usr/bin/env bash
# The main job (`make run`): the classic TLB experiment, tlb-sweep, natively
# and as the only process of a guest, each with 4 KiB and 2 MiB pages, then a
# table of ns per access per working set with the guest/native ratios.
# Without a working ./vmm it says so, still prints the native table, and
# exits 1.
set -uo pipefail
cd "$(dirname "$0")/.."

out=build/main-job
reps=${MAIN_JOB_REPS:-3}
rm -rf "$out"
mkdir -p "$out"

echo "main-job: tlb-sweep, runs per environment: $reps (payload: build/payloads/tlb-sweep.elf)"
echo "main-job: native: --pages 4k and --pages 2m (madvise(MADV_HUGEPAGE))"
bench/run.sh -n "$reps" -o "$out/native" -s bench/suites/main.txt -e "native-4k native-2m"
native_rc=$?

guest_rc=0 guest_msg=""
if [ ! -x ./vmm ]; then
	guest_msg="./vmm is not built, so there are no guest runs (build it with make)"
	guest_rc=1
else
	echo "main-job: guest: ./vmm run --guest-pages 4k --backing anon, and --guest-pages 2m --backing thp"
	bench/run.sh -n "$reps" -o "$out/guest" -m 512M -s bench/suites/main.txt \
		-e "guest-4k guest-2m"
	guest_rc=$?
	guest_msg="guest runs FAILED: see $out/guest/logs/*.err"
fi
[ $guest_rc -ne 0 ] && echo "main-job: $guest_msg" >&2
cat "$out"/native/results.jsonl "$out"/guest/results.jsonl >"$out/results.jsonl" 2>/dev/null

echo
cols=native-4k,native-2m,guest-4k,guest-2m
bench/report.py table "$out/results.jsonl" --envs $cols --where layout=page --where pattern=rand \
	--title "ns per access: one element per 4 KiB page, random order (TLB reach)"
echo
bench/report.py table "$out/results.jsonl" --envs $cols --where layout=dense --where pattern=rand \
	--title "ns per access: elements packed, random order (caches and TLB)"
echo
echo "main-job: all measurements: $out/results.jsonl (bench/report.py ratios $out/results.jsonl)"

# Said again at the end, where it is seen.
[ $native_rc -ne 0 ] && echo "main-job: native runs FAILED: see $out/native/logs/*.err" >&2
[ $guest_rc -ne 0 ] && echo "main-job: $guest_msg" >&2
[ $native_rc -eq 0 ] && [ $guest_rc -eq 0 ]
