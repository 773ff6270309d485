/* The guest's file descriptor table: bounded, lowest-free allocation as
 * POSIX requires, and host fds owned one per guest fd so that closing a
 * guest fd never closes anything vmm itself uses. */
#include "kernel/fdtable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fdtable_init(struct fdtable *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 3; i++) {
		int h = fcntl(i, F_DUPFD_CLOEXEC, 3);

		if (h >= 0)
			fd_install(t, h, (uint64_t)i, false, NULL);
	}
}

static void fd_release(struct fd_file *f)
{
	if (f->host >= 0)
		close(f->host);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

void fdtable_destroy(struct fdtable *t)
{
	for (int i = 0; i < FD_LIMIT; i++)
		if (t->f[i].used)
			fd_release(&t->f[i]);
}

/* Linux's fd arguments are unsigned int: the high half of the register
 * is ignored, so (1 << 40) is fd 0. */
struct fd_file *fd_get(struct fdtable *t, uint64_t fd)
{
	uint32_t n = (uint32_t)fd;

	return n < FD_LIMIT && t->f[n].used ? &t->f[n] : NULL;
}

static int fd_put(struct fdtable *t, uint64_t fd, int host, bool cloexec, const char *path)
{
	struct fd_file *f = &t->f[fd];
	char *p = path ? strdup(path) : NULL;

	if (path && !p) {
		if (host >= 0)
			close(host);
		return -ENOMEM;
	}
	*f = (struct fd_file){.used = true, .cloexec = cloexec, .host = host, .path = p};
	return (int)fd;
}

int fd_install(struct fdtable *t, int host, uint64_t min, bool cloexec, const char *path)
{
	uint64_t i;

	if (min >= FD_LIMIT) {
		if (host >= 0)
			close(host);
		return -EINVAL;
	}
	for (i = min; i < FD_LIMIT && t->f[i].used; i++)
		;
	if (i == FD_LIMIT) {
		if (host >= 0)
			close(host);
		return -EMFILE;
	}
	return fd_put(t, i, host, cloexec, path);
}

int fd_close(struct fdtable *t, uint64_t fd)
{
	struct fd_file *f = fd_get(t, fd);

	if (!f)
		return -EBADF;
	fd_release(f);
	return 0;
}

/* A second host fd for the same open file description. */
static int fd_host_dup(const struct fd_file *f)
{
	int h;

	if (f->host < 0)
		return -1;
	h = fcntl(f->host, F_DUPFD_CLOEXEC, 3);
	return h < 0 ? -errno : h;
}

int fd_dup(struct fdtable *t, uint64_t old, uint64_t min, bool cloexec)
{
	struct fd_file *f = fd_get(t, old);
	int h;

	if (!f)
		return -EBADF;
	if (min >= FD_LIMIT)
		return -EINVAL;
	h = fd_host_dup(f);
	if (h < -1)
		return h;
	return fd_install(t, h, min, cloexec, f->path);
}

int fd_dup_to(struct fdtable *t, uint64_t old, uint64_t newfd, bool cloexec)
{
	struct fd_file *f = fd_get(t, old);
	int h;

	newfd = (uint32_t)newfd;
	if (!f || newfd >= FD_LIMIT)
		return -EBADF;
	if (f == &t->f[newfd]) {
		f->cloexec = cloexec;
		return (int)newfd;
	}
	h = fd_host_dup(f);
	if (h < -1)
		return h;
	if (t->f[newfd].used)
		fd_release(&t->f[newfd]);
	return fd_put(t, newfd, h, cloexec, f->path);
}
