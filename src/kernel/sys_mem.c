/* Memory syscalls: brk, mmap, munmap, mprotect, madvise and mremap. The
 * work, with Linux's semantics and errno values, is in mm.c; this layer
 * adds what needs the fd table: a file mapping is anonymous memory with
 * the file's contents copied in at mmap time (so the page-size policy still
 * applies). MAP_SHARED of a writable mapping is refused (-ENODEV, said
 * once): there is no write-back. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/uaccess.h"

#include "kernel/syscalls.h"
#include "util/err.h"

long sys_brk(struct task *t, const uint64_t a[6])
{
	return mm_sys_brk(t->proc->mm, a[0]);
}

/* Linux would overcommit where vmm maps eagerly: say so once, since the
 * payload only sees ENOMEM. */
static long warn_if_out_of_memory(struct process *p, long r, uint64_t len)
{
	if (r == -ENOMEM && !p->warned_oom && len > p->pt->frames->nfree * SZ_4K) {
		p->warned_oom = true;
		vmm_warn("mmap of %llu bytes: out of guest memory (%lluM of --mem %lluM free); "
			 "raise --mem",
			 (unsigned long long)len, (unsigned long long)(p->pt->frames->nfree >> 8),
			 (unsigned long long)(p->mem_bytes >> 20));
	}
	return r;
}

struct mmap_copy {
	int fd;
	off_t off;
};

static long mmap_piece(void *ctx, void *host, size_t n)
{
	struct mmap_copy *c = ctx;
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(c->fd, (char *)host + done, n - done, c->off);

		if (r < 0)
			return -errno;
		if (r == 0)
			return 1; /* end of file: the rest stays zero */
		done += (size_t)r;
		c->off += r;
	}
	return 0;
}

/* Is the mapping the payload asks for one vmm can give, and is the fd one
 * that may be mapped: 0, or the errno Linux would give. */
static long mmap_file_check(struct process *p, const uint64_t a[6], int h, struct stat *st)
{
	bool shared = (a[3] & 3) != MAP_PRIVATE;
	int fl = fcntl(h, F_GETFL);

	if (fl < 0 || fstat(h, st) < 0)
		return -errno;
	if ((fl & O_ACCMODE) == O_WRONLY)
		return -EACCES;
	if (!S_ISREG(st->st_mode) && !S_ISCHR(st->st_mode))
		return -ENODEV;
	if (shared && (a[2] & PROT_WRITE)) {
		if ((fl & O_ACCMODE) == O_RDONLY)
			return -EACCES;
		if (!p->warned_shared) {
			p->warned_shared = true;
			vmm_warn("mmap: MAP_SHARED with PROT_WRITE of a file is not supported (vmm "
				 "copies file contents, it writes nothing back): -ENODEV");
		}
		return -ENODEV;
	}
	return 0;
}

static long mmap_file(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	uint64_t flags = (a[3] & ~(uint64_t)3) | MAP_PRIVATE | MAP_ANONYMOUS;
	struct mmap_copy c = {.off = (off_t)a[5]};
	struct stat st;
	long r, e;

	if (a[5] & (SZ_4K - 1))
		return -EINVAL;
	c.fd = io_host_fd(t, a[4]);
	if (c.fd < 0)
		return c.fd == -EISDIR ? -ENODEV : -EBADF;
	r = mmap_file_check(p, a, c.fd, &st);
	if (r < 0)
		return r;
	/* /dev/zero and other devices map as anonymous memory. */
	r = mm_sys_mmap(p->mm, a[0], a[1], a[2] | PROT_READ, flags, (uint64_t)-1, 0);
	if (r < 0 || !S_ISREG(st.st_mode))
		return warn_if_out_of_memory(p, r, a[1]);
	/* Whole pages: the file shows through to the end of the last one. */
	e = uaccess_each(p->pt, (gva_t)r, (a[1] + SZ_4K - 1) & ~(SZ_4K - 1), PT_READ, mmap_piece,
			 &c);
	if (e >= 0 && !(a[2] & PROT_READ))
		e = mm_sys_mprotect(p->mm, (gva_t)r, a[1], a[2]);
	if (e < 0) {
		mm_sys_munmap(p->mm, (gva_t)r, a[1]);
		return e == -EFAULT ? -EIO : e;
	}
	return r;
}

long sys_mmap(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;

	if (!(a[3] & MAP_ANONYMOUS))
		return mmap_file(t, a);
	return warn_if_out_of_memory(p, mm_sys_mmap(p->mm, a[0], a[1], a[2], a[3], a[4], a[5]),
				     a[1]);
}

long sys_munmap(struct task *t, const uint64_t a[6])
{
	return mm_sys_munmap(t->proc->mm, a[0], a[1]);
}

long sys_mprotect(struct task *t, const uint64_t a[6])
{
	return mm_sys_mprotect(t->proc->mm, a[0], a[1], a[2]);
}

long sys_madvise(struct task *t, const uint64_t a[6])
{
	return mm_sys_madvise(t->proc->mm, a[0], a[1], a[2]);
}

long sys_mremap(struct task *t, const uint64_t a[6])
{
	return mm_sys_mremap(t->proc->mm, a[0], a[1], a[2], a[3], a[4]);
}
