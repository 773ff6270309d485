/* What the payload may learn about the machine: uname and randomness from
 * the host, and sysinfo from the guest's own RAM (--mem), not the host's. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"

#define GETRANDOM_MAX 33554431u /* Linux caps one getrandom at this */

long sys_uname(struct task *t, const uint64_t a[6])
{
	struct utsname u;

	if (uname(&u) < 0)
		return -errno;
	return uaccess_write(t->proc->pt, a[0], &u, sizeof(u));
}

long sys_sysinfo(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	struct sysinfo si;

	memset(&si, 0, sizeof(si));
	si.uptime = 1;
	si.totalram = p->mem_bytes;
	si.freeram = p->pt->frames->nfree * SZ_4K;
	si.procs = 1;
	si.mem_unit = 1;
	return uaccess_write(p->pt, a[0], &si, sizeof(si));
}

static long getrandom_piece(void *ctx, void *host, size_t n)
{
	(void)ctx;
	while (n) {
		ssize_t r = getrandom(host, n, 0);
		if (r < 0)
			return -errno;
		host = (uint8_t *)host + r;
		n -= (size_t)r;
	}
	return 0;
}

long sys_getrandom(struct task *t, const uint64_t a[6])
{
	uint64_t len = a[1] > GETRANDOM_MAX ? GETRANDOM_MAX : a[1];
	long r;

	if (a[2] & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	r = uaccess_each(t->proc->pt, a[0], len, PT_WRITE, getrandom_piece, NULL);
	return r < 0 ? r : (long)len;
}
