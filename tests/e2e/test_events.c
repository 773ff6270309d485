/* -e end to end: names that exist nowhere, of every kind, stop vmm before
 * the payload runs (125, with close matches); lists add up over -e; groups
 * and hardware events a PMU-less host lacks are "not supported", not
 * errors; vmm:page-faults counts the payload's own faults. Also the
 * conventions: --timeout suffixes, PATH lookup, 32-bit ELF messages. */
#include "e2e.h"

#define HELLO TPAY_DIR "hello-glibc-static.elf"

/* vmm refused -e LIST before running the payload (hello prints nothing). */
static void expect_refused(const char *list, const char *msg)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", "-e", list, HELLO, NULL);
	ck_assert_msg(r.status == 125, "-e %s: exit %d: %s", list, r.status, r.err);
	ck_assert_msg(!strstr(r.out, "hello"), "-e %s: the payload ran", list);
	ck_assert_msg(strstr(r.err, msg), "-e %s: want \"%s\" in: %s", list, msg, r.err);
	e2e_free(&r);
}

START_TEST(unknown_names_of_every_kind_fail_early)
{
	expect_refused("cyclez", "events: cyclez: unknown event (close matches: cycles;");
	expect_refused("kvm-stat:pages2m", "events: kvm-stat:pages2m: no KVM VM statistic "
					   "pages2m on this kernel (close matches: "
					   "kvm-stat:pages_2m;");
	expect_refused("kvm-stat:bogus", "events: kvm-stat:bogus: no KVM VM statistic bogus");
	expect_refused("kvm-vcpu-stat:exit", "close matches: kvm-vcpu-stat:exits");
	expect_refused("pfm:bogus", "events: pfm:bogus: no libpfm4 event bogus in any of its "
				    "tables");
	expect_refused("pfm:DTLB_LOAD_MISES", "close matches: DTLB_LOAD_MISSES");
	expect_refused("vmm:pagefaults", "close matches: vmm:page-faults");
	expect_refused("cpu/evnt=1/", "no term 'evnt'");
	expect_refused("{cycles,instructions", "events: a {...} group without its '}'");
	expect_refused("", "config: -e '': empty event list");
	expect_refused("task-clock,", "events: empty name in \"task-clock,\"");
	if (access("/sys/kernel/tracing/events/kvm", F_OK) == 0) {
		expect_refused("kvm:nope", "events: kvm:nope: no tracepoint nope in kvm");
		expect_refused("kvm:kvm_exti", "kvm_exit; `ls ");
		expect_refused("kvmx:kvm_exit", "no tracepoint system kvmx (close matches: kvm");
	} else {
		printf("SKIP: tracepoint names: no /sys/kernel/tracing/events/kvm\n");
	}
}
END_TEST

/* -e task-clock -e page-faults counts both, as perf stat does. */
START_TEST(lists_add_up)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", "-e", "task-clock", "-e", "page-faults", "-e",
		"{vmm:exits,vmm:syscalls}", HELLO, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.err, " task-clock ") && strstr(r.err, " page-faults ") &&
			  strstr(r.err, " vmm:exits ") && strstr(r.err, " vmm:syscalls "),
		      "%s", r.err);
	e2e_free(&r);
}
END_TEST

/* Known names the host cannot count run the payload: <not supported>. */
START_TEST(known_but_unsupported_is_not_an_error)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", "-e",
		"{cycles:G,instructions:G},r01c2,pfm:skl::DTLB_LOAD_MISSES:WALK_ACTIVE,page-faults",
		HELLO, NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert(strstr(r.out, "hello, world"));
	ck_assert(strstr(r.err, " page-faults "));
	e2e_free(&r);
}
END_TEST

/* The signals payload takes exactly three #PFs that vmm turns into SIGSEGV
 * (a NULL write, a read-only write, one a handler fixes). */
START_TEST(payload_page_faults_counted)
{
	struct run_result r;
	char path[sizeof(E2E_JSON_TEMPLATE)];
	json_object *root, *v;

	e2e_json_path(path);
	e2e_run(&r, NULL, VMM_BIN, "run", "--json", path, "-e", "vmm:page-faults,page-faults",
		TPAY_DIR "signals-glibc-static.elf", NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	root = e2e_json_take(path);
	v = unit_json_path(root, "total", "counters", "vmm:page-faults", "value", NULL);
	ck_assert_int_eq(json_object_get_int64(v), 3);
	json_object_put(root);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "-e", "vmm:page-faults", HELLO, NULL);
	ck_assert_msg(strstr(r.err, " 0      vmm:page-faults"), "%s", r.err);
	e2e_free(&r);
}
END_TEST

START_TEST(timeout_suffixes)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", "--timeout", "0.005m", TPAY_DIR "spin-glibc-static.elf",
		NULL);
	ck_assert_int_eq(r.status, 124);
	ck_assert_msg(strstr(r.err, "vmm: timeout after 0.3 s"), "%s", r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "--timeout", "1x", HELLO, NULL);
	ck_assert_int_eq(r.status, 125);
	e2e_free(&r);
}
END_TEST

