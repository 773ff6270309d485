#!/usr/bin/env bash
# Runs payloads natively and in the guest and stores their JSON lines, each
# tagged with "job", "env" and "rep", in OUTDIR/results.jsonl (default
# bench/results/<date-time>/). bench/report.py turns that into tables,
# guest/native ratios, baseline comparisons and plots.
#
# usage: bench/run.sh [-n REPS] [-o OUTDIR] [-e "ENV..."] [-m MEM] [-s SUITE] [JOB...]
#   SUITE  file of lines "JOB PAYLOAD ARGS..." (default bench/suites/default.txt);
#          JOB arguments pick lines from it (default: all)
#   ENV    native-4k native-2m guest-4k guest-2m (default: all four):
#          native-P runs build/payloads/PAYLOAD.elf --pages P; guest-4k runs it
#          under ./vmm run --guest-pages 4k --backing anon, guest-2m under
#          --guest-pages 2m --backing thp, each with --mem MEM (default 1G) and
#          --timeout $BENCH_TIMEOUT (default 300 s)
# Exit status: 0 when every run succeeded, 1 otherwise (the others still run).
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }

reps=3 out="" envs="native-4k native-2m guest-4k guest-2m" mem=1G suite=bench/suites/default.txt
timeout=${BENCH_TIMEOUT:-300} # seconds per guest run: a hung guest must not hang the bench
while getopts "n:o:e:m:s:h" opt; do
	case $opt in
	n) reps=$OPTARG ;;
	o) out=$OPTARG ;;
	e) envs=$OPTARG ;;
	m) mem=$OPTARG ;;
	s) suite=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "bench: -n $reps: need a positive count" >&2; exit 2; }
[ -r "$suite" ] || { echo "bench: suite $suite: not readable" >&2; exit 2; }
out=${out:-bench/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/logs" || exit 2
: >"$out/results.jsonl"

# The command line of one environment, in the array `cmd`.
env_cmd() {
	local env=$1 elf=$2
	case $env in
	native-4k) cmd=("$elf" --pages 4k) ;;
	native-2m) cmd=("$elf" --pages 2m) ;;
	guest-4k) cmd=(./vmm run --mem "$mem" --timeout "$timeout" --guest-pages 4k --backing anon
		"$elf" --pages 4k) ;;
	guest-2m) cmd=(./vmm run --mem "$mem" --timeout "$timeout" --guest-pages 2m --backing thp
		"$elf" --pages 2m) ;;
	*) echo "bench: unknown environment '$env'" >&2; return 1 ;;
	esac
}

failed=0 vmm_note=0
while read -r job payload args; do
	[[ -z ${job:-} || $job == \#* ]] && continue
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx -- "$job"; then continue; fi
	elf=build/payloads/$payload.elf
	if [ ! -x "$elf" ]; then
		echo "bench: $elf not built (make payloads)" >&2; failed=1; continue
	fi
	read -r -a extra <<<"$args"
	for env in $envs; do
		if [[ $env == guest-* && ! -x ./vmm ]]; then
			[ $vmm_note -eq 0 ] && echo "bench: ./vmm is not built: guest runs fail (run make)" >&2
			vmm_note=1 failed=1; continue
		fi
		env_cmd "$env" "$elf" || { failed=1; continue; }
		for rep in $(seq 1 "$reps"); do
			log=$out/logs/$job.$env.$rep
			printf 'bench: %-14s %-10s rep %s ... ' "$job" "$env" "$rep" >&2
			start=$(date +%s%N)
			"${cmd[@]}" "${extra[@]}" >"$log.out" 2>"$log.err" </dev/null
			rc=$?
			ms=$((($(date +%s%N) - start) / 1000000))
			if [ $rc -ne 0 ]; then
				echo "FAILED (exit $rc, ${ms} ms): $(tail -n 1 "$log.err")" >&2
				failed=1; continue
			fi
			echo "ok (${ms} ms)" >&2
			# Tag each measurement; other lines (the VMM's report) stay in the log.
			grep '^{"payload":' "$log.out" |
				sed "s/^{/{\"job\":\"$job\",\"env\":\"$env\",\"rep\":$rep,/" >>"$out/results.jsonl"
		done
	done
done <"$suite"
echo "bench: results in $out/results.jsonl" >&2
exit $failed
