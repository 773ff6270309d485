#!/usr/bin/env bash
# make check-nested: vmm's tests on a real KVM for AMD inside QEMU's TCG
# emulator, once with nested paging (kvm_amd npt=1) and once with shadow
# paging on SVM (npt=0). Boots both at once, reads the results from the
# serial consoles, prints one "nested-MODE: N passed, N failed" line per
# mode, each failure's output, the per-operation count table (with this
# host's own KVM as a third column), and a Check-style summary line that
# scripts/run-tests.sh adds to the suite's total. SKIP, exit 0, where the
# lane cannot run. NESTED_TIMEOUT bounds each boot (seconds).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

OUT=build/nested
BOOT_TIMEOUT=${NESTED_TIMEOUT:-420}
MODES=(npt shadow)

start=$(date +%s)
timeout -k 10 600 scripts/nested/build.sh
rc=$?
[ $rc -eq 3 ] && exit 0 # SKIP printed
[ $rc -ne 0 ] && { echo "nested: build failed"; echo "100%: Checks: 1, Failures: 1, Errors: 0"; exit 1; }

# The guest: 2 MiB and 1 GiB hugetlb pools reserved at boot (the 1 GiB run
# needs 2 GiB of backing for --mem 2G), room beside them for the rest; no
# crypto self-tests. One vCPU by default: with -smp 2 the emulated kernel
# locked up now and then on this loaded 2-core host (soft lockups on both
# vCPUs, in boot's crypto self-tests and once in a THP run under shadow
# paging). NESTED_SMP is the hook for the multi-vCPU tests to come; the
# tests see it as $NESTED_SMP too (nested_smp= on the kernel command line).
#
# The multi-vCPU tests (threads, TLB shootdowns across vCPUs) then run in a
# second, short boot per mode with -smp 2 and `nested_tests=multi` (the
# tests pick only those), unless NESTED_MULTI=0 (NESTED_MULTI=only: those
# boots alone, for working on them). That boot uses
# single-threaded TCG (thread=single): both vCPUs are emulated round-robin
# by one host thread. With the default multi-threaded TCG each vCPU is a
# host thread, and on a loaded 2-core host one vCPU thread could be
# descheduled for seconds while the other waited for it (the guest
# kernel's IPIs, its TLB shootdowns, RCU): the soft lockups seen before.
# Round-robin keeps the vCPUs in step, and the two modes' boots together
# need only the host's two cores.
SMP=${NESTED_SMP:-1}
MULTI=${NESTED_MULTI:-1}
MULTI_TIMEOUT=${NESTED_MULTI_TIMEOUT:-360}
qemu_args() { # SMP ACCEL
	echo -accel "$2" -cpu max -smp "$1" -m 4608 -nographic -no-reboot \
		-kernel "$OUT/kernel/current/vmlinuz" -initrd "$OUT/initramfs.cpio"
}
cmdline() { # MODE SMP EXTRA
	echo "console=ttyS0 quiet panic=-1 cryptomgr.notests hugepagesz=2M hugepages=200" \
		"hugepagesz=1G hugepages=2 nested_mode=$1 nested_smp=$2 $3"
}

# A boot that has not reached the tests after START_LIMIT seconds (15-20 s
# normally) is tried once more; the tests themselves are bounded by
# BOOT_TIMEOUT.
START_LIMIT=150
# boot MODE [LOG SMP ACCEL TIMEOUT EXTRA_CMDLINE]
boot() {
	local mode=$1 log=${2:-$1} smp=${3:-$SMP} accel=${4:-tcg} limit=${5:-$BOOT_TIMEOUT}
	local extra=${6:-} try pid t
	log=$OUT/$log.log
	: >"$log"
	for try in 1 2; do
		# shellcheck disable=SC2046 # the paths have no spaces
		timeout -k 10 "$limit" qemu-system-x86_64 $(qemu_args "$smp" "$accel") \
			-append "$(cmdline "$mode" "$smp" "$extra")" </dev/null >>"$log" 2>&1 &
		pid=$! # timeout(1) passes our kill on to QEMU
		for ((t = 0; t < START_LIMIT; t += 2)); do
			grep -q "@@ START" "$log" 2>/dev/null && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 2
		done
		if grep -q "@@ START" "$log" || [ $try = 2 ]; then
			wait "$pid"
			echo "qemu exit status $?" >>"$log"
			return
		fi
		kill "$pid" 2>/dev/null
		wait "$pid"
		echo "@@ RETRY $mode: no test started within $START_LIMIT s of boot (try $try)" >>"$log"
	done
}

