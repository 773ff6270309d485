/* File descriptor syscalls: reads and writes, pipes, dup, fcntl, close and
 * waiting (poll, select) on the host objects behind the guest's fds
 * (fdtable.c). Payload buffers are read and written in place, page by page
 * (uaccess_each), never through a bounce buffer. A read, write or poll that
 * would block waits first, without the process lock (io_wait), so that the
 * other threads' syscalls, the write a read waits for among them, go on;
 * the transfer itself then runs under the lock. A guest signal interrupts
 * the wait (signal.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"
#include "util/err.h"

#define IO_MAX_COUNT 0x7ffff000ull /* Linux's MAX_RW_COUNT */

/* The host fd behind guest fd, or -EBADF (also for a synthesized
 * directory, which has no host object to read). */
int io_host_fd(struct task *t, uint64_t fd)
{
	struct process *p = t->proc;
	struct fd_file *f;
	int h;

	pthread_mutex_lock(&p->lock);
	f = fd_get(&p->fds, fd);
	h = f ? f->host : -EBADF;
	pthread_mutex_unlock(&p->lock);
	return h < 0 ? (f ? -EISDIR : -EBADF) : h;
}

/* ---- waiting without the process lock ---- */

/* A kick that came just before a wait began is not lost for longer. */
#define IO_WAIT_SLICE_MS 20

static int64_t io_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until one of the n host pollfds is ready or ms pass (-1: no limit)
 * and returns poll's count (0: timed out), -EINTR when a guest signal
 * became pending or the run ends, or -errno. The run loop's hold on the
 * process lock is dropped meanwhile; the fds are waited on through dups,
 * so a close by another thread cannot hand their numbers to other files.
 * Out of the lock only the host is asked: the caller's state is its own. */
static long io_wait(struct task *t, struct pollfd *pf, uint64_t n, int ms)
{
	struct process *p = t->proc;
	struct pollfd *d = malloc(n * sizeof(*d) + 1);
	int64_t end = ms < 0 ? -1 : io_now_ms() + ms;
	long r = 0;
	uint64_t i;

	if (!d)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		d[i] = pf[i];
		d[i].fd = pf[i].fd < 0 ? -1 : fcntl(pf[i].fd, F_DUPFD_CLOEXEC, 0);
	}
	for (;;) {
		int64_t left = end < 0 ? IO_WAIT_SLICE_MS : end - io_now_ms();
		int slice = left < IO_WAIT_SLICE_MS ? (int)(left > 0 ? left : 0) : IO_WAIT_SLICE_MS;

		if (t->syscall_locked)
			pthread_mutex_unlock(&p->lock);
		r = poll(d, n, slice);
		if (r < 0)
			r = -errno;
		if (t->syscall_locked)
			pthread_mutex_lock(&p->lock);
		if (r == -EINTR || (r == 0 && (task_should_stop(t) || signal_pending(t))))
			r = -EINTR;
		if (r != 0 || (end >= 0 && io_now_ms() >= end))
			break;
	}
	for (i = 0; i < n; i++) {
		pf[i].revents = d[i].revents;
		if (d[i].fd >= 0)
			close(d[i].fd);
	}
	free(d);
	return r;
}

/* Whether a transfer on host fd h can block: a pipe, terminal or socket
 * opened without O_NONBLOCK (regular files and block devices never wait,
 * and cost only the fstat; a non-blocking file says EAGAIN instead). */
static bool io_may_block(int h)
{
	struct stat st;
	int fl;

	if (fstat(h, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode))
		return false;
	fl = fcntl(h, F_GETFL);
	return fl >= 0 && !(fl & O_NONBLOCK);
}

/* A transfer on host fd h would not block now (a poll that does not wait). */
static bool io_ready(int h, bool reading)
{
	struct pollfd w = {.fd = h, .events = reading ? POLLIN : POLLOUT};

	return poll(&w, 1, 0) != 0;
}

/* Waits (io_wait) until host fd h is ready for the transfer. 0 or -EINTR. */
static long io_wait_ready(struct task *t, int h, bool reading)
{
	while (!io_ready(h, reading)) {
		struct pollfd w = {.fd = h, .events = reading ? POLLIN : POLLOUT};
		long r = io_wait(t, &w, 1, -1);

		if (r < 0)
			return r;
	}
	return 0;
}

