/* futex(2) for the payload's threads: waiters sleep on the host, each on
 * its own task's wake word (task_sleep), queued by guest virtual address:
 * the process has one address space, so the address names the word. */
#ifndef VMM_FUTEX_H
#define VMM_FUTEX_H

#include <pthread.h>
#include <stdint.h>

#include "util/types.h"

struct task;

/* One waiting thread, on its own stack while it waits. */
struct futex_waiter {
	struct futex_waiter *next;
	gva_t uaddr;
	uint32_t bitset;
	struct task *task;
	int woken; /* set under the table's lock before the task is woken:
		    * FUTEX_WOKEN, or FUTEX_WOKEN_RETRY for a PI waiter */
	bool pi;   /* in FUTEX_LOCK_PI: woken as the new owner, or to retry */
};

#define FUTEX_WOKEN 1	    /* a wake; for a PI waiter: it owns the lock now */
#define FUTEX_WOKEN_RETRY 2 /* a PI waiter looks at the word again */

/* The process's waiters, oldest first (FUTEX_WAKE wakes in that order). */
struct futex_table {
	pthread_mutex_t lock;
	struct futex_waiter *head;
};

void futex_init(struct futex_table *f);
/* Wakes up to n waiters on uaddr whose bitset meets `bitset`: how many. */
int futex_wake(struct futex_table *f, gva_t uaddr, int n, uint32_t bitset);
/* An atomic store of a futex word (CLONE_CHILD_CLEARTID): 0 or -EFAULT
 * (not mapped writable, or not 4-byte aligned). */
struct page_tables;
int futex_store(const struct page_tables *pt, gva_t uaddr, uint32_t val);
/* A robust mutex whose owner `tid` died (the robust list at its exit):
 * FUTEX_OWNER_DIED set, one waiter woken, as Linux's handle_futex_death. */
void futex_owner_died(struct futex_table *f, const struct page_tables *pt, gva_t uaddr, int tid);
/* Waiters on uaddr right now (for tests and the thread-exit wake). */
int futex_nwaiters(struct futex_table *f, gva_t uaddr);

#endif
