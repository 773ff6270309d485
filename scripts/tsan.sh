#!/bin/sh
# vmm itself under ThreadSanitizer: builds build/tsan/vmm (clang
# -fsanitize=thread) and runs it over the threaded test payloads (glibc and
# musl) and the threaded stress payloads; prints each distinct report once
# (kind and the two top frames) with how often it came, and keeps the full
# reports in build/tsan/logs/. Exit 0 when no report came, 1 otherwise.
# --no-seccomp: TSan itself opens its log and reads /proc, which vmm's
# filter forbids.
#   scripts/tsan.sh
set -eu
cd "$(dirname "$0")/.."
make -s -j2 build/tsan/vmm test-payloads build/payloads/gups.elf build/payloads/shootdown.elf \
	>/dev/null
LOGS=build/tsan/logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
# report_signal_unsafe=0: vmm's kick handler only stores a flag.
export TSAN_OPTIONS="halt_on_error=0 exitcode=0 report_signal_unsafe=0 log_path=$PWD/$LOGS/tsan"

runs=0 bad_runs=0
run() {
	want=$1
	shift
	runs=$((runs + 1))
	set +e
	timeout 300 build/tsan/vmm run --no-seccomp --timeout 120 "$@" >/dev/null 2>>"$LOGS/stderr"
	st=$?
	set -e
	if [ "$st" != "$want" ]; then
		echo "tsan: status $st, want $want: vmm run $*" >&2
		bad_runs=$((bad_runs + 1))
	fi
}

for libc in glibc musl; do
	p=build/tests/payloads
	run 0 "$p/pthread_sync-$libc-static.elf"
	run 0 "$p/pthread_tls-$libc-static.elf"
	run 0 "$p/pthread_life-$libc-static.elf"
	run 0 "$p/pthread_many-$libc-static.elf" 200 16
	run 139 "$p/pthread_die-$libc-static.elf" segv
	run 134 "$p/pthread_die-$libc-static.elf" abort
	run 7 "$p/pthread_die-$libc-static.elf" exit 7
	run 0 "$p/pthread_shootdown-$libc-static.elf" both 100
	run 0 "$p/thr_basic-$libc-static.elf" pipe
	run 0 "$p/pthread_pi-$libc-static.elf"
done
run 0 build/payloads/gups.elf --threads 2 --size 4M --updates 200K --verify
run 0 build/payloads/shootdown.elf --threads 2 --ops 200
run 0 build/payloads/shootdown.elf --threads 1 --ops 200 --op remap

# One line per distinct report: its kind and the first frame of each stack.
cat "$LOGS"/tsan.* 2>/dev/null | awk '
	/^WARNING: ThreadSanitizer:/ { sub(/ \(pid=.*/, ""); kind = $0; sub(/^WARNING: ThreadSanitizer: /, "", kind); n = 0; next }
	kind != "" && /^    #0 / { f[n++] = $2 " " $3; if (n == 2 || kind !~ /race/) {
		sub(/ .*\/src\//, " src/", f[0]); sub(/ .*\/src\//, " src/", f[1]);
		key = kind ": " f[0] (n == 2 ? " <-> " f[1] : ""); count[key]++; kind = "" } }
	END { for (k in count) printf "%4d  %s\n", count[k], k }' | sort -rn >"$LOGS/summary"
reports=$(cat "$LOGS"/tsan.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer' || true)
echo "tsan: $runs runs of build/tsan/vmm, $bad_runs with an unexpected status, $reports reports"
[ -s "$LOGS/summary" ] && { echo "distinct reports (count, kind, top frames):"; cat "$LOGS/summary"; }
[ "$reports" = 0 ] && [ "$bad_runs" = 0 ]