struct io_ctx {
	int fd;
	uint64_t done;
	bool reading;
	bool positional; /* pread/pwrite: at off, the fd offset untouched */
	bool may_block;	 /* each piece first checks that it will not block */
	bool must_wait;	 /* ... and stopped the walk: it would have */
	off_t off;
};

/* One page-bounded piece: stops the walk (returns 1) on a short transfer,
 * or before one that would block (a piece is at most a page: a pipe that
 * polls ready takes or gives it without waiting). */
static long io_piece(void *ctx, void *host, size_t n)
{
	struct io_ctx *c = ctx;
	off_t at = c->off + (off_t)c->done;
	ssize_t r;

	if (c->may_block && !io_ready(c->fd, c->reading)) {
		c->must_wait = true;
		return 1;
	}
	if (c->positional)
		r = c->reading ? pread(c->fd, host, n, at) : pwrite(c->fd, host, n, at);
	else
		r = c->reading ? read(c->fd, host, n) : write(c->fd, host, n);
	if (r < 0)
		return c->done ? 1 : -errno;
	c->done += (uint64_t)r;
	return (size_t)r < n ? 1 : 0;
}

static long io_range(struct task *t, int fd, gva_t buf, uint64_t len, bool reading, bool pos,
		     off_t off)
{
	struct io_ctx c = {.fd = fd, .reading = reading, .positional = pos, .off = off};
	struct process *p = t->proc;
	long r;

	/* vfs_read/vfs_write: access_ok on the whole count comes first, the
	 * clamp to MAX_RW_COUNT after, so a huge count is -EFAULT at once
	 * instead of a partial transfer up to the first unmapped page. */
	if (len > USER_TOP || buf > USER_TOP - len)
		return -EFAULT;
	if (len > IO_MAX_COUNT)
		len = IO_MAX_COUNT;
	if (!reading && p->out_limit && len > p->out_limit - p->out_bytes) {
		if (p->out_bytes == p->out_limit)
			return signal_xfsz(t);
		len = p->out_limit - p->out_bytes;
	}
	c.may_block = !pos && io_may_block(fd); /* pread on a pipe: ESPIPE, no wait */
	/* A wait drops the lock, so the walk starts anew after it: the
	 * guest's mappings may have changed meanwhile. A read returns what it
	 * got; a write goes on until all is written, as on a blocking pipe. */
	do {
		if (c.may_block && (r = io_wait_ready(t, fd, reading)) < 0) {
			if (!c.done)
				return r;
			break;
		}
		c.must_wait = false;
		r = uaccess_each(p->pt, buf + c.done, len - c.done, reading ? PT_WRITE : PT_READ,
				 io_piece, &c);
	} while (c.must_wait && !(reading && c.done) && r >= 0);
	if (!reading)
		p->out_bytes += c.done;
	if (r < 0 && !c.done)
		return reading ? r : signal_check_epipe(t, r);
	return (long)c.done;
}

static long io_simple(struct task *t, const uint64_t a[6], bool reading, bool pos)
{
	int h = io_host_fd(t, a[0]);

	if (h < 0)
		return h;
	if (pos && (int64_t)a[3] < 0)
		return -EINVAL;
	return io_range(t, h, a[1], a[2], reading, pos, (off_t)a[3]);
}

long sys_read(struct task *t, const uint64_t a[6])
{
	return io_simple(t, a, true, false);
}
long sys_write(struct task *t, const uint64_t a[6])
{
	return io_simple(t, a, false, false);
}
long sys_pread64(struct task *t, const uint64_t a[6])
{
	return io_simple(t, a, true, true);
}
long sys_pwrite64(struct task *t, const uint64_t a[6])
{
	return io_simple(t, a, false, true);
}

