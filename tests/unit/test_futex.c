/* futex(2) and clone's checks without KVM: waits that fail at once
 * (value, alignment, timeouts), wakes that meet a waiter on another host
 * thread, bitsets, requeue, WAKE_OP, a stop that ends a wait, and the
 * clone flags vmm takes, refuses with -EINVAL or -ENOSYS, and limits. */
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "guest_fixture.h"
#include "kernel/futex.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "unit.h"

#define PAGE 0x500000ull /* one writable page: futex words and timespecs */
#define WORD1 PAGE
#define WORD2 (PAGE + 64)
#define TS (PAGE + 128)

static struct guest_mem mem;
static struct frames fr;
static struct page_tables pt;
static struct mm mm;
static struct process proc;
static struct task task, task2;

static void setup(void)
{
	process_fixture_up(&mem, &fr, &pt, &mm, &proc, &task, 32 * MB);
	ck_assert_int_eq(mm_map_fixed(&mm, PAGE, SZ_4K, PROT_READ | PROT_WRITE, 0), 0);
	task_init_thread(&task2, &task);
}

static void teardown(void)
{
	process_fixture_down(&mem, &fr, &pt, &mm, &proc);
}

static long fx(struct task *t, uint64_t uaddr, uint64_t op, uint64_t val, uint64_t ts,
	       uint64_t uaddr2, uint64_t val3)
{
	uint64_t a[6] = {uaddr, op, val, ts, uaddr2, val3};

	return syscall_dispatch(t, SYS_futex, a);
}

static void put32(uint64_t gva, uint32_t v)
{
	ck_assert_int_eq(uaccess_write(&pt, gva, &v, sizeof(v)), 0);
}

static uint32_t get32(uint64_t gva)
{
	uint32_t v;

	ck_assert_int_eq(uaccess_read(&pt, &v, gva, sizeof(v)), 0);
	return v;
}

static void put_ts(time_t s, long ns)
{
	struct timespec ts = {s, ns};

	ck_assert_int_eq(uaccess_write(&pt, TS, &ts, sizeof(ts)), 0);
}

START_TEST(waits_that_end_at_once)
{
	struct timespec now;

	put32(WORD1, 5);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAIT, 4, 0, 0, 0), -EAGAIN);
	ck_assert_int_eq(fx(&task, WORD1 + 1, FUTEX_WAIT, 5, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(fx(&task, 0x1000, FUTEX_WAIT, 5, 0, 0, 0), -EFAULT);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAIT_BITSET, 5, 0, 0, 0), -EINVAL); /* bitset 0 */
	/* A relative 10 ms wait times out; a bad timespec is refused. */
	put_ts(0, 10 * 1000 * 1000);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 5, TS, 0, 0),
			 -ETIMEDOUT);
	put_ts(0, 1000000000);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAIT, 5, TS, 0, 0), -EINVAL);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAIT, 5, 0x1000, 0, 0), -EFAULT);
	/* Absolute deadlines in the past, on either clock. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	put_ts(now.tv_sec - 1, 0);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAIT_BITSET, 5, TS, 0, ~0u), -ETIMEDOUT);
	clock_gettime(CLOCK_REALTIME, &now);
	put_ts(now.tv_sec - 1, 0);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 5, TS, 0, ~0u),
			 -ETIMEDOUT);
	/* CLOCK_REALTIME means nothing to a wake; the PI requeues and FD are
	 * not offered. */
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, 0, 0, 0), -ENOSYS);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_CMP_REQUEUE_PI, 1, 0, WORD2, 5), -ENOSYS);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAIT_REQUEUE_PI, 5, 0, WORD2, 0), -ENOSYS);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAKE, 1, 0, 0, 0), 0);
	ck_assert_int_eq(futex_nwaiters(&proc.futex, WORD1), 0);
}
END_TEST

struct pi_arg {
	struct task *t;
	long ret;
};

static void *pi_locker(void *p)
{
	struct pi_arg *a = p;

	a->ret = fx(a->t, WORD2, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0);
	return NULL;
}

