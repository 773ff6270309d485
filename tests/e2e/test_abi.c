/* End-to-end tests of the Linux ABI beyond memory: pipes and fds, files in
 * granted directories and the private /tmp, and signals. Each payload runs
 * natively and under ./vmm run, glibc and musl builds, and must print the
 * same and end with the same status. */
#include "e2e.h"
#include "unit.h"

/* Natively and under vmm run VMM_OPTS..., compared (e2e_same_as_native). */
static void same_as_native(const char *name, const char *const *vmm_opts, const char *const *args,
			   int want_status)
{
	e2e_same_as_native(name, NULL, vmm_opts, args, want_status);
}

START_TEST(pipes_dup_poll_like_native)
{
	same_as_native("pipes", NULL, NULL, 0);
}
END_TEST

/* A fresh host directory for a grant: "/tmp/vmm-e2e-grant-XXXXXX". */
#define GRANT_TEMPLATE "/tmp/vmm-e2e-grant-XXXXXX"
static void make_grant(char dir[sizeof(GRANT_TEMPLATE)], const char *const *files,
		       const char *const *links)
{
	char p[256];
	FILE *f;

	memcpy(dir, GRANT_TEMPLATE, sizeof(GRANT_TEMPLATE));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (size_t i = 0; files && files[i]; i += 2) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		if (!files[i + 1]) {
			ck_assert_int_eq(mkdir(p, 0755), 0);
			continue;
		}
		ck_assert_ptr_nonnull(f = fopen(p, "w"));
		fputs(files[i + 1], f);
		fclose(f);
	}
	for (size_t i = 0; links && links[i]; i += 2) {
		snprintf(p, sizeof(p), "%s/%s", dir, links[i]);
		ck_assert_int_eq(symlink(links[i + 1], p), 0);
	}
}

static void remove_grant(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Files in the private /tmp and in a granted directory (at the same path
 * as on the host, so the output is the same), file-backed mmap. */
START_TEST(files_like_native)
{
	static const char *const files[] = {"input.txt", "1\n2\n3\nfour\n", NULL};
	static const char *const links[] = {"link", "input.txt", NULL};
	char dir[sizeof(GRANT_TEMPLATE)], opt[sizeof(GRANT_TEMPLATE) + 8];
	const char *vmm_opts[] = {"--dir", opt, NULL};
	const char *args[] = {dir, NULL};

	make_grant(dir, files, links);
	snprintf(opt, sizeof(opt), "%s:rw", dir);
	same_as_native("files", vmm_opts, args, 0);
	remove_grant(dir);
}
END_TEST

/* The private /tmp is made only when the guest uses it, and removed at
 * exit: hello leaves $TMPDIR untouched (and runs even where $TMPDIR does
 * not exist), files works in /tmp like natively and leaves nothing behind;
 * where /tmp cannot be made, the guest's /tmp calls fail and vmm says why
 * once. */
START_TEST(private_tmp_made_on_use)
{
	char dir[sizeof(GRANT_TEMPLATE)], env[sizeof(GRANT_TEMPLATE) + 16];
	char opt[sizeof(GRANT_TEMPLATE) + 8], ls[sizeof(GRANT_TEMPLATE) + 16];
	struct run_result nat, r;

	make_grant(dir, NULL, NULL);
	snprintf(env, sizeof(env), "TMPDIR=%s/t", dir);
	snprintf(opt, sizeof(opt), "%s:rw", dir);
	snprintf(ls, sizeof(ls), "ls -A '%s/t'", dir);
	ck_assert_int_eq(mkdir(env + strlen("TMPDIR="), 0700), 0);

	e2e_run(&r, NULL, "/usr/bin/env", env, "./vmm", "run", TPAY_DIR "hello-musl-static.elf",
		NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, "/bin/sh", "-c", ls, NULL);
	ck_assert_str_eq(r.out, ""); /* never made */
	e2e_free(&r);

	e2e_run(&nat, NULL, TPAY_DIR "files-musl-static.elf", dir, NULL);
	ck_assert_msg(nat.status == 0, "%s", nat.err);
	e2e_run(&r, NULL, "/usr/bin/env", env, "./vmm", "run", "--dir", opt,
		TPAY_DIR "files-musl-static.elf", dir, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.out, nat.out);
	e2e_free(&r);
	e2e_free(&nat);
	e2e_run(&r, NULL, "/bin/sh", "-c", ls, NULL);
	ck_assert_str_eq(r.out, ""); /* made, used, removed */
	e2e_free(&r);

	ck_assert_int_eq(rmdir(env + strlen("TMPDIR=")), 0);
	e2e_run(&r, NULL, "/usr/bin/env", env, "./vmm", "run", TPAY_DIR "hello-musl-static.elf",
		NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, "/usr/bin/env", env, "./vmm", "run", "--dir", opt,
		TPAY_DIR "files-musl-static.elf", dir, NULL);
	ck_assert_msg(strstr(r.out, "-- scratch in /tmp\nmkdir: -1 No such file or directory\n"),
		      "%s", r.out);
	ck_assert_msg(strstr(r.err, "vmm: warning: vfs: the private /tmp") &&
			  strstr(r.err, "No such file or directory"),
		      "%s", r.err);
	e2e_free(&r);
	remove_grant(dir);
}
END_TEST

/* Nothing outside a grant is reachable, a read-only grant stays unchanged,
 * and a writable MAP_SHARED file mapping is refused. Guest only. */
START_TEST(grant_escapes_refused)
{
	static const char *const files[] = {"file.txt", "file", "sub", NULL, NULL};
	static const char *const links[] = {"abs", "/etc/passwd", "sub/up", "../../../etc/passwd",
					    NULL};
	static const char *const want =
	    "dotdot: No such file or directory\n"
	    "absolute symlink: Permission denied\n"
	    "stat absolute symlink: Permission denied\n"
	    "relative symlink up: Permission denied\n"
	    "dirfd ..: No such file or directory\n"
	    "dirfd inside: OPENED\n"
	    "write in ro grant: Read-only file system\n"
	    "create in ro grant: Read-only file system\n"
	    "mkdir in ro grant: Read-only file system\n"
	    "unlink in ro grant: Read-only file system\n"
	    "chdir outside: No such file or directory\n"
	    "root: OPENED\n"
	    "create in /: Read-only file system\n"
	    "mmap shared writable of a read-only fd: Permission denied\n"
	    "mmap shared read-only: MAPPED file\n"
	    "mmap shared writable of /tmp/t: No such device\n";
	char dir[sizeof(GRANT_TEMPLATE)], opt[sizeof(GRANT_TEMPLATE) + 8];
	struct run_result r;

	make_grant(dir, files, links);
	snprintf(opt, sizeof(opt), "%s:/g", dir);
	for (int l = 0; l < 2; l++) {
		e2e_run(&r, NULL, VMM_BIN, "run", "--dir", opt,
			l ? TPAY_DIR "escape-musl-static.elf" : TPAY_DIR "escape-glibc-static.elf",
			"/g", NULL);
		ck_assert_msg(r.status == 0, "status %d\n%s", r.status, r.err);
		ck_assert_str_eq(r.out, want);
		ck_assert_msg(strstr(r.err, "leads outside the grant"), "%s", r.err);
		ck_assert_msg(strstr(r.err, "MAP_SHARED with PROT_WRITE"), "%s", r.err);
		e2e_free(&r);
	}
	ck_assert_int_eq(access("/etc/passwd", F_OK), 0);
	remove_grant(dir);
}
END_TEST

/* Bad grants are vmm's error (125) before the payload runs. */
START_TEST(bad_grants)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", "--dir", "/nonexistent-vmm-dir",
		TPAY_DIR "hello-musl-static.elf", NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_msg(strstr(r.err, "/nonexistent-vmm-dir: No such file"), "%s", r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "--dir", "/tmp:rel", TPAY_DIR "hello-musl-static.elf",
		NULL);
	ck_assert_int_eq(r.status, 125);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "--cwd", "/nowhere", TPAY_DIR "hello-musl-static.elf",
		NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_msg(strstr(r.err, "not inside a granted directory"), "%s", r.err);
	e2e_free(&r);
}
END_TEST