static long io_vec(struct task *t, const uint64_t a[6], bool reading, bool pos)
{
	struct iovec iov[IOV_MAX];
	uint64_t n = a[2], i, total = 0, sum = 0;
	int h = io_host_fd(t, a[0]);

	if (h < 0)
		return h;
	if (n > IOV_MAX || (pos && (int64_t)a[3] < 0))
		return -EINVAL;
	if (uaccess_read(t->proc->pt, iov, a[1], n * sizeof(iov[0])) < 0)
		return -EFAULT;
	for (i = 0; i < n; i++)
		if (__builtin_add_overflow(sum, (uint64_t)iov[i].iov_len, &sum) || sum > SSIZE_MAX)
			return -EINVAL;
	for (i = 0; i < n; i++) {
		uint64_t len = iov[i].iov_len;
		long r = io_range(t, h, (gva_t)(uintptr_t)iov[i].iov_base, len, reading, pos,
				  (off_t)(a[3] + total));

		if (r < 0)
			return total ? (long)total : r;
		total += (uint64_t)r;
		if ((uint64_t)r < len)
			break;
	}
	return (long)total;
}

long sys_readv(struct task *t, const uint64_t a[6])
{
	return io_vec(t, a, true, false);
}
long sys_writev(struct task *t, const uint64_t a[6])
{
	return io_vec(t, a, false, false);
}
long sys_preadv(struct task *t, const uint64_t a[6])
{
	return io_vec(t, a, true, true);
}
long sys_pwritev(struct task *t, const uint64_t a[6])
{
	return io_vec(t, a, false, true);
}

long sys_close(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	int r;

	pthread_mutex_lock(&p->lock);
	r = fd_close(&p->fds, a[0]);
	pthread_mutex_unlock(&p->lock);
	return r;
}

#define CLOSE_RANGE_UNSHARE_ (1u << 1)
#define CLOSE_RANGE_CLOEXEC_ (1u << 2)

