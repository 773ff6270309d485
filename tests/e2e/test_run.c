/* End to end, issue "vmm run": real payloads under /dev/kvm. Exit statuses,
 * output passed through unchanged, fault reports, timeouts, and every
 * malformed ELF of the unit tests refused with 126 and its own message. */
#include "e2e.h"

#include <sys/resource.h>

#define HELLO_MUSL TPAY_DIR "hello-musl-static.elf"
#define HELLO_GLIBC TPAY_DIR "hello-glibc-static.elf"

static void run_vmm(struct run_result *r, const char *payload)
{
	e2e_run(r, NULL, VMM_BIN, "run", "--mem", "64M", payload, NULL);
}

static void check_signal(const char *payload, int status, const char *what)
{
	struct run_result r;

	run_vmm(&r, payload);
	ck_assert_msg(r.status == status, "%s: status %d, want %d; stderr:\n%s", payload, r.status,
		      status, r.err);
	ck_assert_msg(strstr(r.err, what), "%s: stderr lacks '%s':\n%s", payload, what, r.err);
	ck_assert_msg(strstr(r.err, "rip "), "no registers in report:\n%s", r.err);
	e2e_free(&r);
}

START_TEST(hello_musl_and_glibc)
{
	const char *p[] = {HELLO_MUSL, HELLO_GLIBC};
	struct run_result r;

	for (int i = 0; i < 2; i++) {
		run_vmm(&r, p[i]);
		ck_assert_msg(r.status == 0, "%s: status %d\n%s", p[i], r.status, r.err);
		ck_assert_str_eq(r.out, "hello, world\n");
		ck_assert_msg(r.err_len == 0, "%s: unexpected stderr:\n%s", p[i], r.err);
		e2e_free(&r);
	}
	/* Guest RAM past 4 GiB (where Intel KVM keeps its real-mode TSS). */
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "6G", HELLO_MUSL, NULL);
	ck_assert_msg(r.status == 0, "--mem 6G: status %d\n%s", r.status, r.err);
	ck_assert_str_eq(r.out, "hello, world\n");
	e2e_free(&r);
}
END_TEST

START_TEST(exit_status_42)
{
	struct run_result r;

	run_vmm(&r, TPAY_DIR "exit42-musl-static.elf");
	ck_assert_int_eq(r.status, 42);
	e2e_free(&r);
	run_vmm(&r, TPAY_DIR "exit42-glibc-static.elf");
	ck_assert_int_eq(r.status, 42);
	e2e_free(&r);
}
END_TEST

START_TEST(null_write_is_sigsegv_with_walk)
{
	check_signal(TPAY_DIR "nullwrite-musl-static.elf", 139, "SIGSEGV");
	check_signal(TPAY_DIR "nullwrite-glibc-static.elf", 139, "page walk of 0x0");
	check_signal(TPAY_DIR "nullwrite-glibc-static.elf", 139, "write of 0x0: page not present");
}
END_TEST

START_TEST(other_signals)
{
	check_signal(TPAY_DIR "ud2-musl-static.elf", 132, "invalid opcode");
	check_signal(TPAY_DIR "div0-musl-static.elf", 136, "divide error");
	check_signal(TPAY_DIR "int3-musl-static.elf", 133, "breakpoint");
}
END_TEST

START_TEST(memory_faults_like_linux)
{
	struct run_result r;

	check_signal(TPAY_DIR "rowrite-glibc-static.elf", 139, "protection violation");
	check_signal(TPAY_DIR "nxexec-glibc-static.elf", 139, "instruction fetch");
	run_vmm(&r, TPAY_DIR "protnone-musl-static.elf");
	ck_assert_int_eq(r.status, 139);
	ck_assert_str_eq(r.out, "reserved\n");
	e2e_free(&r);
}
END_TEST

START_TEST(timeout_is_124)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "--timeout", "0.5",
		TPAY_DIR "spin-musl-static.elf", NULL);
	ck_assert_int_eq(r.status, 124);
	ck_assert_msg(strstr(r.err, "timeout"), "%s", r.err);
	e2e_free(&r);
	/* Expiring while the guest applies page-table batches (ptchurn). */
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "--timeout", "0.5",
		PAYLOAD_DIR "ptchurn.elf", "--max", "2M", "--iters", "1000000", NULL);
	ck_assert_msg(r.status == 124, "status %d\n%s", r.status, r.err);
	e2e_free(&r);
}
END_TEST

START_TEST(missing_payload_is_127)
{
	struct run_result r;

	run_vmm(&r, "/nonexistent/payload.elf");
	ck_assert_int_eq(r.status, 127);
	ck_assert_msg(strstr(r.err, "No such file"), "%s", r.err);
	e2e_free(&r);
}
END_TEST

