/* End to end, issue 14's output side: --version, perf stat's -x columns,
 * -o and --log-fd apart from the payload's stderr, --json -, an unwritable
 * --json refused before the payload runs, SIGINT stopping the guest with
 * the report written (130), and -r N with every run kept. */
#include <json-c/json.h>
#include <signal.h>
#include <time.h>

#include "e2e.h"

#define HELLO TPAY_DIR "hello-musl-static.elf"
#define SPIN TPAY_DIR "spin-musl-static.elf"
#define REGIONS TPAY_DIR "regions-glibc-static.elf"

/* The fields a CSV reader sees in line (sep outside double quotes). */
static int csv_split(char *line, char sep, char **fields, int max)
{
	int n = 0;
	bool quoted = false;

	fields[n++] = line;
	for (char *p = line; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == sep && !quoted && n < max) {
			*p = '\0';
			fields[n++] = p + 1;
		}
	}
	return n;
}

START_TEST(version)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "--version", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strncmp(r.out, "vmm version ", 12) == 0 && strstr(r.out, "(commit "), "%s",
		      r.out);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "version", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(strncmp(r.out, "vmm version ", 12) == 0);
	e2e_free(&r);
}
END_TEST

/* The command: perf's columns for both events, on stderr, apart
 * from what the payload printed on stdout. */
START_TEST(csv_columns_of_perf_stat)
{
	struct run_result r;
	char *f[16];
	int lines = 0;

	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "-x,", "-e", "task-clock,page-faults",
		HELLO, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "hello, world\n");
	for (char *l = strtok(r.err, "\n"); l; l = strtok(NULL, "\n"), lines++) {
		ck_assert_msg(csv_split(l, ',', f, 16) == 7, "not 7 fields: %s", l);
		if (lines == 0) {
			ck_assert_str_eq(f[1], "msec");
			ck_assert_str_eq(f[2], "task-clock");
			ck_assert_msg(strchr(f[0], '.') && atof(f[0]) > 0, "%s", f[0]);
			ck_assert_str_eq(f[6], "CPUs utilized");
		} else {
			ck_assert_str_eq(f[1], "");
			ck_assert_str_eq(f[2], "page-faults");
			ck_assert_int_gt(atol(f[0]), 0);
		}
		ck_assert_int_gt(atoll(f[3]), 0); /* run-time, ns */
		ck_assert_str_eq(f[4], "100.00"); /* software events are not multiplexed */
	}
	ck_assert_int_eq(lines, 2);
	e2e_free(&r);
}
END_TEST

/* -x: with a ':' in an event name: the name is quoted, no field added. */
START_TEST(csv_separator_in_names)
{
	struct run_result r;
	char *f[16];

	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "-x:", "-e", "kvm-vcpu-stat:exits", HELLO,
		NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(r.err, "\"kvm-vcpu-stat:exits\""), "%s", r.err);
	ck_assert_int_eq(csv_split(strtok(r.err, "\n"), ':', f, 16), 7);
	ck_assert_int_gt(atol(f[0]), 0);
	e2e_free(&r);
}
END_TEST

START_TEST(csv_region_column)
{
	struct run_result r;
	char *f[16];
	const char *want[] = {"0", "1", "total"};
	int lines = 0;

	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "-x,", "-e", "page-faults", REGIONS,
		NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	for (char *l = strtok(r.err, "\n"); l; l = strtok(NULL, "\n"), lines++) {
		ck_assert_int_lt(lines, 3);
		ck_assert_int_eq(csv_split(l, ',', f, 16), 8);
		ck_assert_str_eq(f[0], want[lines]);
		ck_assert_str_eq(f[3], "page-faults");
	}
	ck_assert_int_eq(lines, 3);
	e2e_free(&r);
}
END_TEST

/* The whole of a file, as a string the caller frees. */
static char *slurp_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	char *s;

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	s = e2e_slurp(fd, len);
	close(fd);
	return s;
}

/* -o FILE holds the counters; the payload's stderr holds none of them. */
START_TEST(output_file_holds_the_counters)
{
	char path[] = "/tmp/vmm-e2e-out-XXXXXX";
	struct run_result r;
	size_t len;
	char *text;

	e2e_temp_file(path);
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "-o", path, "-e",
		"task-clock,page-faults", TPAY_DIR "touch256-musl-static.elf", "4", NULL);
	text = slurp_file(path, &len);
	unlink(path);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(text, " Performance counter stats for '") &&
			  strstr(text, "msec task-clock") && strstr(text, "page-faults"),
		      "%s", text);
	/* stderr holds what the payload wrote there, and nothing else */
	ck_assert_msg(strncmp(r.err, "random rmw: ", 12) == 0 && !strstr(r.err, "task-clock") &&
			  !strstr(r.err, "Performance counter"),
		      "%s", r.err);
	free(text);
	e2e_free(&r);
}
END_TEST

