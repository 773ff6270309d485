/* The VMM itself built with ASan/UBSan (build/asan/vmm), driven through the
 * hostile and failing paths: malformed ELF, bad options, faults, timeouts,
 * fuzzed syscalls under each guest-page policy. Any sanitizer report fails
 * the test, whatever the exit status. */
#include <dirent.h>
#include <stdlib.h>

#include "e2e.h"

#define VMM_ASAN "build/asan/vmm"

static void check_clean(int want, const char *first, ...)
{
	char *argv[32] = {VMM_ASAN, "run"};
	struct run_result r;
	va_list ap;
	int n = 2;

	va_start(ap, first);
	for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	e2e_runv(&r, "", argv);
	ck_assert_msg(!strstr(r.err, "Sanitizer") && !strstr(r.err, "runtime error"),
		      "%s: sanitizer report:\n%s", first, r.err);
	ck_assert_msg(r.status == want, "%s: status %d, want %d\n%s", first, r.status, want, r.err);
	e2e_free(&r);
}

START_TEST(payloads_and_faults)
{
	check_clean(0, TPAY_DIR "hello-glibc-static.elf", NULL);
	check_clean(0, "--mem", "256M", "--stats", TPAY_DIR "memtest-glibc-static.elf", NULL);
	check_clean(0, "--mem", "256M", "--guest-pages", "2m", TPAY_DIR "memtest-musl-static.elf",
		    NULL);
	check_clean(139, TPAY_DIR "nullwrite-glibc-static.elf", NULL);
	check_clean(132, TPAY_DIR "ud2-musl-static.elf", NULL);
	check_clean(124, "--timeout", "0.3", TPAY_DIR "spin-musl-static.elf", NULL);
	check_clean(0, "-x", ",", TPAY_DIR "regions-glibc-static.elf", NULL);
	/* fds, files in /tmp, signal frames, timers and deaths by signal */
	check_clean(0, TPAY_DIR "pipes-glibc-static.elf", NULL);
	check_clean(0, TPAY_DIR "files-musl-static.elf", NULL);
	check_clean(0, TPAY_DIR "signals-glibc-static.elf", NULL);
	check_clean(134, TPAY_DIR "signals-musl-static.elf", "abort", NULL);
	check_clean(142, TPAY_DIR "signals-glibc-static.elf", "alarm", NULL);
	check_clean(0, "--cwd", "/tmp", TPAY_DIR "sysfuzz-glibc-static.elf", "2000", "paths", NULL);
}
END_TEST

START_TEST(fuzzed_syscalls)
{
	check_clean(0, "--mem", "256M", "--guest-pages", "4k", TPAY_DIR "sysfuzz-glibc-static.elf",
		    "2000", NULL);
	check_clean(0, "--mem", "256M", "--guest-pages", "2m", TPAY_DIR "sysfuzz-glibc-static.elf",
		    "2000", NULL);
	check_clean(0, "--mem", "256M", "--guest-pages", "madvise",
		    TPAY_DIR "sysfuzz-musl-static.elf", "2000", NULL);
}
END_TEST

static void bad_elf_is_clean_126(size_t i, const char *path)
{
	(void)i;
	check_clean(126, path, NULL);
}

START_TEST(failures_before_the_guest_runs)
{
	e2e_each_bad_elf(bad_elf_is_clean_126);
	check_clean(127, "/nonexistent", NULL);
	check_clean(126, "/bin/true", NULL);
	check_clean(125, "--mem", "1X", TPAY_DIR "hello-musl-static.elf", NULL);
	check_clean(125, "-e", "bogus", TPAY_DIR "hello-musl-static.elf", NULL);
	check_clean(125, "--guest-pages", "1g", "--mem", "17M", TPAY_DIR "hello-musl-static.elf",
		    NULL);
}
END_TEST

/* Under LeakSanitizer (and the seccomp filter, which lets the ASan build
 * run LSan's exit check): every test payload (glibc builds), then every hostile
 * behaviour, with no sanitizer report and no forbidden call, whatever the
 * payload's own status. */
static void check_no_report(const char *elf, const char *arg)
{
	char *argv[] = {VMM_ASAN, "run", "--timeout", "20", (char *)elf, (char *)arg, NULL};
	struct run_result r;

	e2e_runv(&r, "input\n", argv);
	ck_assert_msg(!strstr(r.err, "Sanitizer") && !strstr(r.err, "runtime error") &&
			  !strstr(r.err, "seccomp"),
		      "%s %s: report:\n%s", elf, arg ? arg : "", r.err);
	ck_assert_msg(r.status != 125, "%s %s: vmm failed:\n%s", elf, arg ? arg : "", r.err);
	e2e_free(&r);
}

START_TEST(every_payload_leak_free)
{
	DIR *d = opendir(TPAY_DIR);
	struct dirent *e;
	struct run_result list;
	char path[512], *save = NULL;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(setenv("ASAN_OPTIONS", "detect_leaks=1", 1), 0);
	while ((e = readdir(d)))
		if (strstr(e->d_name, "-glibc-static.elf")) { /* musl: same vmm paths */
			snprintf(path, sizeof(path), TPAY_DIR "%s", e->d_name);
			check_no_report(path, NULL);
			n++;
		}
	closedir(d);
	ck_assert_int_ge(n, 15);
	e2e_run(&list, NULL, TPAY_DIR "hostile-musl-static.elf", NULL);
	for (char *b = strtok_r(list.out, "\n", &save); b; b = strtok_r(NULL, "\n", &save))
		check_no_report(TPAY_DIR "hostile-musl-static.elf", b);
	e2e_free(&list);
}
END_TEST

E2E_SUITE_MAIN("e2e_sanitized_vmm", 300, payloads_and_faults, fuzzed_syscalls,
	       failures_before_the_guest_runs, every_payload_leak_free)