START_TEST(dynamic_payload_is_126)
{
	struct run_result r;

	run_vmm(&r, "/bin/true");
	ck_assert_int_eq(r.status, 126);
	ck_assert_msg(strstr(r.err, "dynamically linked") && strstr(r.err, "-static"), "%s", r.err);
	e2e_free(&r);
}
END_TEST

/* Guest RAM costs nothing until touched: 256 GiB of it leaves vmm's peak
 * RSS small (the direct map covers the table pool only, KVM's slots grow
 * with use). A bare --mem is MiB; more than the direct map holds is 125. */
START_TEST(huge_mem_costs_nothing)
{
	struct run_result r;
	struct rusage ru;

	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "256G", HELLO_GLIBC, NULL);
	if (r.status == 125 && strstr(r.err, "physical address bits")) {
		printf("SKIP: --mem 256G: %s", r.err); /* a host with MAXPHYADDR < 39 */
		e2e_free(&r);
		return;
	}
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "hello, world\n");
	e2e_free(&r);
	ck_assert_int_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
	ck_assert_int_lt(ru.ru_maxrss, 64 * 1024); /* KiB */
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "24", HELLO_MUSL, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "65T", HELLO_MUSL, NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_msg(strstr(r.err, "more than the 64T of guest physical addresses"), "%s", r.err);
	e2e_free(&r);
}
END_TEST

START_TEST(bad_options_are_125)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "12X", HELLO_MUSL, NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_msg(strstr(r.err, "unknown suffix"), "%s", r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "--frobnicate", HELLO_MUSL, NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_msg(strstr(r.err, "unknown option '--frobnicate'"), "%s", r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", NULL);
	ck_assert_int_eq(r.status, 125);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "usage: vmm run"), "%s", r.out);
	e2e_free(&r);
}
END_TEST

static void bad_elf_is_126_with_its_message(size_t i, const char *path)
{
	struct run_result r;

	run_vmm(&r, path);
	ck_assert_msg(r.status == 126, "%s: status %d\n%s", bad_elf_name(i), r.status, r.err);
	ck_assert_msg(strstr(r.err, bad_elf_expect(i)), "%s: want '%s' in:\n%s", bad_elf_name(i),
		      bad_elf_expect(i), r.err);
	e2e_free(&r);
}

START_TEST(every_bad_elf_is_126_with_its_message)
{
	e2e_each_bad_elf(bad_elf_is_126_with_its_message);
}
END_TEST

START_TEST(fuzzed_syscalls_never_crash_the_vmm)
{
	const char *pages[] = {"4k", "2m", "madvise"};
	struct run_result r;

	for (int i = 0; i < 3; i++) {
		e2e_run(&r, "", VMM_BIN, "run", "--mem", "256M", "--guest-pages", pages[i],
			TPAY_DIR "sysfuzz-glibc-static.elf", "4000", NULL);
		ck_assert_msg(r.status == 0, "%s: status %d\n%s", pages[i], r.status, r.err);
		ck_assert_msg(strstr(r.out, "sysfuzz: survived"), "%s", r.out);
		e2e_free(&r);
	}
	e2e_run(&r, "", VMM_BIN, "run", "--mem", "64M", TPAY_DIR "sysfuzz-musl-static.elf", "4000",
		NULL);
	ck_assert_msg(r.status == 0, "musl: status %d\n%s", r.status, r.err);
	e2e_free(&r);
}
END_TEST

/* Where the fuzzer's stack ends depends on the environment's size; its
 * pointers near the top of user space once hit live frames for some sizes
 * (found in the nested lane, whose /init has a tiny environment). */
START_TEST(fuzzer_survives_any_environment_size)
{
	static const size_t sizes[] = {0, 10, 100, 1000};
	struct run_result r;
	char var[1100];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(var, sizeof(var), "X=%0*d", (int)sizes[i], 0);
		e2e_run(&r, "", "/usr/bin/env", "-i", var, VMM_BIN, "run", "--mem", "256M",
			TPAY_DIR "sysfuzz-glibc-static.elf", "4000", NULL);
		ck_assert_msg(r.status == 0 && strstr(r.out, "sysfuzz: survived"),
			      "environment of %zu bytes: status %d\n%.2000s", sizes[i], r.status,
			      r.err);
		e2e_free(&r);
	}
}
END_TEST

/* `| head -1`: the payload dies of SIGPIPE, or sees EPIPE when it ignores
 * SIGPIPE, exactly as natively. */