/* PI locks: the owner's TID in the word, EDEADLK for the owner, EAGAIN
 * for a trylock, EPERM for an unlock by another, a timeout that leaves
 * nothing queued, and the unlock that hands the lock to the waiter. */
START_TEST(pi_lock_owner_and_handover)
{
	struct pi_arg a = {.ret = 1};
	struct timespec now, tick = {0, 1000000};
	uint32_t me, other;
	pthread_t th;

	task2.tid = task.tid + 1;
	me = (uint32_t)task.tid;
	other = (uint32_t)task2.tid;
	a.t = &task2;
	put32(WORD2, 0);
	ck_assert_int_eq(fx(&task, WORD2, FUTEX_LOCK_PI, 0, 0, 0, 0), 0);
	ck_assert_uint_eq(get32(WORD2), me);
	ck_assert_int_eq(fx(&task, WORD2, FUTEX_LOCK_PI, 0, 0, 0, 0), -EDEADLK);
	ck_assert_int_eq(fx(&task2, WORD2, FUTEX_TRYLOCK_PI, 0, 0, 0, 0), -EAGAIN);
	ck_assert_int_eq(fx(&task2, WORD2, FUTEX_UNLOCK_PI, 0, 0, 0, 0), -EPERM);
	clock_gettime(CLOCK_REALTIME, &now);
	put_ts(now.tv_sec - 1, 0);
	ck_assert_int_eq(fx(&task2, WORD2, FUTEX_LOCK_PI, 0, TS, 0, 0), -ETIMEDOUT);
	ck_assert_int_eq(futex_nwaiters(&proc.futex, WORD2), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, pi_locker, &a), 0);
	while (futex_nwaiters(&proc.futex, WORD2) == 0)
		nanosleep(&tick, NULL);
	ck_assert_uint_eq(get32(WORD2), me | FUTEX_WAITERS);
	ck_assert_int_eq(fx(&task, WORD2, FUTEX_UNLOCK_PI, 0, 0, 0, 0), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(a.ret, 0);
	ck_assert_uint_eq(get32(WORD2), other); /* handed over; no one else waits */
	ck_assert_int_eq(fx(&task2, WORD2, FUTEX_UNLOCK_PI, 0, 0, 0, 0), 0);
	ck_assert_uint_eq(get32(WORD2), 0);
}
END_TEST

struct waiter_arg {
	struct task *t;
	uint64_t uaddr;
	uint32_t val, bitset;
	long ret;
};

static void *waiter(void *p)
{
	struct waiter_arg *w = p;

	w->ret = fx(w->t, w->uaddr, FUTEX_WAIT_BITSET, w->val, 0, 0, w->bitset);
	return NULL;
}

/* Starts a waiter on task2 and returns once it is queued. */
static pthread_t start_waiter(struct waiter_arg *w)
{
	pthread_t th;

	ck_assert_int_eq(pthread_create(&th, NULL, waiter, w), 0);
	while (futex_nwaiters(&proc.futex, w->uaddr) == 0)
		usleep(1000);
	return th;
}

START_TEST(wake_meets_a_waiter)
{
	struct waiter_arg w = {&task2, WORD1, 0, 0x2, -1};
	pthread_t th;

	put32(WORD1, 0);
	th = start_waiter(&w);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAKE_BITSET, 1, 0, 0, 0x1), 0); /* no match */
	ck_assert_int_eq(fx(&task, WORD2, FUTEX_WAKE, 1, 0, 0, 0), 0);		/* other word */
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 10, 0, 0, 0), 1);
	pthread_join(th, NULL);
	ck_assert_int_eq(w.ret, 0);
	ck_assert_int_eq(futex_nwaiters(&proc.futex, WORD1), 0);
}
END_TEST

START_TEST(requeue_moves_waiters)
{
	struct waiter_arg w = {&task2, WORD1, 0, ~0u, -1};
	pthread_t th;

	put32(WORD1, 0);
	th = start_waiter(&w);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_CMP_REQUEUE, 0, 1, WORD2, 9), -EAGAIN);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_CMP_REQUEUE, 0, 1, WORD2 + 2, 0), -EINVAL);
	/* Wake none, move one: it now waits on WORD2. */
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_CMP_REQUEUE, 0, 1, WORD2, 0), 1);
	ck_assert_int_eq(futex_nwaiters(&proc.futex, WORD1), 0);
	ck_assert_int_eq(futex_nwaiters(&proc.futex, WORD2), 1);
	ck_assert_int_eq(fx(&task, WORD2, FUTEX_WAKE, 1, 0, 0, 0), 1);
	pthread_join(th, NULL);
	ck_assert_int_eq(w.ret, 0);
}
END_TEST

