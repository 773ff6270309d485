/* Priority-inheritance mutexes (PTHREAD_PRIO_INHERIT), which the libcs
 * build on FUTEX_LOCK_PI, TRYLOCK_PI and UNLOCK_PI: 4 threads add to a
 * counter under one (contended: the lock is handed over by the kernel);
 * trylock of a held one is EBUSY; the owner relocking an error-checking one
 * gets EDEADLK; a timed lock that cannot get it times out; a robust one
 * whose owner thread exits holding it gives the next locker EOWNERDEAD.
 * Prints what it saw; exits 0 when all is as Linux gives it. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NTHREADS 4
#define ITERS 5000

static pthread_mutex_t pi, robust;
static long counter;

static void pi_init(pthread_mutex_t *m, int type, int robustness)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	pthread_mutexattr_setrobust(&a, robustness);
	if (pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT) != 0)
		printf("setprotocol failed\n");
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITERS; i++) {
		pthread_mutex_lock(&pi);
		counter++;
		if (i % 500 == 0)
			sched_yield(); /* others pile up in LOCK_PI */
		pthread_mutex_unlock(&pi);
	}
	return NULL;
}

static void *try_it(void *arg)
{
	(void)arg;
	return (void *)(long)pthread_mutex_trylock(&pi);
}

static void *timed_lock(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return (void *)(long)pthread_mutex_timedlock(&pi, &ts);
}

static void *die_holding(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&robust);
	return NULL; /* exits with it held */
}

static long join(pthread_t th)
{
	void *r;

	pthread_join(th, &r);
	return (long)r;
}

int main(void)
{
	pthread_t th[NTHREADS];
	int ok = 1, r;

	pi_init(&pi, PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_STALLED);
	pi_init(&robust, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST);
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, adder, NULL);
	for (int i = 0; i < NTHREADS; i++)
		join(th[i]);
	printf("counter %ld\n", counter);
	ok &= counter == (long)NTHREADS * ITERS;

	pthread_mutex_lock(&pi);
	r = pthread_mutex_lock(&pi);
	printf("relock by owner: %s\n", strerror(r));
	ok &= r == EDEADLK;
	pthread_create(&th[0], NULL, try_it, NULL);
	r = (int)join(th[0]);
	printf("trylock held: %s\n", strerror(r));
	ok &= r == EBUSY;
	pthread_create(&th[0], NULL, timed_lock, NULL);
	r = (int)join(th[0]);
	printf("timedlock held: %s\n", strerror(r));
	ok &= r == ETIMEDOUT;
	pthread_mutex_unlock(&pi);
	pthread_create(&th[0], NULL, try_it, NULL);
	r = (int)join(th[0]);
	printf("trylock free: %d\n", r);
	ok &= r == 0;

	pthread_create(&th[0], NULL, die_holding, NULL);
	join(th[0]);
	r = pthread_mutex_lock(&robust);
	printf("robust after owner died: %s\n", strerror(r));
	ok &= r == EOWNERDEAD;
	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(&robust);
		pthread_mutex_unlock(&robust);
	}
	printf("%s\n", ok ? "pi ok" : "pi BAD");
	return ok ? 0 : 1;
}