START_TEST(log_fd_holds_the_counters)
{
	char path[] = "/tmp/vmm-e2e-logfd-XXXXXX", cmd[256];
	struct run_result r;
	size_t len;
	char *text;

	e2e_temp_file(path);
	snprintf(cmd, sizeof(cmd), "%s run --mem 64M --log-fd 7 -x, -e page-faults %s 7>%s",
		 VMM_BIN, HELLO, path);
	e2e_run(&r, NULL, "/bin/sh", "-c", cmd, NULL);
	text = slurp_file(path, &len);
	unlink(path);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(text, ",,page-faults,"), "%s", text);
	ck_assert_msg(!strstr(r.err, "page-faults"), "%s", r.err);
	free(text);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "--log-fd", "99", HELLO, NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_msg(strstr(r.err, "output: --log-fd 99: Bad file descriptor"), "%s", r.err);
	ck_assert_str_eq(r.out, ""); /* refused before the payload ran */
	e2e_free(&r);
}
END_TEST

START_TEST(json_on_stdout)
{
	struct run_result r;
	json_object *root;
	const char *doc;

	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "--json", "-", "-e", "page-faults", HELLO,
		NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(access("-", F_OK) != 0, "vmm wrote a file named '-'");
	ck_assert_msg(strncmp(r.out, "hello, world\n{", 14) == 0, "%s", r.out);
	doc = r.out + 13;
	root = json_tokener_parse(doc);
	ck_assert_msg(root, "not JSON: %s", doc);
	ck_assert_str_eq(json_object_get_string(unit_json_path(root, "document", NULL)), "vmm-run");
	ck_assert_int_eq(json_object_get_int(unit_json_path(root, "schema_version", NULL)), 1);
	ck_assert_str_eq(
	    json_object_get_string(unit_json_path(root, "provenance", "paging_mode", NULL)),
	    json_object_get_string(unit_json_path(root, "kvm_paging", "mode", NULL)));
	json_object_put(root);
	e2e_free(&r);
}
END_TEST

/* The check: status 125, and the payload never ran. */
START_TEST(unwritable_json_fails_before_the_run)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", "--json", "/nonexistent/dir/r.json", HELLO, NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(strstr(r.err, "vmm: output: --json /nonexistent/dir/r.json: No such file or "
				    "directory"),
		      "%s", r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "-o", "/nonexistent/dir/c.txt", HELLO, NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_str_eq(r.out, "");
	e2e_free(&r);
}
END_TEST

/* Waits (10 s at most) until path is not empty. */
static void wait_nonempty(const char *path)
{
	struct stat st;

	for (int i = 0; i < 1000; i++) {
		if (stat(path, &st) == 0 && st.st_size > 0)
			return;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	ck_abort_msg("%s stayed empty", path);
}

/* vmm on spin (never ends) gets sig 0.3 s after its -o file got perf's
 * first line (its signal handlers are in place by then): its status, its
 * report, and in r->err its stderr followed by the -o file. group: sent to
 * vmm's process group, as a terminal's ^C is. */
static json_object *interrupt_spin(int sig, struct run_result *r, const char *repeat, bool group)
{
	char json[sizeof(E2E_JSON_TEMPLATE)], opath[] = "/tmp/vmm-e2e-sig-XXXXXX";
	char *argv[] = {VMM_BIN,      "run",	"-o", opath, "--mem",	     "64M", "-e",
			"task-clock", "--json", json, "-r",  (char *)repeat, SPIN,  NULL};
	int out = e2e_tmpfile(), err = e2e_tmpfile(), st;
	size_t elen, olen;
	char *e, *o;
	pid_t pid;

	e2e_json_path(json);
	e2e_temp_file(opath);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(argv[0], argv);
		_exit(255);
	}
	wait_nonempty(opath);
	nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
	ck_assert(kill(group ? -pid : pid, sig) == 0);
	ck_assert(waitpid(pid, &st, 0) == pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = e2e_slurp(out, &r->out_len);
	e = e2e_slurp(err, &elen);
	o = slurp_file(opath, &olen);
	unlink(opath);
	r->err = malloc(elen + olen + 1);
	ck_assert(r->err != NULL);
	memcpy(r->err, e, elen);
	memcpy(r->err + elen, o, olen + 1);
	r->err_len = elen + olen;
	free(e);
	free(o);
	close(out);
	close(err);
	return e2e_json_take(json);
}

START_TEST(sigint_writes_the_report)
{
	struct run_result r;
	json_object *root = interrupt_spin(SIGINT, &r, "1", false);
	json_object *tc = unit_json_path(root, "total", "counters", "task-clock", NULL);

	ck_assert_msg(r.status == 130, "status %d\n%s", r.status, r.err);
	ck_assert_str_eq(json_object_get_string(unit_json_path(root, "interrupted", NULL)),
			 "SIGINT");
	ck_assert_str_eq(json_object_get_string(unit_json_path(root, "run", "end", NULL)),
			 "interrupted");
	ck_assert_int_eq(json_object_get_int(unit_json_path(root, "run", "exit_status", NULL)),
			 130);
	/* What it counted up to the signal is there (how much depends on the
	 * machine's load, so only that it is a count). */
	ck_assert_int_gt(json_object_get_int64(unit_json_path(tc, "value", NULL)), 0);
	ck_assert_msg(strstr(r.err, "msec task-clock") && strstr(r.err, "interrupted by SIGINT"),
		      "%s", r.err);
	json_object_put(root);
	e2e_free(&r);
}
END_TEST

START_TEST(sigterm_and_sighup_statuses)
{
	const int sigs[] = {SIGTERM, SIGHUP};

	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		struct run_result r;
		json_object *root = interrupt_spin(sigs[i], &r, "1", false);
		char name[16];

		snprintf(name, sizeof(name), "SIG%s", sigabbrev_np(sigs[i]));
		ck_assert_int_eq(r.status, 128 + sigs[i]);
		ck_assert_str_eq(json_object_get_string(unit_json_path(root, "interrupted", NULL)),
				 name);
		json_object_put(root);
		e2e_free(&r);
	}
}
END_TEST

