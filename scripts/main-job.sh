#!/usr/bin/env bash
# The main job (`make run`): the classic TLB experiment, tlb-sweep, natively
# and as the only process of a guest, each with 4 KiB and 2 MiB pages, run
# by bench/run (profile main): every environment a fresh process, shuffled
# in each of MAIN_JOB_REPS (default 7) repetitions, each point measured 3
# times inside its process. Prints per working set the median ns per access
# with its 95% interval, the guest/native and 4k/2m ratios with theirs, and
# marks what is unstable; then compares with the previous `make run`.
# Without a working ./vmm it says so, still prints the native table, and
# exits 1.
set -uo pipefail
cd "$(dirname "$0")/.."

root=build/main-job
prev=$(readlink -f "$root/latest" 2>/dev/null || true)
out=$root/$(date +%Y%m%d-%H%M%S)
mkdir -p "$root"

echo "main-job: tlb-sweep (build/payloads/tlb-sweep.elf), one element per 4 KiB page"
echo "main-job: (page) or packed (dense), random order; natively (--pages 4k, 2m) and under"
echo "main-job: ./vmm run --guest-pages 4k --backing anon / --guest-pages 2m --backing thp"
reps=()
[ -n "${MAIN_JOB_REPS:-}" ] && reps=(-n "$MAIN_JOB_REPS")
bench/run --profile main "${reps[@]}" -o "$out"
rc=$?
[ -f "$out/results.jsonl" ] && ln -sfn "$(basename "$out")" "$root/latest"

if [ -n "$prev" ] && [ -f "$prev/results.jsonl" ] && [ -f "$out/results.jsonl" ]; then
	echo
	echo "main-job: against the previous make run ($prev):"
	bench/compare "$prev" "$out" | grep -E '^compare: [0-9]+ (points|guest/native)|^compare: REGRESSED|^ratios:'
fi
echo
echo "main-job: results, provenance, vmm reports and figures in $out (also $root/latest)"
echo "main-job: figures: $out/plots/*-tlb.svg (ns per access), *-ratio.svg (guest/native)"
exit $rc
