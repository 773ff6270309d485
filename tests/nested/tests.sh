#!/bin/sh
# vmm's tests on a real KVM for AMD (run by the nested lane's /init inside
# QEMU): $1 is the paging mode asked for (npt or shadow), $2 kvm_amd's npt
# parameter. One "@@ PASS|FAIL MODE NAME" line per test, a failure's output
# as "@@| " lines, and "@@ TABLE ..." lines of per-operation counts. TCG is
# slow: sizes are small, and no time printed here is a performance figure.
MODE=$1
NPT=$2
T=/tmp/t
vmm() { timeout 240 ./vmm "$@"; } # no single run may hang the lane
TP=build/tests/payloads
P=build/payloads

# ---- helpers: each test is a function; a failed expectation returns 1 ----

# r ARGS...: runs ARGS, stdout in $T.out, stderr in $T.err, status in $st.
r() {
	"$@" >$T.out 2>$T.err 3>&-
	st=$?
	echo "$*" >$T.cmd
}
fail() {
	echo "expected: $*"
	echo "command: $(cat $T.cmd)"
	echo "status: $st"
	echo "--- stdout"
	head -c 3000 $T.out
	echo "--- stderr"
	head -c 3000 $T.err
	return 1
}
status() { [ "$st" = "$1" ] || fail "exit status $1"; }
out_is() { [ "$(cat $T.out)" = "$1" ] || fail "stdout '$1'"; }
out_has() { grep -q -- "$1" $T.out || fail "stdout containing '$1'"; }
err_has() { grep -q -- "$1" $T.err || fail "stderr containing '$1'"; }
err_empty() { [ ! -s $T.err ] || fail "empty stderr"; }