/* Handlers with siginfo, masks, the alternate stack, timers, EINTR and
 * SA_RESTART, SIGPIPE; then the deaths, with Linux's statuses. */
START_TEST(signals_like_native)
{
	static const char *const deaths[][2] = {
	    {"abort", "134"}, {"alarm", "142"}, {"segv", "139"}, {"pipe", "141"}};

	same_as_native("signals", NULL, NULL, 0);
	for (size_t i = 0; i < 4; i++) {
		const char *args[] = {deaths[i][0], NULL};

		same_as_native("signals", NULL, args, atoi(deaths[i][1]));
	}
}
END_TEST

static int file_eq(const char *a, const char *b)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
	return system(cmd) == 0;
}

/* Debian's busybox-static on a granted directory, against its native
 * run: a compressor writing next to its input, sort -o, find. A shell
 * pipeline needs fork: refused with a clear message. */
START_TEST(busybox_in_a_grant)
{
	static const char *const files[] = {"d", NULL, NULL};
	char dir[sizeof(GRANT_TEMPLATE)], rw[sizeof(GRANT_TEMPLATE) + 8], p[300], q[300];
	struct run_result n, g;
	FILE *f;

	if (access("/bin/busybox", X_OK) != 0) {
		printf("SKIP: busybox: /bin/busybox missing (apt-get install busybox-static)\n");
		return;
	}
	make_grant(dir, files, NULL);
	snprintf(p, sizeof(p), "%s/data.txt", dir);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	for (unsigned i = 0, x = 7; i < 20000; i++, x = x * 1103515245 + 12345)
		fprintf(f, "%u\n", x >> 8);
	fclose(f);
	snprintf(rw, sizeof(rw), "%s:rw", dir);
	/* gzip -k writes data.txt.gz beside its input; native gzip -c the same. */
	e2e_run(&g, NULL, VMM_BIN, "run", "--dir", rw, "--cwd", dir, "/bin/busybox", "gzip", "-k",
		"data.txt", NULL);
	ck_assert_msg(g.status == 0, "gzip: %d\n%s", g.status, g.err);
	e2e_free(&g);
	snprintf(p, sizeof(p), "cd '%s' && /bin/busybox gzip -c data.txt > /tmp/vmm-e2e-native.gz",
		 dir);
	ck_assert_int_eq(system(p), 0);
	snprintf(p, sizeof(p), "%s/data.txt.gz", dir);
	ck_assert_msg(file_eq(p, "/tmp/vmm-e2e-native.gz"), "gzip output differs from native");
	unlink("/tmp/vmm-e2e-native.gz");
	/* gunzip -c of it in the guest gives the input back. */
	e2e_run(&g, NULL, VMM_BIN, "run", "--dir", dir, "/bin/busybox", "gunzip", "-c", p, NULL);
	snprintf(q, sizeof(q), "%s/data.txt", dir);
	e2e_run(&n, NULL, "/bin/cat", q, NULL);
	ck_assert_int_eq(g.status, 0);
	ck_assert(g.out_len == n.out_len && memcmp(g.out, n.out, n.out_len) == 0);
	e2e_free(&g);
	e2e_free(&n);
	/* sort -o into the grant, against sort natively. */
	e2e_run(&g, NULL, VMM_BIN, "run", "--dir", rw, "--cwd", dir, "/bin/busybox", "sort", "-n",
		"-o", "sorted.txt", "data.txt", NULL);
	ck_assert_int_eq(g.status, 0);
	e2e_free(&g);
	snprintf(p, sizeof(p), "/bin/busybox sort -n '%s/data.txt' > /tmp/vmm-e2e-sorted", dir);
	ck_assert_int_eq(system(p), 0);
	snprintf(p, sizeof(p), "%s/sorted.txt", dir);
	ck_assert_msg(file_eq(p, "/tmp/vmm-e2e-sorted"), "sort output differs from native");
	unlink("/tmp/vmm-e2e-sorted");
	/* find over the grant, read-only, at the same path as on the host. */
	e2e_run(&n, NULL, "/bin/busybox", "find", dir, NULL);
	e2e_run(&g, NULL, VMM_BIN, "run", "--dir", dir, "/bin/busybox", "find", dir, NULL);
	ck_assert_int_eq(g.status, 0);
	ck_assert_str_eq(g.out, n.out);
	e2e_free(&g);
	e2e_free(&n);
	/* A pipeline forks: refused, and vmm says why. */
	e2e_run(&g, NULL, VMM_BIN, "run", "/bin/busybox", "sh", "-c", "echo a | cat", NULL);
	ck_assert_int_ne(g.status, 0);
	ck_assert_msg(strstr(g.err, "fork, vfork, clone of a process and execve are not supported"),
		      "%s", g.err);
	e2e_free(&g);
	remove_grant(dir);
}
END_TEST