START_TEST(wake_op_updates_and_compares)
{
	struct waiter_arg w = {&task2, WORD2, 3, ~0u, -1};
	pthread_t th;

	put32(WORD1, 0);
	put32(WORD2, 3);
	th = start_waiter(&w);
	/* *WORD2 += 1 (old 3); wake WORD2's waiters if old > 2. */
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAKE_OP, 1, 1, WORD2,
			    FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 2)),
			 1);
	pthread_join(th, NULL);
	ck_assert_int_eq(w.ret, 0);
	ck_assert_uint_eq(get32(WORD2), 4);
	/* The comparison fails: the word still changes, nobody is woken. */
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAKE_OP, 1, 1, WORD2,
			    FUTEX_OP(FUTEX_OP_SET, 9, FUTEX_OP_CMP_EQ, 0)),
			 0);
	ck_assert_uint_eq(get32(WORD2), 9);
	ck_assert_int_eq(fx(&task, WORD1, FUTEX_WAKE_OP, 1, 1, WORD2, 7u << 28), -ENOSYS);
}
END_TEST

/* exit_group from another thread (or --timeout) sets stop and wakes: the
 * waiter leaves with -EINTR and is no longer queued. */
START_TEST(stop_ends_a_wait)
{
	struct waiter_arg w = {&task2, WORD1, 0, ~0u, -1};
	pthread_t th;

	put32(WORD1, 0);
	th = start_waiter(&w);
	__atomic_store_n(&task2.stop, 1, __ATOMIC_RELEASE);
	task_wake(&task2);
	pthread_join(th, NULL);
	ck_assert_int_eq(w.ret, -EINTR);
	ck_assert_int_eq(futex_nwaiters(&proc.futex, WORD1), 0);
}
END_TEST

static struct task spare;
static int started;

static struct task *fake_alloc(void *ctx, int *err)
{
	(void)ctx, (void)err;
	return &spare;
}
static int fake_start(void *ctx, struct task *t, gva_t sp)
{
	(void)ctx, (void)t, (void)sp;
	started++;
	return 0;
}
static void fake_put(void *ctx, struct task *t)
{
	(void)ctx, (void)t;
}

static long clone_(uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	uint64_t a[6] = {flags, stack, ptid, ctid, tls, 0};

	return syscall_dispatch(&task, SYS_clone, a);
}

#define PTHREAD_FLAGS                                                                              \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |        \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