START_TEST(closed_pipe_is_sigpipe_like_native)
{
	const char *modes[] = {"", "ignore"};
	struct run_result n, g;
	char cmd[256];

	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd),
			 "%sflood-musl-static.elf %s | head -n 1 >/dev/null; echo ${PIPESTATUS[0]}",
			 TPAY_DIR, modes[i]);
		e2e_run(&n, NULL, "/bin/bash", "-c", cmd, NULL);
		snprintf(cmd, sizeof(cmd),
			 VMM_BIN " run %sflood-glibc-static.elf %s | head -n 1 >/dev/null; echo "
				 "${PIPESTATUS[0]}",
			 TPAY_DIR, modes[i]);
		e2e_run(&g, NULL, "/bin/bash", "-c", cmd, NULL);
		ck_assert_str_eq(n.out, i == 0 ? "141\n" : "3\n");
		ck_assert_msg(strcmp(g.out, n.out) == 0, "guest %s, native %s\n%s", g.out, n.out,
			      g.err);
		e2e_free(&n);
		e2e_free(&g);
	}
}
END_TEST

/* A host without /dev/kvm, made by hiding /dev in a private mount namespace. */
START_TEST(missing_dev_kvm_is_125_with_a_hint)
{
	struct run_result r;

	e2e_run(&r, NULL, "/usr/bin/unshare", "-m", "sh", "-c",
		"mount -t tmpfs none /dev && exec " VMM_BIN " run " TPAY_DIR
		"hello-musl-static.elf",
		NULL);
	if (strstr(r.err, "unshare:") || strstr(r.err, "mount:")) {
		printf("SKIP: missing /dev/kvm: cannot hide /dev here: %s\n", r.err);
		e2e_free(&r);
		return;
	}
	ck_assert_int_eq(r.status, 125);
	ck_assert_msg(
	    strstr(r.err, "kvm: /dev/kvm: No such file or directory (is the kvm module loaded?"),
	    "%s", r.err);
	e2e_free(&r);
}
END_TEST

/* Register state costs no ioctl per exit where KVM syncs it through the run
 * area: a few at the first entry, none per syscall. Without SYNC_REGS each
 * exit reads the registers by ioctl. */
START_TEST(register_ioctls_do_not_grow_with_syscalls)
{
	char json[sizeof(E2E_JSON_TEMPLATE)];
	struct run_result r;
	json_object *root, *run;
	int64_t exits, syscalls, ioctls;

	e2e_json_path(json);
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "--json", json,
		TPAY_DIR "getppid_loop-glibc-static.elf", "500", NULL);
	ck_assert_msg(r.status == 0, "status %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.out, "\"n\": 500"), "output: %s", r.out);
	root = e2e_json_take(json);
	run = unit_json_path(root, "run", NULL);
	exits = json_object_get_int64(unit_json_path(run, "exits", NULL));
	syscalls = json_object_get_int64(unit_json_path(run, "syscalls", NULL));
	ioctls = json_object_get_int64(unit_json_path(run, "reg_ioctls", NULL));
	ck_assert_int_ge(syscalls, 500);
	if (json_object_get_boolean(unit_json_path(run, "sync_regs", NULL)))
		ck_assert_msg(ioctls <= 8, "%lld register ioctls for %lld exits", (long long)ioctls,
			      (long long)exits);
	else
		ck_assert_int_ge(ioctls, exits);
	json_object_put(root);
	e2e_free(&r);
}
END_TEST

/* A syscall that edits live page tables costs one exit: the batch routine
 * runs on the way back to the payload and returns to it with iretq. */
START_TEST(one_exit_per_mprotect)
{
	char json[sizeof(E2E_JSON_TEMPLATE)];
	struct run_result r;
	json_object *root, *run;
	int64_t exits, syscalls, batches;

	e2e_json_path(json);
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "--json", json, PAYLOAD_DIR "ptchurn.elf",
		"--max", "4K", "--iters", "300", "--test", "mprotect", NULL);
	ck_assert_msg(r.status == 0, "status %d\n%s", r.status, r.err);
	root = e2e_json_take(json);
	run = unit_json_path(root, "run", NULL);
	exits = json_object_get_int64(unit_json_path(run, "exits", NULL));
	syscalls = json_object_get_int64(unit_json_path(run, "syscalls", NULL));
	batches = json_object_get_int64(unit_json_path(run, "batch_runs", NULL));
	ck_assert_int_ge(batches, 300); /* the toggles did edit the tables */
	ck_assert_msg((double)exits <= 1.02 * (double)syscalls, "%lld exits for %lld syscalls",
		      (long long)exits, (long long)syscalls);
	json_object_put(root);
	e2e_free(&r);
}
END_TEST

E2E_SUITE_MAIN("e2e_run", 120, hello_musl_and_glibc, exit_status_42,
	       null_write_is_sigsegv_with_walk, other_signals, memory_faults_like_linux,
	       timeout_is_124, missing_payload_is_127, dynamic_payload_is_126, bad_options_are_125,
	       huge_mem_costs_nothing, every_bad_elf_is_126_with_its_message,
	       fuzzed_syscalls_never_crash_the_vmm, missing_dev_kvm_is_125_with_a_hint,
	       closed_pipe_is_sigpipe_like_native, fuzzer_survives_any_environment_size,
	       register_ioctls_do_not_grow_with_syscalls, one_exit_per_mprotect)