/* Random paths at every path syscall: vmm survives, nothing outside the
 * grants changes and a read-only grant stays as it was. */
START_TEST(path_fuzz_stays_inside)
{
	static const char *const files[] = {"file", "keep", "sub", NULL, NULL};
	static const char *const links[] = {"abs", "/etc", "sub/up", "../../..", NULL};
	char dir[sizeof(GRANT_TEMPLATE)], opt[sizeof(GRANT_TEMPLATE) + 8], p[300];
	struct run_result r;
	struct stat before, after;

	ck_assert_int_eq(stat("/etc/passwd", &before), 0);
	make_grant(dir, files, links);
	snprintf(opt, sizeof(opt), "%s:/g", dir);
	for (int l = 0; l < 2; l++) {
		e2e_run(&r, "", VMM_BIN, "run", "--dir", opt, "--cwd", "/g",
			l ? TPAY_DIR "sysfuzz-musl-static.elf"
			  : TPAY_DIR "sysfuzz-glibc-static.elf",
			"6000", "paths", NULL);
		ck_assert_msg(r.status == 0 && strstr(r.out, "sysfuzz: survived"), "status %d\n%s",
			      r.status, r.err);
		e2e_free(&r);
	}
	snprintf(p, sizeof(p), "ls -A '%s' | tr '\\n' ' '", dir);
	e2e_run(&r, NULL, "/bin/sh", "-c", p, NULL);
	ck_assert_str_eq(r.out, "abs file sub ");
	e2e_free(&r);
	snprintf(p, sizeof(p), "%s/file", dir);
	e2e_run(&r, NULL, "/bin/cat", p, NULL);
	ck_assert_str_eq(r.out, "keep");
	e2e_free(&r);
	ck_assert_int_eq(stat("/etc/passwd", &after), 0);
	ck_assert(after.st_mtime == before.st_mtime && after.st_mode == before.st_mode);
	remove_grant(dir);
}
END_TEST

E2E_SUITE_MAIN("e2e_abi", 120, pipes_dup_poll_like_native, files_like_native,
	       private_tmp_made_on_use, grant_escapes_refused, bad_grants, signals_like_native,
	       busybox_in_a_grant, path_fuzz_stays_inside)