/* A name without '/' comes from PATH, as env(1) finds it. */
START_TEST(path_lookup)
{
	struct run_result r;
	char dir[4096], *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	ck_assert_ptr_nonnull(realpath(TPAY_DIR, dir));
	setenv("PATH", dir, 1);
	e2e_run(&r, NULL, VMM_BIN, "run", "hello-glibc-static.elf", NULL);
	ck_assert_msg(r.status == 0 && strstr(r.out, "hello, world"), "exit %d: %s", r.status,
		      r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "no-such-program", NULL);
	ck_assert_int_eq(r.status, 127);
	ck_assert_msg(strstr(r.err, "vmm: elf: no-such-program: not found in PATH ("), "%s", r.err);
	e2e_free(&r);
	if (old) {
		setenv("PATH", old, 1);
		free(old);
	}
}
END_TEST

/* hello with its header made 32-bit i386: the message says so (126). */
START_TEST(i386_elf_message)
{
	char path[] = "/tmp/vmm-e2e-i386-XXXXXX";
	struct run_result r;
	unsigned char hdr[20];
	int in, out;
	ssize_t n;
	char buf[65536];

	e2e_temp_file(path);
	in = open(HELLO, O_RDONLY);
	out = open(path, O_WRONLY | O_TRUNC);
	ck_assert(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert(write(out, buf, (size_t)n) == n);
	ck_assert(pread(in, hdr, sizeof(hdr), 0) == sizeof(hdr));
	hdr[4] = 1;  /* EI_CLASS: ELFCLASS32 */
	hdr[18] = 3; /* e_machine: EM_386 */
	hdr[19] = 0;
	ck_assert(pwrite(out, hdr, sizeof(hdr), 0) == sizeof(hdr));
	close(in);
	close(out);
	e2e_run(&r, NULL, VMM_BIN, "run", path, NULL);
	ck_assert_int_eq(r.status, 126);
	ck_assert_msg(strstr(r.err, "is a 32-bit i386 program; vmm runs x86-64 programs only"),
		      "%s", r.err);
	e2e_free(&r);
	unlink(path);
}
END_TEST

/* The payload's leaves at exit under --guest-pages 2m, with or without
 * its madvise(MADV_NOHUGEPAGE) on 4 MiB. */
static void nohuge_leaves(const char *arg, long long *l4k, long long *l2m)
{
	struct run_result r;
	char path[sizeof(E2E_JSON_TEMPLATE)];
	json_object *root, *at;

	e2e_json_path(path);
	e2e_run(&r, NULL, VMM_BIN, "run", "--guest-pages", "2m", "--no-counters", "--json", path,
		TPAY_DIR "nohuge-musl-static.elf", arg, NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	root = e2e_json_take(path);
	at = unit_json_path(root, "guest_tables", "payload_leaves_at_exit", NULL);
	*l4k = json_object_get_int64(unit_json_path(at, "4k", NULL));
	*l2m = json_object_get_int64(unit_json_path(at, "2m", NULL));
	json_object_put(root);
	e2e_free(&r);
}

/* MADV_NOHUGEPAGE wins over --guest-pages 2m: its 4 MiB become 1024 x 4K
 * leaves instead of 2 x 2M. */
START_TEST(nohugepage_honoured_by_2m)
{
	long long plain4k, plain2m, no4k, no2m;

	nohuge_leaves("plain", &plain4k, &plain2m);
	nohuge_leaves("nohuge", &no4k, &no2m);
	ck_assert_msg(plain2m >= 2, "2m policy: %lld x 2M leaves", plain2m);
	ck_assert_int_eq(plain2m - no2m, 2);
	ck_assert_int_eq(no4k - plain4k, 1024);
}
END_TEST

/* The self-test's exit status and its words agree; without a PMU (this
 * project's machines) it says so and exits 2, never "trusted". */
START_TEST(check_counters)
{
	struct run_result r;
	json_object *root;
	const char *verdict;

	e2e_run(&r, NULL, VMM_BIN, "info", "--check-counters", NULL);
	ck_assert_msg(r.status == 0 || r.status == 1 || r.status == 2, "exit %d", r.status);
	ck_assert(strstr(r.out, "counter self-test: "));
	if (r.status == 2)
		ck_assert_msg(strstr(r.out, "cannot check: this host has no usable PMU"), "%s",
			      r.out);
	printf("vmm info --check-counters: exit %d: %s", r.status, r.out);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "info", "--check-counters", "--json", NULL);
	root = json_tokener_parse(r.out);
	ck_assert_ptr_nonnull(root);
	verdict = json_object_get_string(unit_json_path(root, "verdict", NULL));
	ck_assert_str_eq(verdict, r.status == 0	  ? "trusted"
				  : r.status == 1 ? "untrusted"
						  : "no-pmu");
	if (r.status == 2)
		ck_assert(json_object_is_type(unit_json_path(root, "counted_instructions", NULL),
					      json_type_null));
	json_object_put(root);
	e2e_free(&r);
}
END_TEST

E2E_SUITE_MAIN("e2e_events", 120, unknown_names_of_every_kind_fail_early, lists_add_up,
	       known_but_unsupported_is_not_an_error, payload_page_faults_counted, timeout_suffixes,
	       path_lookup, i386_elf_message, nohugepage_honoured_by_2m, check_counters)