START_TEST(clone_flags_and_limit)
{
	uint64_t mask[16];
	long tid;

	/* No vm layer: threads cannot start. */
	ck_assert_int_eq(clone_(PTHREAD_FLAGS, 0, WORD1, WORD2, 0x1000), -ENOSYS);
	proc.thread_alloc = fake_alloc;
	proc.thread_start = fake_start;
	proc.thread_put = fake_put;
	proc.max_threads = 3; /* task and task2 are alive */
	/* Linux's own rules first, then what vmm cannot do. */
	ck_assert_int_eq(clone_(CLONE_VM | CLONE_THREAD, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(clone_(CLONE_SIGHAND, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(clone_(0x11 /* fork: SIGCHLD */, 0, 0, 0, 0), -ENOSYS);
	ck_assert_int_eq(clone_(CLONE_VM | 0x4000 /* VFORK */ | 0x11, 0, 0, 0, 0), -ENOSYS);
	ck_assert_int_eq(clone_(PTHREAD_FLAGS | CLONE_NEWNET, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(clone_(PTHREAD_FLAGS, 0, 0x1000, WORD2, 0x1000), -EFAULT);
	ck_assert_int_eq(clone_(PTHREAD_FLAGS, 0, WORD1, WORD2, 1ull << 63), -EPERM);
	ck_assert_int_eq(started, 0);
	ck_assert_uint_eq(proc.nthreads, 2);
	tid = clone_(PTHREAD_FLAGS, 0, WORD1, WORD2, 0x7000);
	ck_assert_int_gt(tid, 0);
	ck_assert_int_eq(started, 1);
	ck_assert_int_eq(get32(WORD1), tid); /* CLONE_PARENT_SETTID */
	ck_assert_uint_eq(spare.fs_base, 0x7000);
	ck_assert_uint_eq(spare.clear_child_tid, WORD2);
	ck_assert_ptr_eq(task_find(&proc, (int)tid), &spare);
	ck_assert_int_ne(tid, task.tid);
	ck_assert_int_ne(tid, task2.tid);
	/* The limit: EAGAIN, as Linux at threads-max. */
	ck_assert_int_eq(clone_(PTHREAD_FLAGS, 0, WORD1, WORD2, 0x7000), -EAGAIN);
	/* sched_getaffinity: one CPU per allowed thread. */
	uint64_t a[6] = {0, 8, PAGE + 256, 0, 0, 0};
	ck_assert_int_eq(syscall_dispatch(&task, SYS_sched_getaffinity, a), 8);
	ck_assert_int_eq(uaccess_read(&pt, mask, PAGE + 256, 8), 0);
	ck_assert_uint_eq(mask[0], 7);
	/* The child's exit clears its tid for pthread_join and leaves. */
	uint64_t e[6] = {0};
	put32(WORD2, (uint32_t)tid);
	ck_assert_int_eq(syscall_dispatch(&spare, SYS_exit, e), 0);
	ck_assert_uint_eq(get32(WORD2), 0);
	ck_assert_ptr_null(task_find(&proc, (int)tid));
	ck_assert(!proc.exited);
}
END_TEST

/* A thread that dies holding a robust mutex: its word says OWNER_DIED
 * (waiters kept), a locked one of another owner is left alone, and the
 * walk survives a list that points nowhere. */
START_TEST(robust_list_at_exit)
{
	const uint64_t head = PAGE + 512, mine = PAGE + 600, theirs = PAGE + 640;
	uint64_t e[6] = {0}, r[6] = {head, 24, 0, 0, 0, 0};
	uint64_t words[3];

	/* head -> mine -> theirs -> head; futex words at entry + 8. */
	words[0] = mine, words[1] = 8, words[2] = 0;
	ck_assert_int_eq(uaccess_write(&pt, head, words, sizeof(words)), 0);
	ck_assert_int_eq(uaccess_write(&pt, mine, &theirs, 8), 0);
	ck_assert_int_eq(uaccess_write(&pt, theirs, &head, 8), 0);
	put32(mine + 8, (uint32_t)task2.tid | FUTEX_WAITERS);
	put32(theirs + 8, (uint32_t)task.tid);
	ck_assert_int_eq(syscall_dispatch(&task2, SYS_set_robust_list, r), 0);
	r[1] = 16;
	ck_assert_int_eq(syscall_dispatch(&task2, SYS_set_robust_list, r), -EINVAL);
	ck_assert_int_eq(syscall_dispatch(&task2, SYS_exit, e), 0);
	ck_assert_uint_eq(get32(mine + 8), FUTEX_WAITERS | FUTEX_OWNER_DIED);
	ck_assert_uint_eq(get32(theirs + 8), (uint32_t)task.tid);
	/* A list into unmapped memory: the walk stops, the exit goes on. */
	words[0] = 0x1000;
	ck_assert_int_eq(uaccess_write(&pt, head, words, sizeof(words)), 0);
	task.robust_list = head;
	ck_assert_int_eq(syscall_dispatch(&task, SYS_exit, e), 0);
	ck_assert(proc.exited);
}
END_TEST

UNIT_SUITE_MAIN("futex", setup, teardown, 10, waits_that_end_at_once, pi_lock_owner_and_handover,
		wake_meets_a_waiter, requeue_moves_waiters, wake_op_updates_and_compares,
		stop_ends_a_wait, clone_flags_and_limit, robust_list_at_exit)
