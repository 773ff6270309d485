/* Bad syscall arguments must come back as errors, never crash the VMM:
 * each line prints the syscall's result so the guest run can be compared
 * with the native one. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long r)
{
	printf("%s: %ld %s\n", what, r, r < 0 ? "error" : "ok");
}

static long raw(long nr, long a, long b, long c)
{
	long r = syscall(nr, a, b, c);
	return r < 0 ? -errno : r;
}

int main(void)
{
	struct iovec bad_iov[2] = {{(void *)16, 4}, {(void *)0x7ffffffff000, 1}};
	char buf[8];

	fflush(stdout);
	show("write null", raw(SYS_write, 1, 0, 5));
	show("write kernel address", raw(SYS_write, 1, (long)0xffff888000000000ull, 5));
	show("write past the end of memory", raw(SYS_write, 1, (long)0x7fffffffe000ull, 0x10000));
	show("writev bad iov", raw(SYS_writev, 1, (long)bad_iov, 2));
	show("writev iov null", raw(SYS_writev, 1, 0, 2));
	show("write bad fd", raw(SYS_write, 7, (long)buf, 1));
	show("clock_gettime bad clock", raw(SYS_clock_gettime, 99, (long)buf, 0));
	show("clock_gettime null", raw(SYS_clock_gettime, 0, 0, 0));
	show("uname null", raw(SYS_uname, 0, 0, 0));
	show("munmap unaligned", raw(SYS_munmap, 4097, 4096, 0));
	show("mprotect unmapped", raw(SYS_mprotect, 0x10000000, 4096, 1));
	show("mmap zero length", raw(SYS_mmap, 0, 0, 3));
	return 0;
}