# jget SECTION KEY: the first number or string KEY holds after "SECTION":{
# in the --json report $T.json (json-c prints one key per line).
jget() {
	awk -v s="\"$1\":{" -v k="\"$2\":" '
		index($0, s) { on = 1; next }
		on && index($0, k) { v = substr($0, index($0, k) + length(k));
			gsub(/[",]/, "", v); print v; exit }' $T.json
}
# jwant SECTION KEY OP VALUE: a numeric comparison, e.g. jwant kvm_pages pages_2m -gt 0
jwant() {
	v=$(jget "$1" "$2")
	[ -n "$v" ] && test "$v" "$3" "$4" || fail "$1.$2 $3 $4 in the --json report (got '$v')"
}

# Lines a test prints to fd 3 reach the console whether it passes or not.
exec 3>&1
pass=0
failed=0
t() {
	name=$1
	t0=$(date +%s)
	if msg=$("$@" 2>&1); then
		echo "@@ PASS $MODE $name ($(($(date +%s) - t0)) s under TCG)"
		pass=$((pass + 1))
	else
		echo "@@ FAIL $MODE $name"
		printf '%s\n' "$msg" | sed 's/^/@@| /'
		failed=$((failed + 1))
	fi
}

# ---- the tests ----

# The mode vmm detects is the one kvm_amd was loaded with.
info_paging_mode() {
	want=$MODE
	r vmm info
	status 0 || return 1
	grep -q "^Paging: *$want " $T.out || fail "'Paging: $want' for kvm_amd npt=$NPT" || return 1
	echo "@@ INFO $MODE vmm info: $(grep '^Paging:' $T.out)" >&3
	[ "$(cat /sys/module/kvm_amd/parameters/npt)" = "$([ "$NPT" = 1 ] && echo Y || echo N)" ] ||
		fail "kvm_amd npt parameter $NPT"
}

hello() {
	for libc in musl glibc; do
		r vmm run --mem 64M $TP/hello-$libc-static.elf
		status 0 && out_is "hello, world" && err_empty || return 1
	done
	# Guest RAM past 4 GiB (where Intel's KVM keeps its real-mode TSS).
	r vmm run --mem 6G $TP/hello-musl-static.elf
	status 0 && out_is "hello, world"
}

exit_statuses() {
	for libc in musl glibc; do
		r vmm run --mem 64M $TP/exit42-$libc-static.elf
		status 42 || return 1
	done
	r vmm run --mem 64M /nonexistent.elf
	status 127 || return 1
	r vmm run --mem 64M --bogus $TP/hello-musl-static.elf
	status 125
}

# signal PAYLOAD STATUS TEXT: killed like Linux would, with a report.
signal() {
	r vmm run --mem 64M "$TP/$1"
	status "$2" && err_has "$3" && err_has "rip "
}
fault_reports() {
	signal nullwrite-musl-static.elf 139 SIGSEGV &&
		signal nullwrite-glibc-static.elf 139 "page walk of 0x0" &&
		signal nullwrite-glibc-static.elf 139 "write of 0x0: page not present" &&
		signal ud2-musl-static.elf 132 "invalid opcode" &&
		signal div0-musl-static.elf 136 "divide error" &&
		signal int3-musl-static.elf 133 "breakpoint" &&
		signal rowrite-glibc-static.elf 139 "protection violation" &&
		signal nxexec-glibc-static.elf 139 "instruction fetch" &&
		signal protnone-musl-static.elf 139 "page walk" && out_is reserved
}

timeouts() {
	r vmm run --mem 64M --timeout 1 $TP/spin-musl-static.elf
	status 124 && err_has timeout || return 1
	# Expiring while the guest applies page-table batches.
	r vmm run --mem 64M --timeout 1 $P/ptchurn.elf --max 2M --iters 1000000
	status 124
}

# Same output as the payload run natively on this (nested) Linux.
like_native() {
	"$@" >$T.native 2>&1 3>&-
	nst=$?
	r vmm run "$@"
	[ "$st" = "$nst" ] || fail "status $nst as natively" || return 1
	cmp -s $T.out $T.native || fail "stdout as natively: $(cat $T.native)"
}
memtest() {
	like_native $TP/memtest-glibc-static.elf &&
		like_native $TP/memtest-musl-static.elf &&
		like_native $TP/memtest-glibc-static-pie.elf
}

sysfuzz() {
	for libc in glibc musl; do
		r vmm run --mem 256M $TP/sysfuzz-$libc-static.elf 4000
		status 0 && out_has "sysfuzz: survived" || return 1
	done
}

# smoke NAME ARGS...: a stress payload runs in the guest and prints JSON
# lines of its own name only.
smoke() {
	name=$1
	shift
	r vmm run --mem 256M "$P/$name.elf" "$@"
	status 0 || return 1
	[ -s $T.out ] || fail "JSON lines on stdout" || return 1
	want=${name%-musl}
	want=${want%-2m}
	if grep -v "^{\"payload\":\"$want\"," $T.out | grep -q .; then
		fail "only {\"payload\":\"$want\",...} lines"
	fi
}
stress_smoke() {
	smoke tlb-sweep --min 4K --max 32K --ops 1000 &&
		smoke tlb-sweep-musl --min 4K --max 4M --ops 500 --layout page --pattern rand --pages 2m &&
		smoke chase --min 4K --max 64K --ops 1000 &&
		smoke gups --size 1M --updates 1000 --verify && out_has '"verify":"ok"' &&
		smoke itlb --min 1 --max 16 --ops 1000 --order rand &&
		smoke itlb-2m --min 4096 --max 4096 --ops 200 --pages 2m &&
		smoke ptchurn-musl --min 4K --max 16K --iters 5 &&
		smoke ptsparse --count 16 --ops 1000 &&
		smoke tlb-prefetch --min 64K --max 128K --ops 1000
}

# A permission upgrade (mprotect RO -> RW) is not flushed, as in Linux: a
# stale read-only TLB entry may fault once on the next write, and vmm
# resumes. Shadow paging absorbs these in KVM, so there they must be 0.
spurious_pf() {
	n=200
	r vmm run --mem 64M --json $T.json $TP/protupgrade-glibc-static.elf $n
	status 0 && out_is "protupgrade: $n upgrades, all writes seen" || return 1
	jwant run spurious_page_faults -le $n || return 1
	if [ "$MODE" = shadow ]; then
		jwant run spurious_page_faults -eq 0 || return 1
	fi
	echo "@@ INFO $MODE spurious_page_faults $(jget run spurious_page_faults) of $n upgrades" >&3
}

# Proof from KVM's own statistics: large pages in the NPT or shadow tables.
pages_2m() {
	for backing in hugetlb-2m thp; do
		r vmm run --mem 256M --backing $backing --guest-pages 2m --json $T.json \
			$TP/touch256-musl-static.elf 32
		status 0 && out_has "touched 32 MiB" && jwant kvm_pages pages_2m -gt 0 || return 1
		echo "@@ INFO $MODE --backing $backing --guest-pages 2m: pages_2m $(jget kvm_pages pages_2m)" >&3
	done
}
pages_1g() {
	r vmm run --mem 2G --backing hugetlb-1g --guest-pages 1g --json $T.json \
		$TP/touch256-musl-static.elf 1100
	status 0 && out_has "touched 1100 MiB" || return 1
	jwant guest_tables 1g -gt 0 && jwant kvm_pages pages_1g -gt 0 || return 1
	echo "@@ INFO $MODE --backing hugetlb-1g --guest-pages 1g: guest 1G leaves $(jget guest_tables 1g), pages_1g $(jget kvm_pages pages_1g)" >&3
}

# Every policy leaves the payload's view as natively and counts its own
# kind (an mprotect of 64 MiB is above auto's 33-page limit).
tlb_flush() {
	$TP/bigprot-musl-static.elf >$T.native 3>&-
	for pol in auto full page; do
		r vmm run --mem 256M --tlb-flush $pol --json $T.json $TP/bigprot-musl-static.elf
		status 0 || return 1
		cmp -s $T.out $T.native || fail "stdout as natively: $(cat $T.native)" || return 1
		case $pol in
		auto) jwant tlb_invalidations full_flushes -gt 0 ;;
		full) jwant tlb_invalidations full_flushes -gt 0 && jwant tlb_invalidations single_page -eq 0 ;;
		page) jwant tlb_invalidations full_flushes -eq 0 && jwant tlb_invalidations single_page -ge 16384 ;;
		esac || return 1
	done
}

