#!/bin/sh
# Cost of a TLB shootdown: the shootdown payload (guest-payloads/shootdown.c)
# changes a 4 KiB part of a mapping that T other threads are sweeping, OPS
# times per run, by mprotect toggles and by mmap(MAP_FIXED) replacement;
# natively and as `vmm run`, every (op, T, where) once per repetition,
# interleaved. Prints ns per op: median, min, max over RUNS runs and the
# guest/native ratio of the medians; n is the number of runs that gave a
# value (a failed run gives none and makes the exit status 1). T above the
# core count is still valid (the touchers then share cores with the main
# thread, natively and in the guest alike).
#   bench/shootdown.sh [RUNS [OPS [THREADS...]]]   (defaults 7 2000 0 1 2 4)
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-7}
OPS=${2:-2000}
if [ $# -gt 2 ]; then shift 2; else set -- 0 1 2 4; fi
THREADS="$*"
BIN=build/payloads/shootdown.elf
[ -x ./vmm ] || make -s vmm
[ -x "$BIN" ] || make -s "$BIN"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ns() { sed -n 's/.*"ns_per_op":\([0-9.e+-]*\).*/\1/p'; }
fail=0

i=1
while [ "$i" -le "$RUNS" ]; do
	for op in mprotect remap; do
		for t in $THREADS; do
			args="--op $op --threads $t --ops $OPS"
			# shellcheck disable=SC2086
			if $BIN $args >"$tmp/line"; then
				ns <"$tmp/line" >>"$tmp/native-$op-$t"
			else
				fail=1
			fi
			# shellcheck disable=SC2086
			if ./vmm run --no-counters --timeout 120 $BIN $args >"$tmp/line"; then
				ns <"$tmp/line" >>"$tmp/guest-$op-$t"
			else
				fail=1
			fi
		done
	done
	i=$((i + 1))
done

# median min max count of one file of numbers
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - - 0"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f %.0f %.0f %d\n", m, v[1], v[NR], NR }'
}

printf 'TLB shootdown cost, ns per op (4 KiB changed, 2 MiB swept): %s interleaved runs of %s ops\n' \
	"$RUNS" "$OPS"
printf '%-8s %3s | %9s %9s %9s %2s | %9s %9s %9s %2s | %7s\n' op T native min max n \
	guest min max n g/n
for op in mprotect remap; do
	for t in $THREADS; do
		# shellcheck disable=SC2046 # four words by design
		set -- $(stats "$tmp/native-$op-$t")
		nm=$1 nmin=$2 nmax=$3 nn=$4
		# shellcheck disable=SC2046
		set -- $(stats "$tmp/guest-$op-$t")
		gm=$1 gmin=$2 gmax=$3 gn=$4
		ratio=$(awk -v g="$gm" -v n="$nm" 'BEGIN {
			if (g == "-" || n == "-" || n == 0) print "-"; else printf "%.1fx", g / n }')
		printf '%-8s %3s | %9s %9s %9s %2s | %9s %9s %9s %2s | %7s\n' "$op" "$t" "$nm" \
			"$nmin" "$nmax" "$nn" "$gm" "$gmin" "$gmax" "$gn" "$ratio"
	done
done
[ "$fail" = 0 ] || echo "shootdown: some runs failed (n says how many values each row has)" >&2
exit "$fail"
