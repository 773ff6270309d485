/* The VMM itself built with ASan/UBSan (build/asan/vmm), driven through the
 * hostile and failing paths: malformed ELF, bad options, faults, timeouts,
 * fuzzed syscalls under each guest-page policy. Any sanitizer report fails
 * the test, whatever the exit status. */
#include "bad_elves.h"
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

START_TEST(failures_before_the_guest_runs)
{
	char path[] = "/tmp/vmm-san-elf-XXXXXX";
	int fd = mkstemp(path);
	struct bad_elf f;

	ck_assert(fd >= 0);
	close(fd);
	for (size_t i = 0; i < bad_elf_count(); i++) {
		bad_elf_build(i, &f);
		ck_assert(bad_elf_write(&f, path) == 0);
		check_clean(126, path, NULL);
	}
	unlink(path);
	check_clean(127, "/nonexistent", NULL);
	check_clean(126, "/bin/true", NULL);
	check_clean(125, "--mem", "1X", TPAY_DIR "hello-musl-static.elf", NULL);
	check_clean(125, "-e", "bogus", TPAY_DIR "hello-musl-static.elf", NULL);
	check_clean(125, "--guest-pages", "1g", "--mem", "17M", TPAY_DIR "hello-musl-static.elf",
		    NULL);
}
END_TEST

static Suite *sanitized_suite(void)
{
	Suite *s = suite_create("e2e_sanitized_vmm");
	TCase *tc = tcase_create("asan");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, payloads_and_faults);
	tcase_add_test(tc, fuzzed_syscalls);
	tcase_add_test(tc, failures_before_the_guest_runs);
	suite_add_tcase(s, tc);
	return s;
}

E2E_MAIN(sanitized_suite, "e2e_sanitized_vmm")