# The counted shadow-paging claim: per mprotect and per mmap+touch+munmap
# of one page, KVM exits and MMU work. Counts only; the lane prints the table.
CHURN_EVENTS=kvm-vcpu-stat:exits,kvm-stat:mmu_pte_write,kvm-vcpu-stat:pf_taken,kvm-vcpu-stat:pf_fixed,kvm-vcpu-stat:pf_emulate,kvm-vcpu-stat:pf_spurious,kvm-vcpu-stat:pf_guest,kvm-vcpu-stat:invlpg
churn_counts() {
	r vmm run --mem 64M -x , -e $CHURN_EVENTS $P/ptchurn.elf --min 4K --max 4K --iters 40
	status 0 || return 1
	awk -F, -v m="$MODE" -f ./churn.awk $T.out $T.err >$T.table
	[ "$(wc -l <$T.table)" -eq 16 ] || fail "16 table rows (8 counters x 2 regions)" || return 1
	cat $T.table >&3
	# Shadow paging write-protects the guest's tables (a guest store into
	# one is a KVM write fault, counted by mmu_pte_write; KVM may leave leaf
	# tables unsynced and resync at invlpg instead, so the mprotect region
	# alone may show none); with NPT the guest writes them freely.
	w=$(awk '$5 == "kvm-stat:mmu_pte_write" { s += $6 } END { print s + 0 }' $T.table)
	if [ "$MODE" = npt ]; then [ "$w" = 0 ]; else [ "$w" -gt 0 ]; fi ||
		fail "mmu_pte_write over both regions: 0 under npt, > 0 under shadow (got $w)"
}

# vmm's own end-to-end suites as they run on the host, whole (not
# test_sanitized: ASan under TCG is too slow). Their Check line is shown.
e2e() {
	bin=build/tests/e2e/$1
	[ -x "$bin" ] || fail "$bin in the initramfs (make check builds it)" || return 1
	CK_TIMEOUT_MULTIPLIER=5 timeout 900 "$bin" >$T.out 2>&1 3>&-
	st=$?
	echo "@@ INFO $MODE $1: $(grep -E '^[0-9]+%: Checks' $T.out)" >&3
	[ $st = 0 ] || { grep -v 'vmm: warning' $T.out | head -n 60; return 1; }
}
e2e_run() { e2e test_run; }
e2e_memory() { e2e test_memory; }
e2e_payloads() { e2e test_payloads; }
e2e_counters() { e2e test_counters; }

# ---- the multi-vCPU tests: threads on several vCPUs of a real KVM ----
# They need 2 or more CPUs in this guest (the lane boots a -smp 2 guest for
# them alone, nested_tests=multi on its command line).

# same_as_native NAME ARGS...: NAME-LIBC-static.elf natively in this guest
# and under vmm, glibc and musl: the same stdout and exit status.
same_as_native() {
	name=$1
	shift
	for libc in glibc musl; do
		timeout 240 $TP/$name-$libc-static.elf "$@" >$T.native 2>/dev/null
		nst=$?
		r vmm run --mem 256M --json $T.json $TP/$name-$libc-static.elf "$@"
		[ "$st" = "$nst" ] || fail "exit status $nst as natively" || return 1
		cmp -s $T.out $T.native || fail "stdout as natively: $(head -c 500 $T.native)" ||
			return 1
	done
}

# The shootdown correctness test: after the flag, the other vCPU must see
# the replaced pages (remap) or fault (protect); vmm's report must count
# shootdowns, so the test did cross vCPUs.
shootdown_threads() {
	for how in remap protect; do
		same_as_native pthread_shootdown $how 50 || return 1
		status 0 || return 1
		jwant shootdowns count -gt 0 || return 1
	done
}

# Mutexes, condition variables, barriers, once, on two vCPUs.
threads_sync() {
	same_as_native pthread_sync && status 0
}

# A worker's fault ends the process with 139 from the other vCPU too.
threads_fault() {
	same_as_native pthread_die segv && status 139
}

CPUS=$(grep -c ^processor /proc/cpuinfo)
MULTI_VCPU_TESTS="shootdown_threads threads_sync threads_fault"
TESTS="info_paging_mode hello exit_statuses fault_reports timeouts memtest sysfuzz
	stress_smoke spurious_pf pages_2m pages_1g tlb_flush churn_counts
	e2e_run e2e_memory e2e_payloads e2e_counters"
# nested_tests=multi: the -smp 2 boot runs the multi-vCPU tests alone.
grep -q 'nested_tests=multi' /proc/cmdline && TESTS=""

echo "@@ START $MODE $(uname -r) $CPUS cpus"
for test in $TESTS; do
	t $test
done
[ -z "$TESTS" ] || [ "$CPUS" -ge 2 ] || MULTI_VCPU_TESTS="" # the -smp 1 boot: not here
for test in $MULTI_VCPU_TESTS; do
	if [ "$CPUS" -ge 2 ]; then t "$test"; else echo "@@ INFO $MODE $test: skipped, $CPUS cpu"; fi
done
echo "@@ DONE $MODE $pass passed, $failed failed"
