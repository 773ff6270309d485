#!/bin/sh
# Per-call cost of clock_gettime(CLOCK_MONOTONIC), native against the guest
# (the vDSO answers from the TSC), glibc and musl, in interleaved runs:
# median, min and max over RUNS runs of CALLS calls each, and the
# guest/native ratio of the medians. With SYSCALL_CALLS > 0 each run also
# times the guest without a vDSO (--vdso off: one exit per call).
#   bench/clock.sh [RUNS [CALLS [SYSCALL_CALLS]]]    (defaults 10 1000000 2000)
# Standalone: builds its payload from bench/clock.c into build/bench/.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-10}
CALLS=${2:-1000000}
SYSCALL_CALLS=${3:-2000}
OUT=build/bench
mkdir -p "$OUT"
[ -x ./vmm ] || make -s vmm
for libc in glibc musl; do
	bin="$OUT/clock-$libc.elf"
	cc=gcc
	[ "$libc" = musl ] && cc=musl-gcc
	if [ ! -x "$bin" ] || [ bench/clock.c -nt "$bin" ]; then
		$cc -O2 -static -o "$bin" bench/clock.c
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ns() { sed -n 's/^ns_per_call //p'; }

i=1
while [ "$i" -le "$RUNS" ]; do
	for libc in glibc musl; do
		bin="$OUT/clock-$libc.elf"
		"$bin" "$CALLS" | ns >>"$tmp/native-$libc"
		./vmm run --no-counters "$bin" "$CALLS" | ns >>"$tmp/guest-$libc"
		if [ "$SYSCALL_CALLS" -gt 0 ]; then
			./vmm run --no-counters --vdso off "$bin" "$SYSCALL_CALLS" | ns \
				>>"$tmp/noVDSO-$libc"
		fi
	done
	i=$((i + 1))
done

# median min max of one file of numbers
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f %d\n", m, v[1], v[NR], NR }'
}

printf 'clock_gettime(CLOCK_MONOTONIC), ns per call: %s interleaved runs of %s calls\n' \
	"$RUNS" "$CALLS"
printf '%-6s %-7s %10s %10s %10s %5s\n' libc where median min max runs
for libc in glibc musl; do
	for where in native guest noVDSO; do
		f="$tmp/$where-$libc"
		[ -s "$f" ] || continue
		set -- $(stats "$f")
		printf '%-6s %-7s %10s %10s %10s %5s\n' "$libc" "$where" "$1" "$2" "$3" "$4"
		eval "med_$where=$1"
	done
	awk -v g="$med_guest" -v n="$med_native" -v l="$libc" \
		'BEGIN { printf "%-6s guest/native %.2fx\n", l, g / n }'
done
[ "$SYSCALL_CALLS" -gt 0 ] &&
	echo "(noVDSO: the guest with --vdso off, $SYSCALL_CALLS calls per run: an exit per call)"
exit 0