pids=()
LOGS=()
for m in "${MODES[@]}"; do
	[ "$MULTI" = only ] && break # NESTED_MULTI=only: the -smp 2 boots alone
	boot "$m" &
	pids+=($!)
	LOGS+=("$m")
done

# Meanwhile, the same churn on this host's own KVM (PVM here), for the table.
host_col=""
rm -f "$OUT/host.table"
if [ "$MULTI" != only ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	ev=$(sed -n 's/^CHURN_EVENTS=//p' tests/nested/tests.sh)
	hmode=$(./vmm info --json 2>/dev/null | sed -n 's/.*"mode":"\([^"]*\)".*/\1/p' | head -n 1)
	if ./vmm run --mem 64M --timeout 120 -x , -e "$ev" build/payloads/ptchurn.elf --min 4K \
		--max 4K --iters 40 >"$OUT/host.out" 2>"$OUT/host.err"; then
		host_col=${hmode:-host}
		awk -F, -v m="$host_col" -f tests/nested/churn.awk "$OUT/host.out" "$OUT/host.err" \
			>"$OUT/host.table"
	else
		echo "nested: the churn on this host's KVM failed (no third column):"
		tail -n 5 "$OUT/host.err"
	fi
fi

for p in "${pids[@]}"; do wait "$p"; done

# The multi-vCPU boots, both modes at once (see MULTI above).
if [ "$MULTI" != 0 ]; then
	pids=()
	for m in "${MODES[@]}"; do
		boot "$m" "$m-smp2" 2 tcg,thread=single "$MULTI_TIMEOUT" nested_tests=multi &
		pids+=($!)
		LOGS+=("$m-smp2")
	done
	for p in "${pids[@]}"; do wait "$p"; done
fi

total_pass=0 total_fail=0
for name in "${LOGS[@]}"; do
	m=${name%-smp2}
	log=$OUT/$name.log
	tr -d '\r' <"$log" >"$log.txt"
	p=$(grep -c "^@@ PASS $m " "$log.txt")
	f=$(grep -c "^@@ FAIL $m " "$log.txt")
	if ! grep -q "^@@ DONE $m " "$log.txt"; then
		# Setup failed, or the boot died or timed out: say so, show the tail.
		f=$((f + 1))
		echo "nested-$name: did not finish (see $log); its last lines:"
		grep -v '^@@ PASS' "$log.txt" | tail -n 25 | sed 's/^/  | /'
	fi
	echo "nested-$name: passed: $(sed -n "s/^@@ PASS $m \([a-z0-9_]*\).*/\1/p" "$log.txt" | tr '\n' ' ')"
	grep -E "^@@ (FAIL|INFO|SETUP-FAIL|RETRY)|^@@\| " "$log.txt" | sed 's/^@@ //; s/^@@| /    /'
	echo "nested-$name: $p passed, $f failed"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
done

# The table: one row per (operation, counter), per-operation counts per mode.
{
	cat "$OUT/host.table" 2>/dev/null
	for m in "${MODES[@]}"; do grep -s "^@@ TABLE $m " "$OUT/$m.log.txt"; done
} | awk -v modes="npt shadow $host_col" '
	{ k = $4 " " $5; v[k, $3] = $6 / $7; if (!(k in seen)) { seen[k] = 1; keys[n++] = k } }
	END {
		if (n == 0) exit
		nm = split(modes, ms, " ")
		print "nested: KVM work per operation (ptchurn, one 4 KiB page; counts, not times)"
		printf "  %-16s %-26s", "operation", "counter"
		for (i = 1; i <= nm; i++) printf " %10s", ms[i]
		printf "\n"
		for (j = 0; j < n; j++) {
			split(keys[j], kk, " ")
			printf "  %-16s %-26s", kk[1], kk[2]
			for (i = 1; i <= nm; i++)
				if ((keys[j], ms[i]) in v) printf " %10.2f", v[keys[j], ms[i]]
				else printf " %10s", "-"
			printf "\n"
		}
	}'

echo "nested: lane took $(($(date +%s) - start)) s (TCG emulation: not a performance figure)"
pct=100
[ $((total_pass + total_fail)) -gt 0 ] && pct=$((100 * total_pass / (total_pass + total_fail)))
echo "$pct%: Checks: $((total_pass + total_fail)), Failures: $total_fail, Errors: 0"
[ "$total_fail" -eq 0 ]
