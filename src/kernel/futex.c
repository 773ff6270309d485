/* futex(2): WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP and the BITSET
 * forms, private or not (one address space: the same thing), with
 * relative, absolute and CLOCK_REALTIME timeouts. A waiter is queued by
 * guest virtual address under the table's lock, then sleeps on the host
 * (task_sleep) until a wake, its timeout, a signal or the end of the run;
 * it never holds the process lock while it waits. LOCK_PI, LOCK_PI2,
 * TRYLOCK_PI and UNLOCK_PI keep the owner's TID in the word and hand the
 * lock to the oldest waiter, as Linux does; the guest has no priorities
 * to inherit (one vCPU per thread). The PI requeue operations (condition
 * variables on PI mutexes) are left out: -ENOSYS. */
#include "kernel/futex.h"

#include <errno.h>
#include <linux/futex.h>
#include <time.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"

void futex_init(struct futex_table *f)
{
	pthread_mutex_init(&f->lock, NULL);
	f->head = NULL;
}

static void futex_unqueue(struct futex_table *f, struct futex_waiter *w)
{
	for (struct futex_waiter **pp = &f->head; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			return;
		}
}

/* Table lock held. */
static int futex_wake_locked(struct futex_table *f, gva_t uaddr, int n, uint32_t bitset)
{
	struct futex_waiter **pp = &f->head;
	int woken = 0;

	while (*pp && woken < n) {
		struct futex_waiter *w = *pp;

		if (w->uaddr != uaddr || !(w->bitset & bitset)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		__atomic_store_n(&w->woken, w->pi ? FUTEX_WOKEN_RETRY : FUTEX_WOKEN,
				 __ATOMIC_RELEASE);
		task_wake(w->task);
		woken++;
	}
	return woken;
}

int futex_wake(struct futex_table *f, gva_t uaddr, int n, uint32_t bitset)
{
	int r;

	pthread_mutex_lock(&f->lock);
	r = futex_wake_locked(f, uaddr, n, bitset);
	pthread_mutex_unlock(&f->lock);
	return r;
}

int futex_nwaiters(struct futex_table *f, gva_t uaddr)
{
	int n = 0;

	pthread_mutex_lock(&f->lock);
	for (struct futex_waiter *w = f->head; w; w = w->next)
		n += w->uaddr == uaddr;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* The futex word as a host pointer (4-byte aligned: one page), for the
 * atomic accesses other vCPUs' native stores to it call for; NULL for a
 * misaligned or unmapped word. */
static uint32_t *futex_word(const struct page_tables *pt, gva_t uaddr, enum pt_access acc)
{
	gpa_t gpa;

	if ((uaddr & 3) || pt_translate(pt, uaddr, acc, &gpa) < 0)
		return NULL;
	return mem_ptr(pt->mem, gpa, sizeof(uint32_t));
}

static int futex_read(struct task *t, gva_t uaddr, uint32_t *val)
{
	uint32_t *w = futex_word(t->proc->pt, uaddr, PT_READ);

	if (!w)
		return -EFAULT;
	*val = __atomic_load_n(w, __ATOMIC_SEQ_CST);
	return 0;
}

int futex_store(const struct page_tables *pt, gva_t uaddr, uint32_t val)
{
	uint32_t *w = futex_word(pt, uaddr, PT_WRITE);

	if (!w)
		return -EFAULT;
	__atomic_store_n(w, val, __ATOMIC_SEQ_CST);
	return 0;
}

/* The deadline of a wait as an absolute time on *clk; NULL: none. */
static int futex_deadline(struct task *t, int cmd, bool realtime, gva_t uts, int *clk,
			  struct timespec *abs, const struct timespec **out)
{
	struct timespec ts, now;

	*clk = realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC;
	*out = NULL;
	if (!uts)
		return 0;
	if (uaccess_read(t->proc->pt, &ts, uts, sizeof(ts)) < 0)
		return -EFAULT;
	if (!timespec_valid(&ts))
		return -EINVAL;
	if (cmd == FUTEX_WAIT) { /* relative, measured on the monotonic clock */
		*clk = CLOCK_MONOTONIC;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ts.tv_sec += now.tv_sec;
		ts.tv_nsec += now.tv_nsec;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
	}
	*abs = ts;
	*out = abs;
	return 0;
}

static bool futex_past(int clk, const struct timespec *abs)
{
	struct timespec now;

	if (!abs)
		return false;
	clock_gettime(clk, &now);
	return now.tv_sec > abs->tv_sec ||
	       (now.tv_sec == abs->tv_sec && now.tv_nsec >= abs->tv_nsec);
}

/* The word at uaddr against the value the caller expects, as FUTEX_WAIT
 * and CMP_REQUEUE check it under the table's lock: 0, -EFAULT or -EAGAIN. */
static long futex_expect(struct task *t, gva_t uaddr, uint32_t val)
{
	uint32_t cur;

	if (futex_read(t, uaddr, &cur) < 0)
		return -EFAULT;
	return cur == val ? 0 : -EAGAIN;
}

/* Appended (table lock held): FUTEX_WAKE wakes the oldest waiters first. */
static void futex_enqueue(struct futex_table *f, struct futex_waiter *w)
{
	struct futex_waiter **pp = &f->head;

	while (*pp)
		pp = &(*pp)->next;
	*pp = w;
}

/* Sleeps, queued as w, until woken (w->woken: FUTEX_WOKEN...), a signal,
 * the run's end or the deadline: w->woken, -EINTR or -ETIMEDOUT; off the
 * queue either way. */
static long futex_sleep(struct task *t, struct futex_waiter *w, int clk, const struct timespec *abs)
{
	struct futex_table *f = &t->proc->futex;
	uint32_t seq;
	long r = 0;

	for (;;) {
		seq = task_wake_seq(t);
		if (__atomic_load_n(&w->woken, __ATOMIC_ACQUIRE))
			return w->woken;
		if (task_should_stop(t) || signal_pending(t)) {
			r = -EINTR;
			break;
		}
		if (futex_past(clk, abs)) {
			r = -ETIMEDOUT;
			break;
		}
		/* A kick (a signal for this thread, --timeout, the run's
		 * end) interrupts: -EINTR, and the run loop looks why;
		 * libcs wait again where nothing was meant for them. */
		if (task_sleep(t, seq, clk, abs) == -EINTR) {
			r = -EINTR;
			break;
		}
	}
	pthread_mutex_lock(&f->lock);
	if (__atomic_load_n(&w->woken, __ATOMIC_ACQUIRE))
		r = w->woken; /* woken meanwhile: the wake counted it */
	else
		futex_unqueue(f, w);
	pthread_mutex_unlock(&f->lock);
	return r;
}

/* The wait itself: queue, sleep until woken, a signal, the run's end or
 * the deadline; 0, -EAGAIN, -EINTR or -ETIMEDOUT. A requeue may move the
 * waiter to another address meanwhile: the table's lock covers it. */
static long futex_wait(struct task *t, gva_t uaddr, uint32_t val, uint32_t bitset, int clk,
		       const struct timespec *abs)
{
	struct futex_table *f = &t->proc->futex;
	struct futex_waiter w = {.uaddr = uaddr, .bitset = bitset, .task = t};
	long r = 0;

	pthread_mutex_lock(&f->lock);
	r = futex_expect(t, uaddr, val);
	if (r) {
		pthread_mutex_unlock(&f->lock);
		return r;
	}
	futex_enqueue(f, &w);
	pthread_mutex_unlock(&f->lock);
	r = futex_sleep(t, &w, clk, abs);
	return r > 0 ? 0 : r;
}

/* REQUEUE and CMP_REQUEUE: wake nwake at uaddr, move up to nmove of the
 * others to uaddr2; woken + moved. */
static long futex_requeue(struct task *t, gva_t uaddr, gva_t uaddr2, int nwake, int nmove, bool cmp,
			  uint32_t val3)
{
	struct futex_table *f = &t->proc->futex;
	long woken, moved = 0;

	if (nwake < 0 || nmove < 0)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	if (cmp) {
		long r = futex_expect(t, uaddr, val3);

		if (r) {
			pthread_mutex_unlock(&f->lock);
			return r;
		}
	}
	woken = futex_wake_locked(f, uaddr, nwake, FUTEX_BITSET_MATCH_ANY);
	for (struct futex_waiter *w = f->head; w && moved < nmove; w = w->next)
		if (w->uaddr == uaddr) {
			w->uaddr = uaddr2;
			moved++;
		}
	pthread_mutex_unlock(&f->lock);
	return woken + moved;
}

static int32_t futex_sext12(uint32_t v)
{
	return (int32_t)(v << 20) >> 20;
}

/* FUTEX_WAKE_OP's comparison of the old value (linux/futex.h). */
static bool futex_op_cmp(uint32_t cmp, int32_t old, int32_t arg)
{
	switch (cmp) {
	case FUTEX_OP_CMP_EQ:
		return old == arg;
	case FUTEX_OP_CMP_NE:
		return old != arg;
	case FUTEX_OP_CMP_LT:
		return old < arg;
	case FUTEX_OP_CMP_LE:
		return old <= arg;
	case FUTEX_OP_CMP_GT:
		return old > arg;
	default:
		return old >= arg; /* FUTEX_OP_CMP_GE; others refused before */
	}
}

/* The atomic update of *uaddr2 that FUTEX_WAKE_OP makes; the old value.
 * The word is live guest memory other vCPUs use: a host atomic on it. */
static int futex_atomic_op(struct task *t, gva_t uaddr2, uint32_t op, int32_t arg, int32_t *old)
{
	uint32_t *w = futex_word(t->proc->pt, uaddr2, PT_WRITE), cur, next;

	if (!w)
		return -EFAULT;
	cur = __atomic_load_n(w, __ATOMIC_RELAXED);
	do {
		switch (op) {
		case FUTEX_OP_SET:
			next = (uint32_t)arg;
			break;
		case FUTEX_OP_ADD:
			next = cur + (uint32_t)arg;
			break;
		case FUTEX_OP_OR:
			next = cur | (uint32_t)arg;
			break;
		case FUTEX_OP_ANDN:
			next = cur & ~(uint32_t)arg;
			break;
		default:
			next = cur ^ (uint32_t)arg; /* FUTEX_OP_XOR */
		}
	} while (
	    !__atomic_compare_exchange_n(w, &cur, next, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	*old = (int32_t)cur;
	return 0;
}

static long futex_wake_op(struct task *t, gva_t uaddr, gva_t uaddr2, int n, int n2, uint32_t val3)
{
	struct futex_table *f = &t->proc->futex;
	uint32_t op = (val3 >> 28) & 7, cmp = (val3 >> 24) & 15;
	int32_t oparg = futex_sext12(val3 >> 12), cmparg = futex_sext12(val3), old;
	long woken;

	if (val3 & ((uint32_t)FUTEX_OP_OPARG_SHIFT << 28)) {
		if (oparg < 0 || oparg > 31)
			return -EINVAL;
		oparg = (int32_t)(1u << oparg);
	}
	if (op > FUTEX_OP_XOR || cmp > FUTEX_OP_CMP_GE)
		return -ENOSYS; /* Linux's answer for an unknown op or comparison */
	pthread_mutex_lock(&f->lock);
	if (futex_atomic_op(t, uaddr2, op, oparg, &old) < 0) {
		pthread_mutex_unlock(&f->lock);
		return -EFAULT;
	}
	woken = futex_wake_locked(f, uaddr, n, FUTEX_BITSET_MATCH_ANY);
	if (futex_op_cmp(cmp, old, cmparg))
		woken += futex_wake_locked(f, uaddr2, n2, FUTEX_BITSET_MATCH_ANY);
	pthread_mutex_unlock(&f->lock);
	return woken;
}

/* ---- priority-inheritance locks: the owner's TID in the word ---- */

/* The oldest PI waiter on uaddr other than `except`, or NULL (lock held). */
static struct futex_waiter *futex_pi_waiter(const struct futex_table *f, gva_t uaddr,
					    const struct futex_waiter *except)
{
	for (struct futex_waiter *w = f->head; w; w = w->next)
		if (w->pi && w->uaddr == uaddr && w != except)
			return w;
	return NULL;
}

/* LOCK_PI, LOCK_PI2 and TRYLOCK_PI: a free word (TID 0, maybe
 * OWNER_DIED) becomes ours; else FUTEX_WAITERS is set and the thread
 * waits to be handed the lock. 0, -EDEADLK (ours already), -EWOULDBLOCK
 * (try), -EFAULT, -ETIMEDOUT, or -ERESTARTNOINTR: a signal's handler runs
 * and the lock is asked again, as on Linux. */
static long futex_lock_pi(struct task *t, gva_t uaddr, bool try, int clk,
			  const struct timespec *abs)
{
	struct futex_table *f = &t->proc->futex;
	uint32_t tid = (uint32_t)t->tid;

	for (;;) {
		struct futex_waiter w = {
		    .uaddr = uaddr, .bitset = FUTEX_BITSET_MATCH_ANY, .task = t, .pi = true};
		uint32_t *word, cur;
		long r;

		pthread_mutex_lock(&f->lock);
		word = futex_word(t->proc->pt, uaddr, PT_WRITE);
		if (!word) {
			pthread_mutex_unlock(&f->lock);
			return -EFAULT;
		}
		cur = __atomic_load_n(word, __ATOMIC_SEQ_CST);
		for (;;) {
			uint32_t owner = cur & FUTEX_TID_MASK, want;

			if (owner == 0) {
				want = tid | (cur & FUTEX_OWNER_DIED) |
				       (futex_pi_waiter(f, uaddr, NULL) ? FUTEX_WAITERS : 0);
				if (__atomic_compare_exchange_n(word, &cur, want, false,
								__ATOMIC_SEQ_CST,
								__ATOMIC_SEQ_CST)) {
					pthread_mutex_unlock(&f->lock);
					return 0;
				}
				continue;
			}
			if (owner == tid || try) {
				pthread_mutex_unlock(&f->lock);
				return owner == tid ? -EDEADLK : -EWOULDBLOCK;
			}
			if ((cur & FUTEX_WAITERS) ||
			    __atomic_compare_exchange_n(word, &cur, cur | FUTEX_WAITERS, false,
							__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				break;
		}
		futex_enqueue(f, &w);
		pthread_mutex_unlock(&f->lock);
		r = futex_sleep(t, &w, clk, abs);
		if (r == FUTEX_WOKEN)
			return 0; /* handed over by UNLOCK_PI: the word names us */
		if (r == -EINTR)
			return -ERESTARTNOINTR;
		if (r < 0)
			return r;
		/* FUTEX_WOKEN_RETRY: the owner died (robust list): look again */
	}
}

/* UNLOCK_PI: the oldest PI waiter becomes the owner (FUTEX_WAITERS kept
 * while others wait), else the word becomes 0. -EPERM when the caller
 * does not own it. */
static long futex_unlock_pi(struct task *t, gva_t uaddr)
{
	struct futex_table *f = &t->proc->futex;
	struct futex_waiter *next;
	uint32_t *word, cur, want;

	pthread_mutex_lock(&f->lock);
	word = futex_word(t->proc->pt, uaddr, PT_WRITE);
	if (!word) {
		pthread_mutex_unlock(&f->lock);
		return -EFAULT;
	}
	next = futex_pi_waiter(f, uaddr, NULL);
	cur = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	do {
		if ((cur & FUTEX_TID_MASK) != (uint32_t)t->tid) {
			pthread_mutex_unlock(&f->lock);
			return -EPERM;
		}
		want = next ? (uint32_t)next->task->tid |
				  (futex_pi_waiter(f, uaddr, next) ? FUTEX_WAITERS : 0)
			    : 0;
	} while (!__atomic_compare_exchange_n(word, &cur, want, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST));
	if (next) {
		futex_unqueue(f, next);
		__atomic_store_n(&next->woken, FUTEX_WOKEN, __ATOMIC_RELEASE);
		task_wake(next->task);
	}
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* futex(uaddr, op, val, timeout or val2, uaddr2, val3). */
long sys_futex(struct task *t, const uint64_t a[6])
{
	int cmd = (int)(a[1] & FUTEX_CMD_MASK);
	bool realtime = a[1] & FUTEX_CLOCK_REALTIME;
	gva_t uaddr = a[0], uaddr2 = a[4];
	uint32_t val = (uint32_t)a[2], val3 = (uint32_t)a[5];
	const struct timespec *abs;
	struct timespec ts;
	long r;
	int clk;

	if (realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_LOCK_PI2)
		return -ENOSYS;
	if (uaddr & 3)
		return -EINVAL;
	/* The plain WAIT and WAKE match any bitset; the bitset ones need one. */
	if (cmd == FUTEX_WAIT || cmd == FUTEX_WAKE)
		val3 = FUTEX_BITSET_MATCH_ANY;
	else if ((cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_WAKE_BITSET) && !val3)
		return -EINVAL;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		r = futex_deadline(t, cmd, realtime, a[3], &clk, &ts, &abs);
		return r < 0 ? r : futex_wait(t, uaddr, val, val3, clk, abs);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		return futex_wake(&t->proc->futex, uaddr, (int)val, val3);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		if (uaddr2 & 3)
			return -EINVAL;
		return futex_requeue(t, uaddr, uaddr2, (int)val, (int)a[3],
				     cmd == FUTEX_CMP_REQUEUE, val3);
	case FUTEX_WAKE_OP:
		if (uaddr2 & 3)
			return -EINVAL;
		return futex_wake_op(t, uaddr, uaddr2, (int)val, (int)a[3], val3);
	case FUTEX_LOCK_PI:  /* an absolute CLOCK_REALTIME timeout */
	case FUTEX_LOCK_PI2: /* absolute, monotonic unless FUTEX_CLOCK_REALTIME */
	case FUTEX_TRYLOCK_PI:
		r = futex_deadline(t, FUTEX_WAIT_BITSET, cmd == FUTEX_LOCK_PI || realtime,
				   cmd == FUTEX_TRYLOCK_PI ? 0 : a[3], &clk, &ts, &abs);
		return r < 0 ? r : futex_lock_pi(t, uaddr, cmd == FUTEX_TRYLOCK_PI, clk, abs);
	case FUTEX_UNLOCK_PI:
		return futex_unlock_pi(t, uaddr);
	default:
		return -ENOSYS; /* FUTEX_FD (gone), the PI requeues */
	}
}

void futex_owner_died(struct futex_table *f, const struct page_tables *pt, gva_t uaddr, int tid)
{
	uint32_t *w = futex_word(pt, uaddr, PT_WRITE);
	uint32_t cur;

	if (!w)
		return;
	cur = __atomic_load_n(w, __ATOMIC_SEQ_CST);
	do {
		if ((cur & FUTEX_TID_MASK) != (uint32_t)tid)
			return;
	} while (!__atomic_compare_exchange_n(w, &cur, (cur & FUTEX_WAITERS) | FUTEX_OWNER_DIED,
					      false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	if (cur & FUTEX_WAITERS)
		futex_wake(f, uaddr, 1, FUTEX_BITSET_MATCH_ANY);
}
