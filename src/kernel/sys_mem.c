/* Memory syscalls: brk, mmap, munmap, mprotect, madvise and mremap. The
 * work, with Linux's semantics and errno values, is in mm.c; this layer
 * only adds what the payload cannot see for itself. */
#include <errno.h>

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

long sys_mmap(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;

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
