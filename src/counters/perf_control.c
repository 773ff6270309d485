/* perf stat's control protocol: one word per line on the control fd,
 * "ack" back on the ack fd when perf has applied it. */
#include "counters/perf_control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"

#define PERF_ACK_TIMEOUT_MS 5000

static int pc_open_fifo(const char *path, int *fd)
{
	/* O_RDWR: opening a FIFO this way never blocks waiting for perf. */
	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return err_set("perf-control: %s: %s", path, strerror(errno));
	return 0;
}

static int pc_parse_fd(const char *s, int *fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 1 << 20 || fcntl((int)v, F_GETFD) < 0)
		return err_set("perf-control: '%s' is not an open file descriptor", s);
	*fd = (int)v;
	return 0;
}

int perf_control_open(struct perf_control *pc, const char *spec)
{
	bool fifo = strncmp(spec, "fifo:", 5) == 0;
	char buf[512], *ack;

	pc->ctl_fd = pc->ack_fd = -1;
	pc->enabled = false;
	pc->commands = 0;
	if (!fifo && strncmp(spec, "fd:", 3) != 0)
		return err_set(
		    "perf-control: '%s': use fifo:CTL[,ACK] or fd:N[,M] as perf stat --control",
		    spec);
	if (strlen(spec) >= sizeof(buf))
		return err_set("perf-control: spec too long");
	strcpy(buf, spec + (fifo ? 5 : 3));
	ack = strchr(buf, ',');
	if (ack)
		*ack++ = '\0';
	if ((fifo ? pc_open_fifo(buf, &pc->ctl_fd) : pc_parse_fd(buf, &pc->ctl_fd)) < 0)
		return -1;
	if (ack && (fifo ? pc_open_fifo(ack, &pc->ack_fd) : pc_parse_fd(ack, &pc->ack_fd)) < 0) {
		perf_control_close(pc);
		return -1;
	}
	return 0;
}

static int pc_wait_ack(struct perf_control *pc)
{
	struct pollfd p = {.fd = pc->ack_fd, .events = POLLIN};
	char buf[16];
	ssize_t n;

	if (poll(&p, 1, PERF_ACK_TIMEOUT_MS) <= 0)
		return err_set("perf-control: no ack from perf within %d ms", PERF_ACK_TIMEOUT_MS);
	n = read(pc->ack_fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return err_set("perf-control: reading the ack: %s",
			       n < 0 ? strerror(errno) : "closed");
	buf[n] = '\0';
	if (strncmp(buf, "ack", 3) != 0)
		return err_set("perf-control: unexpected answer '%s'", buf);
	return 0;
}

int perf_control_set(struct perf_control *pc, bool enable)
{
	const char *cmd = enable ? "enable\n" : "disable\n";
	size_t len = strlen(cmd);

	if (pc->ctl_fd < 0 || pc->enabled == enable)
		return 0;
	if (write(pc->ctl_fd, cmd, len) != (ssize_t)len)
		return err_set("perf-control: writing '%.*s': %s", (int)len - 1, cmd,
			       strerror(errno));
	pc->enabled = enable;
	pc->commands++;
	return pc->ack_fd >= 0 ? pc_wait_ack(pc) : 0;
}

void perf_control_close(struct perf_control *pc)
{
	if (pc->ctl_fd > 2)
		close(pc->ctl_fd);
	if (pc->ack_fd > 2)
		close(pc->ack_fd);
	pc->ctl_fd = pc->ack_fd = -1;
}
