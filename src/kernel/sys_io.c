/* File descriptor syscalls. The payload has exactly fds 0, 1 and 2, which
 * are the VMM's own, so `./vmm run p.elf > out` captures what `./p.elf > out`
 * would; there is no file system. Payload buffers are read and written in
 * place, page by page (uaccess_each), never through a bounce buffer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"
#include "util/err.h"

#define IO_MAX_COUNT 0x7ffff000ull /* Linux's MAX_RW_COUNT */

/* Linux's fd arguments are unsigned int: the high half of the register
 * is ignored, so (1 << 40) is fd 0. */
static int fd_check(const struct task *t, uint64_t reg)
{
	uint32_t fd = (uint32_t)reg;

	return fd < PROCESS_NFDS && t->proc->fd_open[fd] ? 0 : -EBADF;
}

struct io_ctx {
	int fd;
	uint64_t done;
	bool reading;
};

/* One page-bounded piece: stops the walk (returns 1) on a short transfer. */
static long io_piece(void *ctx, void *host, size_t n)
{
	struct io_ctx *c = ctx;
	ssize_t r;

	do
		r = c->reading ? read(c->fd, host, n) : write(c->fd, host, n);
	while (r < 0 && errno == EINTR && !c->reading);
	if (r < 0)
		return c->done ? 1 : -errno;
	c->done += (uint64_t)r;
	return (size_t)r < n ? 1 : 0;
}

static long io_range(struct task *t, int fd, gva_t buf, uint64_t len, bool reading)
{
	struct io_ctx c = {.fd = fd, .reading = reading};
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
	r = uaccess_each(p->pt, buf, len, reading ? PT_WRITE : PT_READ, io_piece, &c);
	if (!reading)
		p->out_bytes += c.done;
	if (r < 0 && !c.done)
		return reading ? r : signal_check_epipe(t, r);
	return (long)c.done;
}

long sys_read(struct task *t, const uint64_t a[6])
{
	int e = fd_check(t, a[0]);

	return e ? e : io_range(t, (int)a[0], a[1], a[2], true);
}

long sys_write(struct task *t, const uint64_t a[6])
{
	int e = fd_check(t, a[0]);
	return e ? e : io_range(t, (int)a[0], a[1], a[2], false);
}

static long io_vec(struct task *t, const uint64_t a[6], bool reading)
{
	struct iovec iov[IOV_MAX];
	uint64_t n = a[2], i, total = 0, sum = 0;
	int e = fd_check(t, a[0]);

	if (e)
		return e;
	if (n > IOV_MAX)
		return -EINVAL;
	if (uaccess_read(t->proc->pt, iov, a[1], n * sizeof(iov[0])) < 0)
		return -EFAULT;
	for (i = 0; i < n; i++)
		if (__builtin_add_overflow(sum, (uint64_t)iov[i].iov_len, &sum) || sum > SSIZE_MAX)
			return -EINVAL;
	for (i = 0; i < n; i++) {
		uint64_t len = iov[i].iov_len;
		long r = io_range(t, (int)a[0], (gva_t)(uintptr_t)iov[i].iov_base, len, reading);

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
	return io_vec(t, a, true);
}
long sys_writev(struct task *t, const uint64_t a[6])
{
	return io_vec(t, a, false);
}

long sys_close(struct task *t, const uint64_t a[6])
{
	int e = fd_check(t, a[0]);

	if (e)
		return e;
	/* The VMM keeps its own fd: only the payload's view closes. */
	t->proc->fd_open[(uint32_t)a[0]] = false; /* fd_check looked at these bits */
	return 0;
}

long sys_ioctl(struct task *t, const uint64_t a[6])
{
	int e = fd_check(t, a[0]);
	struct winsize ws;
	struct termios tio;

	if (e)
		return e;
	/* Terminal queries answer like the VMM's own fd would, so libc picks
	 * the same buffering as in the native run. */
	switch (a[1]) {
	case TIOCGWINSZ:
		if (ioctl((int)a[0], TIOCGWINSZ, &ws) < 0)
			return -ENOTTY;
		return uaccess_write(t->proc->pt, a[2], &ws, sizeof(ws));
	case TCGETS:
		if (tcgetattr((int)a[0], &tio) < 0)
			return -ENOTTY;
		/* struct termios of glibc is the kernel's termios2-less layout
		 * for the first 36 bytes, which is what TCGETS fills. */
		return uaccess_write(t->proc->pt, a[2], &tio, 36);
	default:
		return -ENOTTY;
	}
}

static long stat_fd(struct task *t, int fd, gva_t buf)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	/* On x86-64 glibc's struct stat is the kernel's. */
	return uaccess_write(t->proc->pt, buf, &st, sizeof(st));
}

long sys_fstat(struct task *t, const uint64_t a[6])
{
	int e = fd_check(t, a[0]);

	return e ? e : stat_fd(t, (int)a[0], a[1]);
}

long sys_newfstatat(struct task *t, const uint64_t a[6])
{
	char path[2];
	long n = uaccess_strncpy(t->proc->pt, path, a[1], sizeof(path));

	if (n == -EFAULT)
		return n;
	if (n == 0 && (a[3] & AT_EMPTY_PATH)) {
		int e = fd_check(t, a[0]);
		return e ? e : stat_fd(t, (int)a[0], a[2]);
	}
	return -ENOENT;
}

long sys_lseek(struct task *t, const uint64_t a[6])
{
	int e = fd_check(t, a[0]);
	off_t r;

	if (e)
		return e;
	r = lseek((int)a[0], (off_t)a[1], (int)a[2]);
	return r < 0 ? -errno : (long)r;
}

long sys_fcntl(struct task *t, const uint64_t a[6])
{
	int e = fd_check(t, a[0]), r;

	if (e)
		return e;
	if (a[1] != F_GETFD && a[1] != F_GETFL)
		return -EINVAL;
	r = fcntl((int)a[0], (int)a[1]);
	return r < 0 ? -errno : r;
}

/* There is no file system: the payload lives in "/". */
long sys_getcwd(struct task *t, const uint64_t a[6])
{
	static const char root[] = "/";

	if (a[1] < sizeof(root))
		return -ERANGE;
	return uaccess_write(t->proc->pt, a[0], root, sizeof(root)) < 0 ? -EFAULT
									: (long)sizeof(root);
}

/* There are no files in the guest: say so once per path, not silently. */
static long no_files(struct task *t, gva_t path_gva, const char *call)
{
	char path[256];
	long n = uaccess_strncpy(t->proc->pt, path, path_gva, sizeof(path));

	if (n == -EFAULT)
		return n;
	if (n < 0)
		snprintf(path, sizeof(path), "(long path)");
	vmm_warn("%s(\"%s\"): the payload has no file system: -ENOENT", call, path);
	return -ENOENT;
}

long sys_openat(struct task *t, const uint64_t a[6])
{
	return no_files(t, a[1], "openat");
}
long sys_open(struct task *t, const uint64_t a[6])
{
	return no_files(t, a[0], "open");
}

long sys_readlink(struct task *t, const uint64_t a[6])
{
	char path[256];
	long n = uaccess_strncpy(t->proc->pt, path, a[0], sizeof(path));

	return n == -EFAULT ? n : -ENOENT;
}
