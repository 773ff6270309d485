/* -r N: the payload runs N times, each in a child process with a fresh VM
 * (vmm confines itself with seccomp once a VM runs, so a second VM cannot
 * be built in the same process). Each child sends its JSON run report up
 * a pipe; this process keeps them all, prints the mean and the noise per
 * event as perf stat -r does, and writes {"runs": [...], "summary"}. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/run_cmd.h"
#include "report/perf_rows.h"
#include "report/provenance.h"
#include "report/report.h"
#include "util/err.h"
#include "vm/vm.h"

/* The child: one run; its report goes up fd, its status is the exit. */
static void repeat_child(const struct config *c, struct report_output *out, int fd)
{
	json_object *doc;
	int status;
	const char *s;
	size_t len, off = 0;

	run_cmd_as_repeat_child();
	status = run_cmd_once(c, out, &doc);
	fflush(out->counters);
	if (doc) {
		s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
		len = strlen(s);
		while (off < len) {
			ssize_t w = write(fd, s + off, len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	_exit(status);
}

static char *repeat_slurp(int fd)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);

	while (buf) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			char *more = realloc(buf, (cap *= 2) + 1);

			if (!more) {
				free(buf);
				return NULL;
			}
			buf = more;
		}
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* One run in a child. Its exit status; *doc its report or NULL. */
static int repeat_one(const struct config *c, struct report_output *out, json_object **doc)
{
	int fds[2], st;
	pid_t pid;
	char *text;

	*doc = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		fprintf(stderr, "vmm: repeat: pipe: %s\n", strerror(errno));
		return EXIT_VMM;
	}
	fflush(NULL); /* nothing buffered is written twice */
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "vmm: repeat: fork: %s\n", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return EXIT_VMM;
	}
	if (pid == 0) {
		close(fds[0]);
		repeat_child(c, out, fds[1]);
	}
	run_cmd_child = pid;
	close(fds[1]);
	text = repeat_slurp(fds[0]);
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	run_cmd_child = 0;
	if (text && *text)
		*doc = json_tokener_parse(text);
	free(text);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *repeat_paging(json_object *run)
{
	json_object *p = NULL, *m = NULL;

	if (json_object_object_get_ex(run, "provenance", &p) &&
	    json_object_object_get_ex(p, "paging_mode", &m))
		return json_object_get_string(m);
	return "unknown";
}

static void repeat_print(const struct config *c, FILE *f, json_object *summary,
			 const struct perf_block *blocks, size_t nblocks, const char *interrupted)
{
	char cmd[512];
	json_object *ns = NULL, *v = NULL;
	struct perf_run_info info = {.command = cmd, .interrupted = interrupted};

	run_cmd_command(c, cmd, sizeof(cmd));
	info.runs = (unsigned)json_object_get_uint64(json_object_object_get(summary, "runs"));
	if (json_object_object_get_ex(summary, "run_ns", &ns)) {
		if (json_object_object_get_ex(ns, "mean", &v))
			info.wall_s = json_object_get_double(v) / 1e9;
		if (json_object_object_get_ex(ns, "stddev_of_mean", &v))
			info.wall_stddev_s = json_object_get_double(v) / 1e9;
	}
	if (c->csv_sep)
		perf_stat_print_csv(f, c->csv_sep, &info, blocks, nblocks);
	else
		perf_stat_print_table(f, &info, blocks, nblocks);
}

/* The document of a repeat (docs/json-schema.md "vmm-repeat"), printed
 * and written. Takes the runs. */
static int repeat_report(const struct config *c, struct report_output *out, json_object **runs,
			 size_t n)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	json_object *summary = json_object_new_object();
	struct perf_block *blocks = NULL;
	size_t nblocks = perf_rows_summary(runs, n, &blocks, summary);
	char name[32];
	const char *intr =
	    run_cmd_signal ? run_cmd_signal_name(run_cmd_signal, name, sizeof(name)) : NULL;
	int ret = 0;

	provenance_add(root, "vmm-repeat", repeat_paging(runs[0]));
	json_object_object_add(root, "repeat", json_object_new_uint64(c->repeat));
	json_object_object_add(root, "interrupted", intr ? json_object_new_string(intr) : NULL);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, runs[i]);
	json_object_object_add(root, "runs", arr);
	json_object_object_add(root, "summary", summary);
	if (run_cmd_wants_counters(c) && !c->no_counters) {
		repeat_print(c, out->counters, summary, blocks, nblocks, intr);
		fflush(out->counters);
	}
	if (out->json && report_json_write(root, out->json, out->json_name) < 0) {
		fprintf(stderr, "vmm: %s\n", err_msg());
		ret = -1;
	}
	perf_blocks_free(blocks, nblocks);
	json_object_put(root);
	return ret;
}

int repeat_run(const struct config *c, struct report_output *out)
{
	json_object **runs = calloc(c->repeat, sizeof(*runs));
	size_t n = 0;
	int status = 0;

	if (!runs) {
		fprintf(stderr, "vmm: repeat: out of memory\n");
		return EXIT_VMM;
	}
	for (unsigned i = 0; i < c->repeat && !run_cmd_signal; i++) {
		json_object *doc;

		status = repeat_one(c, out, &doc);
		if (!doc)
			break; /* the VM could not be set up: its message is out */
		runs[n++] = doc;
	}
	if (n > 0 && repeat_report(c, out, runs, n) < 0)
		status = EXIT_VMM;
	free(runs);
	return run_cmd_signal ? 128 + run_cmd_signal : status;
}
