/* TLB shootdowns between the payload's vCPUs, the way an OS does them: the
 * thread that changed live translations (munmap, mprotect, mremap,
 * madvise) posts the pages to every other vCPU, kicks those inside
 * KVM_RUN and waits until each has run the invalidation (the batch
 * routine at CPL0: invlpg per page or a CR3 reload, as --tlb-flush says).
 * A vCPU outside KVM_RUN cannot use a stale entry before it enters again,
 * and it invalidates first: it is not waited for (Linux's lazy TLB). */
#include <string.h>

#include "vm/vm.h"

/* Adds the pages to what c must invalidate; too many: all of them. */
static void sd_merge(struct vm_shootdown_cpu *c, const gva_t *pages, size_t n, bool flush_all)
{
	if (flush_all || c->flush_all || c->npages + n > SHOOTDOWN_PAGES) {
		c->flush_all = true;
		c->npages = 0;
	} else {
		memcpy(c->pages + c->npages, pages, n * sizeof(*pages));
		c->npages += n;
	}
	c->req++;
	c->received++;
}

static bool sd_waiting(const struct vm_threads *ts, const struct vm_thread *self,
		       const uint64_t *want)
{
	for (unsigned i = 0; i < ts->n; i++) {
		const struct vm_thread *t = ts->all[i];

		if (t != self && want[i] && t->sd.in_guest && t->sd.done < want[i])
			return true;
	}
	return false;
}

void shootdown_post(struct vm_thread *self, const gva_t *pages, size_t n, bool flush_all)
{
	struct vm_threads *ts = &self->vm->threads;
	uint64_t want[CONFIG_MAX_THREADS] = {0};
	unsigned targets = 0, lazy = 0;

	pthread_mutex_lock(&ts->lock);
	for (unsigned i = 0; i < ts->n; i++) {
		struct vm_thread *t = ts->all[i];

		if (t == self || !t->busy)
			continue;
		sd_merge(&t->sd, pages, n, flush_all);
		if (!t->sd.in_guest) {
			lazy++;
			continue;
		}
		want[i] = t->sd.req;
		targets++;
		(void)vcpu_kick(t->vcpu);
	}
	if (targets + lazy) {
		ts->sd_count++;
		ts->sd_targets += targets;
		ts->sd_lazy += lazy;
	}
	if (targets) {
		uint64_t t0 = vm_now_ns();

		while (sd_waiting(ts, self, want))
			pthread_cond_wait(&ts->cond, &ts->lock);
		ts->sd_wait_ns += vm_now_ns() - t0;
	}
	pthread_mutex_unlock(&ts->lock);
}

/* Runs what was posted to th; the lock held on entry and on return. */
static int sd_serve(struct vm_thread *th)
{
	struct vm_threads *ts = &th->vm->threads;
	gva_t *list = mem_ptr(&th->vm->mem, th->inv_gpa, SZ_4K);

	while (th->sd.done < th->sd.req) {
		uint64_t req = th->sd.req;
		bool all = th->sd.flush_all || !list;
		size_t n = th->sd.npages;
		int r;

		if (!all)
			memcpy(list, th->sd.pages, n * sizeof(gva_t));
		th->sd.npages = 0;
		th->sd.flush_all = false;
		pthread_mutex_unlock(&ts->lock);
		r = run_flush_chunk(th, n, all);
		pthread_mutex_lock(&ts->lock);
		if (r < 0)
			return -1;
		th->sd.done = req;
		th->sd.flushes++;
		pthread_cond_broadcast(&ts->cond);
	}
	return 0;
}

int shootdown_enter(struct vm_thread *th)
{
	struct vm_threads *ts = &th->vm->threads;
	int r;

	if (!__atomic_load_n(&ts->ever_threaded, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&ts->lock);
	r = sd_serve(th);
	th->sd.in_guest = r == 0;
	pthread_mutex_unlock(&ts->lock);
	return r;
}

int shootdown_leave(struct vm_thread *th, bool interrupted)
{
	struct vm_threads *ts = &th->vm->threads;
	int r = 0;

	/* in_guest is only ever set once threads exist (shootdown_enter). */
	if (!__atomic_load_n(&ts->ever_threaded, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&ts->lock);
	if (interrupted && th->sd.in_guest)
		r = sd_serve(th);
	th->sd.in_guest = false;
	pthread_cond_broadcast(&ts->cond);
	pthread_mutex_unlock(&ts->lock);
	return r;
}
