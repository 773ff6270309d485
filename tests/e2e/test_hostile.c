/* Hostile payloads: every behaviour of tests/payloads/hostile.c (faults
 * of every kind, privileged instructions, port I/O, wild syscall numbers,
 * pointers and lengths, memory exhaustion, attacks on vmm's own pages)
 * runs natively and under ./vmm, and both must end with the same exit
 * status and the same stdout. The few places where vmm answers as one
 * Linux configuration and this host as another are listed, with the
 * answer vmm must give. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "e2e.h"
#include "unit.h"

static const char *const libcs[] = {"glibc", "musl"};

/* vmm behaves as Linux with vsyscall=none for calls and as vsyscall=emulate
 * for reads (its syscall page is user-readable where the vsyscall page
 * is); this host may run either mode, so only vmm's answer is checked. */
static const struct {
	const char *name;
	int guest_status;
	const char *guest_out;
} known[] = {
    {"vsyscall_call", 139, "start\n"},
    {"vsyscall_read", 0, "start\nvsyscall page readable = 1\nend\n"},
};

static const char *known_out(const char *name, int *status)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].name, name) == 0) {
			*status = known[i].guest_status;
			return known[i].guest_out;
		}
	return NULL;
}

/* Names the payload lists when run without arguments, one a line. */
static size_t list_behaviours(const char *elf, char ***names)
{
	struct run_result r;
	size_t n = 0;
	char *save = NULL;

	e2e_run(&r, NULL, elf, NULL);
	ck_assert_int_eq(r.status, 0);
	*names = calloc(r.out_len / 2 + 1, sizeof(**names));
	for (char *s = strtok_r(r.out, "\n", &save); s; s = strtok_r(NULL, "\n", &save))
		(*names)[n++] = strdup(s);
	e2e_free(&r);
	return n;
}

/* Stdin is not empty: at end of file Linux's read() returns 0 before it
 * would touch a bad buffer, where vmm checks the buffer first. */
#define STDIN_TEXT "input that no behaviour reads\n"

START_TEST(native_and_guest_agree)
{
	char elf[256], mismatches[8192] = "";
	char **names;
	size_t n, i, bad = 0;

	snprintf(elf, sizeof(elf), TPAY_DIR "hostile-%s-static.elf", libcs[_i]);
	n = list_behaviours(elf, &names);
	ck_assert_uint_ge(n, 60);
	for (i = 0; i < n; i++) {
		struct run_result nat, gst;
		int want_status;
		const char *want_out = known_out(names[i], &want_status);
		bool same;

		e2e_run(&gst, STDIN_TEXT, VMM_BIN, "run", elf, names[i], NULL);
		if (want_out) {
			same = gst.status == want_status && strcmp(gst.out, want_out) == 0;
		} else {
			e2e_run(&nat, STDIN_TEXT, elf, names[i], NULL);
			same = nat.status == gst.status && nat.out_len == gst.out_len &&
			       memcmp(nat.out, gst.out, nat.out_len) == 0;
			if (!same)
				snprintf(mismatches + strlen(mismatches),
					 sizeof(mismatches) - strlen(mismatches),
					 "%s: native %d, %zu bytes out; ", names[i], nat.status,
					 nat.out_len);
			e2e_free(&nat);
		}
		if (!same) {
			bad++;
			snprintf(mismatches + strlen(mismatches),
				 sizeof(mismatches) - strlen(mismatches),
				 "%s: guest %d, %zu bytes out, stderr: %.200s\n", names[i],
				 gst.status, gst.out_len, gst.err);
		}
		/* Whatever the payload did, vmm itself never failed. */
		ck_assert_msg(gst.status != 125, "%s: vmm failed: %s", names[i], gst.err);
		e2e_free(&gst);
		free(names[i]);
	}
	free(names);
	ck_assert_msg(bad == 0, "%s: %zu of %zu behaviours differ:\n%s", libcs[_i], bad, n,
		      mismatches);
}
END_TEST

/* The reports name what Linux would have raised. */
START_TEST(int_n_is_a_general_protection_fault)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", TPAY_DIR "hostile-glibc-static.elf", "int_0x81", NULL);
	ck_assert_int_eq(r.status, 139);
	ck_assert_msg(strstr(r.err, "general protection fault (#GP)") &&
			  strstr(r.err, "error code 0x40a"),
		      "%s", r.err);
	e2e_free(&r);
}
END_TEST

/* --max-output bounds what a payload writes, as RLIMIT_FSIZE bounds a
 * file natively (stdout is a regular file here): cut at the limit, then
 * SIGXFSZ. The same bytes and status as under `ulimit -f`. */
START_TEST(max_output_is_a_file_size_limit)
{
	struct run_result nat, gst;
	const char *elf = TPAY_DIR "hostile-musl-static.elf";
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ulimit -f 1024; exec %s huge_output", elf);
	e2e_run(&nat, NULL, "/bin/bash", "-c", cmd, NULL);
	e2e_run(&gst, NULL, VMM_BIN, "run", "--max-output", "1M", elf, "huge_output", NULL);
	ck_assert_int_eq(nat.status, 128 + SIGXFSZ);
	ck_assert_int_eq(gst.status, 128 + SIGXFSZ);
	ck_assert_uint_eq(nat.out_len, 1 << 20);
	ck_assert_uint_eq(gst.out_len, 1 << 20);
	ck_assert_msg(strstr(gst.err, "SIGXFSZ"), "%s", gst.err);
	e2e_free(&nat);
	e2e_free(&gst);
}
END_TEST

/* The "Seccomp:" mode of /proc/PID/status, or -1 when unreadable. */
static int seccomp_mode(pid_t pid)
{
	char path[64], line[256];
	int mode = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	if (f)
		fclose(f);
	return mode;
}

/* Starts vmm on a payload that spins (no syscalls: the filter must be in
 * place before the first KVM_RUN) and samples its seccomp mode for up to
 * 3 s until it is `want`; returns the last mode seen. */
static int running_seccomp_mode(const char *extra, int want)
{
	const struct timespec tick = {0, 20 * 1000 * 1000};
	int mode = -1, st;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		execl(VMM_BIN, VMM_BIN, "run", "--timeout", "10", extra,
		      TPAY_DIR "spin-musl-static.elf", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 150 && mode != want; i++) {
		nanosleep(&tick, NULL);
		mode = seccomp_mode(pid);
	}
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return mode;
}

/* 2 is SECCOMP_MODE_FILTER: vmm confines itself for the run. */
START_TEST(seccomp_filter_during_a_run)
{
	ck_assert_int_eq(running_seccomp_mode("--stats", 2), 2);
}
END_TEST

/* --no-seccomp: sampled once the run had 1 s to install a filter. */
START_TEST(no_seccomp_runs_unfiltered)
{
	const struct timespec second = {1, 0};
	int st, mode;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		execl(VMM_BIN, VMM_BIN, "run", "--timeout", "10", "--no-seccomp",
		      TPAY_DIR "spin-musl-static.elf", (char *)NULL);
		_exit(127);
	}
	nanosleep(&second, NULL);
	mode = seccomp_mode(pid);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(mode, 0);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;

	e2e_require_kvm("hostile");
	s = suite_create("hostile");
	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, native_and_guest_agree, 0, 2);
	tcase_add_test(tc, int_n_is_a_general_protection_fault);
	tcase_add_test(tc, max_output_is_a_file_size_limit);
	tcase_add_test(tc, seccomp_filter_during_a_run);
	tcase_add_test(tc, no_seccomp_runs_unfiltered);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
