/* Path syscalls: open, stat, directories, links and the cwd, over the
 * directories the user granted (vfs.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"
#include "util/err.h"

static long stat_host(struct task *t, int h, gva_t buf)
{
	struct stat st;

	if (fstat(h, &st) < 0)
		return -errno;
	/* On x86-64 glibc's struct stat is the kernel's. */
	return uaccess_write(t->proc->pt, buf, &st, sizeof(st));
}

long sys_fstat(struct task *t, const uint64_t a[6])
{
	int h = io_host_fd(t, a[0]);

	return h < 0 ? h : stat_host(t, h, a[1]);
}

long sys_newfstatat(struct task *t, const uint64_t a[6])
{
	char path[2];
	long n = uaccess_strncpy(t->proc->pt, path, a[1], sizeof(path));

	if (n == -EFAULT)
		return n;
	if (n == 0 && (a[3] & AT_EMPTY_PATH))
		return sys_fstat(t, (const uint64_t[6]){a[0], a[2]});
	return -ENOENT;
}

long sys_getcwd(struct task *t, const uint64_t a[6])
{
	size_t n = strlen(t->proc->cwd) + 1;

	if (a[1] < n)
		return -ERANGE;
	return uaccess_write(t->proc->pt, a[0], t->proc->cwd, n) < 0 ? -EFAULT : (long)n;
}

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
