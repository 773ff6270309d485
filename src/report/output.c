/* Opening vmm's output streams before the run (report/output.h). */
#include "report/output.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"

static FILE *output_open_file(const char *opt, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		err_set("output: %s %s: %s", opt, path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	return f;
}

static FILE *output_open_fd(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	FILE *f;

	if (flags < 0) {
		err_set("output: --log-fd %d: %s", fd, strerror(errno));
		return NULL;
	}
	if ((flags & O_ACCMODE) == O_RDONLY) {
		err_set("output: --log-fd %d: not open for writing", fd);
		return NULL;
	}
	f = fdopen(fd, "a");
	if (!f)
		err_set("output: --log-fd %d: %s", fd, strerror(errno));
	return f;
}

/* perf stat -o's first line: "# started on Tue Dec  1 02:58:08 2026",
 * then a blank line. */
static void output_started_on(FILE *f)
{
	time_t now = time(NULL);
	char buf[64];

	if (ctime_r(&now, buf)) {
		fprintf(f, "# started on %s\n", buf);
		fflush(f); /* there while the payload runs, as perf's */
	}
}

int report_output_open(struct report_output *o, const struct config *c)
{
	memset(o, 0, sizeof(*o));
	o->counters = stderr;
	if (c->output_path) {
		o->counters = output_open_file("-o", c->output_path);
		o->own_counters = o->counters != NULL;
		if (o->counters)
			output_started_on(o->counters);
	} else if (c->log_fd >= 0) {
		o->counters = output_open_fd(c->log_fd);
		o->own_counters = o->counters != NULL;
	}
	if (!o->counters)
		return -1;
	if (c->json_path && strcmp(c->json_path, "-") == 0) {
		o->json = stdout;
		o->json_name = "stdout";
	} else if (c->json_path) {
		o->json = output_open_file("--json", c->json_path);
		o->own_json = true;
		o->json_name = c->json_path;
		if (!o->json) {
			report_output_close(o);
			return -1;
		}
	}
	return 0;
}

int report_output_close(struct report_output *o)
{
	int ret = 0;

	if (o->own_counters && fclose(o->counters) != 0)
		ret = err_set("output: counters: %s", strerror(errno));
	else if (!o->own_counters && o->counters)
		fflush(o->counters);
	if (o->own_json && o->json && fclose(o->json) != 0)
		ret = err_set("output: --json %s: %s", o->json_name, strerror(errno));
	o->counters = o->json = NULL;
	o->own_counters = o->own_json = false;
	return ret;
}
