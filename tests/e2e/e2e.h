/* Shared by the end-to-end tests: run a command (usually ./vmm) from the
 * repository root, capture its stdout, stderr and exit status. Tests that
 * need /dev/kvm call e2e_require_kvm() first, which prints SKIP and the
 * reason and exits 0 when it is not usable; a file of such tests ends with
 *	E2E_SUITE_MAIN("e2e_name", timeout_s, test_a, test_b, ...)
 * The suite helpers of unit.h (UNIT_TCASE, UNIT_MAIN, MB) serve here too. */
#ifndef VMM_TESTS_E2E_H
#define VMM_TESTS_E2E_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bad_elves.h"
#include "unit.h"

#define VMM_BIN "./vmm"
#define TPAY_DIR "build/tests/payloads/"
#define PAYLOAD_DIR "build/payloads/"

struct run_result {
	int status; /* exit status, or 128 + signal like a shell */
	char *out, *err;
	size_t out_len, err_len;
};

static inline char *e2e_slurp(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;

	lseek(fd, 0, SEEK_SET);
	while (buf && (r = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	}
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static inline int e2e_tmpfile(void)
{
	char name[] = "/tmp/vmm-e2e-XXXXXX";
	int fd = mkstemp(name);

	if (fd >= 0)
		unlink(name);
	return fd;
}

/* Runs argv (NULL terminated) with stdin from `input` (may be NULL: empty). */
static inline void e2e_runv(struct run_result *r, const char *input, char *const argv[])
{
	int in = e2e_tmpfile(), out = e2e_tmpfile(), err = e2e_tmpfile(), st;
	pid_t pid;

	ck_assert(in >= 0 && out >= 0 && err >= 0);
	if (input)
		ck_assert(write(in, input, strlen(input)) == (ssize_t)strlen(input));
	lseek(in, 0, SEEK_SET);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(argv[0], argv);
		fprintf(stderr, "e2e: exec %s: %s\n", argv[0], strerror(errno));
		_exit(255);
	}
	ck_assert(waitpid(pid, &st, 0) == pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = e2e_slurp(out, &r->out_len);
	r->err = e2e_slurp(err, &r->err_len);
	close(in);
	close(out);
	close(err);
}

/* e2e_run(&r, input, "./vmm", "run", path, NULL) */
static inline void e2e_run(struct run_result *r, const char *input, ...)
{
	char *argv[64];
	int n = 0;
	va_list ap;

	va_start(ap, input);
	while (n < 63 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	e2e_runv(r, input, argv);
}

static inline void e2e_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
}

static inline void e2e_require_kvm(const char *test)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("SKIP: %s: /dev/kvm not usable: %s\n", test, strerror(errno));
		exit(0);
	}
}

/* Creates an empty file from a mkstemp() template ("...XXXXXX"), which
 * becomes its path; the caller unlinks it. */
static inline void e2e_temp_file(char *tmpl)
{
	int fd = mkstemp(tmpl);

	ck_assert_msg(fd >= 0, "mkstemp %s: %s", tmpl, strerror(errno));
	close(fd);
}

/* A fresh path for `--json FILE`: "/tmp/vmm-e2e-json-XXXXXX", created. */
#define E2E_JSON_TEMPLATE "/tmp/vmm-e2e-json-XXXXXX"
static inline void e2e_json_path(char path[sizeof(E2E_JSON_TEMPLATE)])
{
	memcpy(path, E2E_JSON_TEMPLATE, sizeof(E2E_JSON_TEMPLATE));
	e2e_temp_file(path);
}

/* The report vmm wrote at path, parsed; the file is removed. */
static inline json_object *e2e_json_take(const char *path)
{
	json_object *root = json_object_from_file(path);

	unlink(path);
	ck_assert_msg(root != NULL, "no JSON report in %s", path);
	return root;
}

/* Calls check(i, path) for each crafted bad ELF i of bad_elves.h, written
 * in turn to the same temporary file at path, which is removed after. */
static inline void e2e_each_bad_elf(void (*check)(size_t i, const char *path))
{
	char path[] = "/tmp/vmm-e2e-bad-elf-XXXXXX";
	struct bad_elf f;

	e2e_temp_file(path);
	for (size_t i = 0; i < bad_elf_count(); i++) {
		bad_elf_build(i, &f);
		ck_assert_msg(bad_elf_write(&f, path) == 0, "%s: %s", path, strerror(errno));
		check(i, path);
	}
	unlink(path);
}

/* Runs NAME-LIBC-static.elf ARGS... of tests/payloads for glibc and musl,
 * natively (after nat_pre..., e.g. timeout(1)) and as `vmm run VMM_OPTS...
 * ELF ARGS...`: both must end with want_status and print the same stdout. */
static inline void e2e_same_as_native(const char *name, const char *const *nat_pre,
				      const char *const *vmm_opts, const char *const *args,
				      int want_status)
{
	static const char *const libcs[] = {"glibc", "musl"};

	for (size_t l = 0; l < 2; l++) {
		char elf[256], *nat[48], *gst[48];
		struct run_result n, g;
		int k = 0, j = 0;

		snprintf(elf, sizeof(elf), TPAY_DIR "%s-%s-static.elf", name, libcs[l]);
		for (size_t i = 0; nat_pre && nat_pre[i]; i++)
			nat[k++] = (char *)nat_pre[i];
		nat[k++] = elf;
		gst[j++] = VMM_BIN;
		gst[j++] = "run";
		for (size_t i = 0; vmm_opts && vmm_opts[i]; i++)
			gst[j++] = (char *)vmm_opts[i];
		gst[j++] = elf;
		for (size_t i = 0; args && args[i]; i++)
			nat[k++] = gst[j++] = (char *)args[i];
		nat[k] = gst[j] = NULL;
		e2e_runv(&n, NULL, nat);
		e2e_runv(&g, NULL, gst);
		ck_assert_msg(n.status == want_status, "%s native: status %d, want %d\n%s", elf,
			      n.status, want_status, n.err);
		ck_assert_msg(g.status == want_status, "%s guest: status %d, want %d\n%s", elf,
			      g.status, want_status, g.err);
		ck_assert_msg(n.out_len == g.out_len && memcmp(n.out, g.out, n.out_len) == 0,
			      "%s: output differs\n--- native\n%s--- guest\n%s", elf, n.out, g.out);
		e2e_free(&n);
		e2e_free(&g);
	}
}

/* main() of an end-to-end test binary that needs /dev/kvm throughout: one
 * suite `name` of one test case holding the tests that follow, each given
 * timeout_s seconds. */
#define E2E_SUITE_MAIN(name, timeout_s, ...)                                                       \
	int main(void)                                                                             \
	{                                                                                          \
		e2e_require_kvm(name);                                                             \
		return unit_run(unit_suite((name), NULL, NULL, (timeout_s),                        \
					   (const TTest *const[]){__VA_ARGS__, NULL}));            \
	}

#endif