/* A repeat interrupted in its first run: the runs so far, marked, 130. */
START_TEST(sigint_during_repeat)
{
	/* to vmm alone (passed on to the run's child), then to the group
	 * (the child gets it twice: from the "terminal" and from vmm) */
	for (int group = 0; group < 2; group++) {
		struct run_result r;
		json_object *root = interrupt_spin(SIGINT, &r, "3", group);

		ck_assert_msg(r.status == 130, "status %d\n%s", r.status, r.err);
		ck_assert_str_eq(json_object_get_string(unit_json_path(root, "document", NULL)),
				 "vmm-repeat");
		ck_assert_str_eq(json_object_get_string(unit_json_path(root, "interrupted", NULL)),
				 "SIGINT");
		ck_assert_int_eq(json_object_array_length(unit_json_path(root, "runs", NULL)), 1);
		json_object_put(root);
		e2e_free(&r);
	}
}
END_TEST

START_TEST(repeat_keeps_every_run)
{
	char json[sizeof(E2E_JSON_TEMPLATE)];
	struct run_result r;
	json_object *root, *runs, *pf;
	int hellos = 0;

	e2e_json_path(json);
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "-r", "3", "-e", "task-clock,page-faults",
		"--json", json, TPAY_DIR "exit42-musl-static.elf", NULL);
	root = e2e_json_take(json);
	ck_assert_msg(r.status == 42, "status %d (want the last run's, 42)\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "' (3 runs):") && strstr(r.err, "( +-") &&
			  strstr(r.err, "seconds time elapsed  ( +-"),
		      "%s", r.err);
	runs = unit_json_path(root, "runs", NULL);
	ck_assert_int_eq(json_object_array_length(runs), 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(
		    json_object_get_int(unit_json_path(json_object_array_get_idx(runs, i), "run",
						       "exit_status", NULL)),
		    42);
	/* The summary's mean is the mean of the three runs' values (vmm's own
	 * page faults during a run: 0 for this payload, any count for others). */
	pf = unit_json_path(root, "summary", "counters", "page-faults", NULL);
	ck_assert_int_eq(json_object_array_length(unit_json_path(pf, "values", NULL)), 3);
	{
		json_object *v = unit_json_path(pf, "values", NULL);
		double sum = 0;

		for (size_t i = 0; i < 3; i++)
			sum += json_object_get_double(json_object_array_get_idx(v, i));
		ck_assert_double_eq_tol(json_object_get_double(unit_json_path(pf, "mean", NULL)),
					sum / 3, 1e-9);
	}
	ck_assert(json_object_get_double(
		      unit_json_path(root, "summary", "counters", "task-clock", "mean", NULL)) > 0);
	json_object_put(root);
	e2e_free(&r);
	/* Runs that mark regions: each region's means, then the total. */
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "-r", "2", "-e", "task-clock",
		TPAY_DIR "regions-musl-static.elf", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.err, "', region 0 (2 runs):") && strstr(r.err, " regions (2 runs):"),
		      "%s", r.err);
	e2e_free(&r);
	/* A fresh VM each run: the payload's output three times. */
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "-r", "3", "-x,", HELLO, NULL);
	ck_assert_int_eq(r.status, 0);
	for (const char *p = r.out; (p = strstr(p, "hello, world")) != NULL; p++)
		hellos++;
	ck_assert_int_eq(hellos, 3);
	ck_assert_msg(strstr(r.err, "%,"), "no variance column: %s", r.err);
	e2e_free(&r);
}
END_TEST

E2E_SUITE_MAIN("e2e_cli_output", 120, version, csv_columns_of_perf_stat, csv_separator_in_names,
	       csv_region_column, output_file_holds_the_counters, log_fd_holds_the_counters,
	       json_on_stdout, unwritable_json_fails_before_the_run, sigint_writes_the_report,
	       sigterm_and_sighup_statuses, sigint_during_repeat, repeat_keeps_every_run)