long sys_close_range(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	uint64_t lo = (uint32_t)a[0], hi = (uint32_t)a[1], fd;

	if ((a[2] & ~(uint64_t)(CLOSE_RANGE_UNSHARE_ | CLOSE_RANGE_CLOEXEC_)) || lo > hi)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	for (fd = lo; fd <= hi && fd < FD_LIMIT; fd++) {
		struct fd_file *f = fd_get(&p->fds, fd);

		if (f && (a[2] & CLOSE_RANGE_CLOEXEC_))
			f->cloexec = true;
		else if (f)
			fd_close(&p->fds, fd);
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* pipe2: both ends as guest fds; flags O_CLOEXEC, O_NONBLOCK, O_DIRECT. */
static long io_pipe(struct task *t, gva_t fds_gva, uint64_t flags)
{
	struct process *p = t->proc;
	int host[2], guest[2] = {-1, -1};
	bool cloexec = flags & O_CLOEXEC;

	if (flags & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	if (pipe2(host, O_CLOEXEC | (int)(flags & (O_NONBLOCK | O_DIRECT))) < 0)
		return -errno;
	pthread_mutex_lock(&p->lock);
	guest[0] = fd_install(&p->fds, host[0], 0, cloexec, NULL);
	if (guest[0] < 0) {
		close(host[1]);
		pthread_mutex_unlock(&p->lock);
		return guest[0];
	}
	guest[1] = fd_install(&p->fds, host[1], 0, cloexec, NULL);
	if (guest[1] < 0 || uaccess_write(p->pt, fds_gva, guest, sizeof(guest)) < 0) {
		long e = guest[1] < 0 ? guest[1] : -EFAULT;

		fd_close(&p->fds, (uint64_t)guest[0]);
		if (guest[1] >= 0)
			fd_close(&p->fds, (uint64_t)guest[1]);
		pthread_mutex_unlock(&p->lock);
		return e;
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

long sys_pipe(struct task *t, const uint64_t a[6])
{
	return io_pipe(t, a[0], 0);
}
long sys_pipe2(struct task *t, const uint64_t a[6])
{
	return io_pipe(t, a[0], a[1]);
}

static long io_dup(struct task *t, uint64_t old, uint64_t newfd, int how, bool cloexec)
{
	struct process *p = t->proc;
	long r;

	old = (uint32_t)old; /* Linux's dup2/dup3 take unsigned int fds */
	newfd = (uint32_t)newfd;
	pthread_mutex_lock(&p->lock);
	if (how == 0)
		r = fd_dup(&p->fds, old, newfd, cloexec);
	else if (how == 2 && old == newfd)
		r = -EINVAL; /* dup3 refuses what dup2 allows */
	else if (how == 1 && old == newfd)
		r = fd_get(&p->fds, old) ? (long)old : -EBADF;
	else
		r = fd_dup_to(&p->fds, old, newfd, cloexec);
	pthread_mutex_unlock(&p->lock);
	return r;
}

long sys_dup(struct task *t, const uint64_t a[6])
{
	return io_dup(t, a[0], 0, 0, false);
}
long sys_dup2(struct task *t, const uint64_t a[6])
{
	return io_dup(t, a[0], a[1], 1, false);
}
long sys_dup3(struct task *t, const uint64_t a[6])
{
	if (a[2] & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	return io_dup(t, a[0], a[1], 2, a[2] & O_CLOEXEC);
}

/* Status flags the guest may change, as Linux's SETFL_MASK allows. */
#define IO_SETFL_MASK (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

long sys_fcntl(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	struct fd_file *f;
	long r = 0;

	if (a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC)
		return io_dup(t, a[0], a[2], 0, a[1] == F_DUPFD_CLOEXEC);
	pthread_mutex_lock(&p->lock);
	f = fd_get(&p->fds, a[0]);
	if (!f)
		r = -EBADF;
	else if (a[1] == F_GETFD)
		r = f->cloexec ? FD_CLOEXEC : 0;
	else if (a[1] == F_SETFD)
		f->cloexec = a[2] & FD_CLOEXEC;
	else if (f->host < 0)
		r = a[1] == F_GETFL ? O_RDONLY | O_DIRECTORY | O_LARGEFILE : -EINVAL;
	else if (a[1] == F_GETFL)
		r = fcntl(f->host, F_GETFL);
	else if (a[1] == F_SETFL) {
		int cur = fcntl(f->host, F_GETFL);

		r = cur < 0 ? -1
			    : fcntl(f->host, F_SETFL,
				    (cur & ~IO_SETFL_MASK) | ((int)a[2] & IO_SETFL_MASK));
	} else if (a[1] == F_GETPIPE_SZ || a[1] == F_SETPIPE_SZ)
		r = fcntl(f->host, (int)a[1], (int)a[2]);
	else
		r = -2; /* not offered */
	if (r == -1)
		r = -errno;
	else if (r == -2)
		r = -EINVAL;
	pthread_mutex_unlock(&p->lock);
	return r;
}

long sys_ioctl(struct task *t, const uint64_t a[6])
{
	int h = io_host_fd(t, a[0]);
	struct winsize ws;
	struct termios tio;
	int n;

	if (h == -EISDIR)
		return -ENOTTY;
	if (h < 0)
		return h;
	/* Terminal queries answer like the VMM's own fd would, so libc picks
	 * the same buffering as in the native run. */
	switch (a[1]) {
	case TIOCGWINSZ:
		if (ioctl(h, TIOCGWINSZ, &ws) < 0)
			return -ENOTTY;
		return uaccess_write(t->proc->pt, a[2], &ws, sizeof(ws));
	case TCGETS:
		if (tcgetattr(h, &tio) < 0)
			return -ENOTTY;
		/* struct termios of glibc is the kernel's termios2-less layout
		 * for the first 36 bytes, which is what TCGETS fills. */
		return uaccess_write(t->proc->pt, a[2], &tio, 36);
	case FIONREAD:
		if (ioctl(h, FIONREAD, &n) < 0)
			return -errno;
		return uaccess_write(t->proc->pt, a[2], &n, sizeof(n));
	case FIOCLEX:
	case FIONCLEX:
		return sys_fcntl(t, (const uint64_t[6]){a[0], F_SETFD, a[1] == FIOCLEX});
	default:
		return -ENOTTY;
	}
}

long sys_lseek(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	struct fd_file *f;
	off_t r;
	int h;

	pthread_mutex_lock(&p->lock);
	f = fd_get(&p->fds, a[0]);
	h = f ? f->host : -EBADF;
	if (f && h < 0) { /* a synthesized directory: rewinddir only */
		bool rewind = a[1] == 0 && a[2] == SEEK_SET;

		if (rewind)
			f->vpos = 0;
		pthread_mutex_unlock(&p->lock);
		return rewind ? 0 : -EINVAL;
	}
	pthread_mutex_unlock(&p->lock);
	if (h < 0)
		return h;
	r = lseek(h, (off_t)a[1], (int)a[2]);
	return r < 0 ? -errno : (long)r;
}

/* ---- poll and select: guest fds translated to host fds, one host poll ---- */

#define IO_POLL_MAX FD_LIMIT

/* ms for poll from a guest timespec (NULL gva: forever); -EFAULT/-EINVAL. */
static long io_timeout_ms(struct task *t, gva_t ts_gva, struct timespec *ts)
{
	if (!ts_gva)
		return -1;
	if (uaccess_read(t->proc->pt, ts, ts_gva, sizeof(*ts)) < 0)
		return -EFAULT - 1000;
	if (!timespec_valid(ts))
		return -EINVAL - 1000;
	if (ts->tv_sec > INT_MAX / 1000 - 1)
		return INT_MAX;
	return ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
}

/* Polls n guest pollfds in place: host fds swapped in, guest fds back. A
 * closed guest fd is POLLNVAL and makes the poll not wait, as in Linux; a
 * synthesized directory is always readable. */
static long io_poll_fds(struct task *t, struct pollfd *pf, uint64_t n, int ms)
{
	int *guest = malloc(n * sizeof(int) + 1);
	short *fixed = malloc(n * sizeof(short) + 1);
	long r = -ENOMEM, nfixed = 0;
	uint64_t i;

	if (!guest || !fixed)
		goto out;
	for (i = 0; i < n; i++) {
		int h = pf[i].fd < 0 ? -1 : io_host_fd(t, (uint64_t)pf[i].fd);

		guest[i] = pf[i].fd;
		fixed[i] = pf[i].fd < 0 ? 0 : h == -EISDIR ? POLLIN : h < 0 ? POLLNVAL : 0;
		nfixed += fixed[i] != 0;
		pf[i].fd = h >= 0 ? h : -1;
	}
	r = poll(pf, n, 0);
	if (r < 0)
		r = -errno;
	else if (r == 0 && !nfixed && ms != 0)
		r = io_wait(t, pf, n, ms);
	for (i = 0; i < n; i++) {
		pf[i].fd = guest[i];
		if (fixed[i])
			pf[i].revents = fixed[i];
	}
	if (r >= 0)
		r += nfixed;
out:
	free(guest);
	free(fixed);
	return r;
}

static long io_poll(struct task *t, gva_t fds, uint64_t n, int ms)
{
	struct pollfd *pf;
	long r;

	if (n > IO_POLL_MAX)
		return -EINVAL;
	pf = malloc(n * sizeof(*pf) + 1);
	if (!pf)
		return -ENOMEM;
	if (uaccess_read(t->proc->pt, pf, fds, n * sizeof(*pf)) < 0) {
		free(pf);
		return -EFAULT;
	}
	r = io_poll_fds(t, pf, n, ms);
	if (r >= 0 && uaccess_write(t->proc->pt, fds, pf, n * sizeof(*pf)) < 0)
		r = -EFAULT;
	free(pf);
	return r;
}

long sys_poll(struct task *t, const uint64_t a[6])
{
	int ms = (int)a[2] < 0 ? -1 : (int)a[2];

	return io_poll(t, a[0], a[1], ms);
}

long sys_ppoll(struct task *t, const uint64_t a[6])
{
	struct timespec ts;
	long ms = io_timeout_ms(t, a[2], &ts), r;

	if (ms < -1)
		return ms + 1000;
	r = signal_wait_mask(t, a[3], a[4]);
	if (r < 0)
		return r;
	r = io_poll(t, a[0], a[1], (int)ms);
	signal_wait_done(t, r);
	return r;
}

/* select's fd_sets become a poll list: readable, writable, exceptional. */
static long io_select(struct task *t, uint64_t nfds, const gva_t set_gva[3], int ms)
{
	static const short ev[3] = {POLLIN | POLLHUP | POLLERR, POLLOUT | POLLERR, POLLPRI};
	uint64_t sets[3][FD_LIMIT / 64] = {{0}}, out[3][FD_LIMIT / 64] = {{0}};
	size_t bytes = (nfds + 63) / 64 * 8;
	struct pollfd *pf;
	uint64_t fd, n = 0, i;
	long r;
	int k;

	if (nfds > FD_LIMIT)
		return -EINVAL;
	for (k = 0; k < 3; k++)
		if (set_gva[k] && uaccess_read(t->proc->pt, sets[k], set_gva[k], bytes) < 0)
			return -EFAULT;
	pf = malloc(nfds * sizeof(*pf) + 1);
	if (!pf)
		return -ENOMEM;
	for (fd = 0; fd < nfds; fd++) {
		short want = 0;

		for (k = 0; k < 3; k++)
			if (sets[k][fd / 64] & (1ull << (fd % 64)))
				want |= ev[k];
		if (!want)
			continue;
		if (io_host_fd(t, fd) == -EBADF) {
			free(pf);
			return -EBADF;
		}
		pf[n++] = (struct pollfd){.fd = (int)fd, .events = want};
	}
	r = io_poll_fds(t, pf, n, ms);
	for (i = 0; r >= 0 && i < n; i++)
		for (k = 0; k < 3; k++) {
			uint64_t b = (uint64_t)pf[i].fd;

			if ((pf[i].revents & ev[k]) && (sets[k][b / 64] & (1ull << (b % 64))))
				out[k][b / 64] |= 1ull << (b % 64);
		}
	free(pf);
	if (r < 0)
		return r;
	for (r = 0, k = 0; k < 3; k++) {
		for (i = 0; i < bytes / 8; i++)
			r += __builtin_popcountll(out[k][i]);
		if (set_gva[k] && uaccess_write(t->proc->pt, set_gva[k], out[k], bytes) < 0)
			return -EFAULT;
	}
	return r;
}

long sys_select(struct task *t, const uint64_t a[6])
{
	const gva_t sets[3] = {a[1], a[2], a[3]};
	struct timeval tv;
	long ms = -1;

	if (a[4]) {
		if (uaccess_read(t->proc->pt, &tv, a[4], sizeof(tv)) < 0)
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return -EINVAL;
		ms = tv.tv_sec > INT_MAX / 1000 - 1 ? INT_MAX
						    : tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
	}
	return io_select(t, a[0], sets, (int)ms);
}

long sys_pselect6(struct task *t, const uint64_t a[6])
{
	const gva_t sets[3] = {a[1], a[2], a[3]};
	struct timespec ts;
	uint64_t sigarg[2] = {0, 0}; /* { const sigset_t *ss; size_t ss_len } */
	long ms = io_timeout_ms(t, a[4], &ts), r;

	if (ms < -1)
		return ms + 1000;
	if (a[5] && uaccess_read(t->proc->pt, sigarg, a[5], sizeof(sigarg)) < 0)
		return -EFAULT;
	r = signal_wait_mask(t, sigarg[0], sigarg[1]);
	if (r < 0)
		return r;
	r = io_select(t, a[0], sets, (int)ms);
	signal_wait_done(t, r);
	return r;
}

/* sendfile between two host objects, the offset (if any) the guest's. */
long sys_sendfile(struct task *t, const uint64_t a[6])
{
	int out = io_host_fd(t, a[0]), in = io_host_fd(t, a[1]);
	off_t off;
	ssize_t r;

	if (out < 0 || in < 0)
		return out == -EISDIR || in == -EISDIR ? -EINVAL : -EBADF;
	if (a[2] && uaccess_read(t->proc->pt, &off, a[2], sizeof(off)) < 0)
		return -EFAULT;
	/* Into a full pipe: wait without the lock first (io_wait). */
	if (io_may_block(out) && (r = io_wait_ready(t, out, false)) < 0)
		return r;
	r = sendfile(out, in, a[2] ? &off : NULL, a[3] > IO_MAX_COUNT ? IO_MAX_COUNT : a[3]);
	if (r < 0)
		return signal_check_epipe(t, -errno);
	if (a[2] && uaccess_write(t->proc->pt, a[2], &off, sizeof(off)) < 0)
		return -EFAULT;
	return r;
}
