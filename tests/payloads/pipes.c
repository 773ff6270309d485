/* File descriptors inside one process: a pipeline through a pipe, dup,
 * dup2, dup3, fcntl flags, poll and select with timeouts, close_range and
 * EMFILE. Prints what it saw; the e2e test compares with the native run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* A result and, when it failed, its errno: in one statement each, since
 * argument order would otherwise read errno before the call. */
static void show(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, strerror(errno));
	else
		printf("%s: %ld\n", what, r);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Upper-cases what goes through a pipe: producer and consumer in turn. */
static void pipeline(void)
{
	int p[2], q[2];
	char buf[64] = {0};
	ssize_t n;

	if (pipe(p) || pipe2(q, O_CLOEXEC))
		printf("pipe failed: %s\n", strerror(errno));
	printf("pipe fds %d %d %d %d\n", p[0], p[1], q[0], q[1]);
	show("pipe fd flags", fcntl(p[0], F_GETFD));
	show("pipe2 O_CLOEXEC fd flags", fcntl(q[1], F_GETFD));
	write(p[1], "hello pipe\n", 11);
	n = read(p[0], buf, sizeof(buf));
	for (ssize_t i = 0; i < n; i++)
		buf[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
	struct iovec iov[2] = {{buf, 6}, {buf + 6, (size_t)n - 6}};
	printf("writev %zd\n", writev(q[1], iov, 2));
	memset(buf, 0, sizeof(buf));
	printf("readv %zd: %s", read(q[0], buf, sizeof(buf)), buf);
	close(p[1]);
	printf("read at eof %zd\n", read(p[0], buf, 1));
	show("write to the read end", write(p[0], "x", 1));
	show("lseek on pipe", lseek(q[0], 0, SEEK_SET));
	show("pread on pipe", pread(q[0], buf, 1, 0));
	close(p[0]);
	close(q[0]);
	close(q[1]);
}

static void dups(void)
{
	int p[2], d, fl;
	char c = 0;

	pipe(p);
	d = dup(p[1]);
	printf("dup -> %d\n", d);
	write(d, "a", 1);
	read(p[0], &c, 1);
	printf("through dup: %c\n", c);
	printf("dup2 -> %d\n", dup2(p[1], 10));
	printf("dup2 same -> %d\n", dup2(10, 10));
	show("dup3 same", dup3(10, 10, 0));
	show("dup3 cloexec", dup3(p[1], 11, O_CLOEXEC));
	show("fd 11 flags", fcntl(11, F_GETFD));
	show("F_DUPFD 20", fcntl(p[1], F_DUPFD, 20));
	show("F_DUPFD_CLOEXEC 20", fcntl(p[1], F_DUPFD_CLOEXEC, 20));
	show("fd 21 flags", fcntl(21, F_GETFD));
	fl = fcntl(p[0], F_GETFL);
	printf("getfl accmode %d nonblock %d\n", fl & O_ACCMODE, !!(fl & O_NONBLOCK));
	fcntl(p[0], F_SETFL, fl | O_NONBLOCK);
	show("nonblock read", read(p[0], &c, 1));
	show("close_range 10..21", syscall(SYS_close_range, 10, 21, 0));
	show("fd 10 after", fcntl(10, F_GETFD));
	show("fd 20 after", fcntl(20, F_GETFD));
	show("close 999", close(999));
	close(p[0]);
	close(p[1]);
	close(d);
}

static void waits(void)
{
	int p[2];
	struct pollfd pf[3];
	fd_set rd;
	struct timeval tv = {0, 50000};
	double t0;
	int r;

	pipe(p);
	pf[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
	pf[1] = (struct pollfd){.fd = p[1], .events = POLLOUT};
	pf[2] = (struct pollfd){.fd = 77, .events = POLLIN};
	r = poll(pf, 3, 100);
	printf("poll: %d revents %x %x %x\n", r, pf[0].revents, pf[1].revents, pf[2].revents);
	t0 = now_ms();
	r = poll(pf, 1, 60);
	printf("poll timeout: %d waited>=50ms %d\n", r, now_ms() - t0 >= 50);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	t0 = now_ms();
	r = select(p[0] + 1, &rd, NULL, NULL, &tv);
	printf("select timeout: %d waited>=40ms %d\n", r, now_ms() - t0 >= 40);
	write(p[1], "z", 1);
	FD_SET(p[0], &rd);
	r = select(p[0] + 1, &rd, NULL, NULL, NULL);
	printf("select ready: %d isset %d\n", r, FD_ISSET(p[0], &rd));
	struct timespec ts = {0, 1000000};
	pf[0].revents = 0;
	r = ppoll(pf, 1, &ts, NULL);
	printf("ppoll ready: %d revents %x\n", r, pf[0].revents);
	close(p[0]);
	close(p[1]);
}

static void limits(void)
{
	int n = 0, fd;

	while ((fd = dup(1)) >= 0)
		n++;
	printf("dup until failure: %s, more than 100: %d\n", strerror(errno), n > 100);
	for (fd = 3; fd < 4096; fd++)
		close(fd);
	printf("after closing, dup -> %d\n", dup(1));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	/* Start like the guest does, with fds 0-2 only, whatever the test
	 * harness left open in the native run. */
	for (int fd = 3; fd < 4096; fd++)
		close(fd);
	pipeline();
	dups();
	waits();
	limits();
	return 0;
}
