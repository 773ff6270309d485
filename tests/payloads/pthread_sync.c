/* pthread synchronisation as a libc uses the kernel for it (futex waits
 * and wakes): a mutex-protected counter, a condition-variable queue between
 * producers and consumers, a barrier over several rounds and pthread_once
 * raced by every thread. Prints counts that only a correct run gives; the
 * e2e test compares output and status with the native run. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKERS 4
#define INCS 20000
#define ITEMS 2000
#define ROUNDS 50

/* pthread_create or exit 1 with the reason: without threads (ENOSYS from
 * clone) the test must end at once, not wait for a thread that never ran. */
static void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int e = pthread_create(t, NULL, fn, arg);

	if (e) {
		fprintf(stderr, "pthread_create: %s\n", strerror(e));
		exit(1);
	}
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *add(void *arg)
{
	(void)arg;
	for (int i = 0; i < INCS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

/* A bounded queue: producers wait while it is full, consumers while empty. */
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static int queue[8], qhead, qlen, produced_done;
static long consumed_sum, consumed_n;

static void *produce(void *arg)
{
	int base = (int)(long)arg;

	for (int i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&qlock);
		while (qlen == 8)
			pthread_cond_wait(&not_full, &qlock);
		queue[(qhead + qlen++) % 8] = base + i;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&qlock);
	}
	return NULL;
}

static void *consume(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&qlock);
		while (qlen == 0 && !produced_done)
			pthread_cond_wait(&not_empty, &qlock);
		if (qlen == 0) {
			pthread_mutex_unlock(&qlock);
			return NULL;
		}
		consumed_sum += queue[qhead];
		consumed_n++;
		qhead = (qhead + 1) % 8;
		qlen--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&qlock);
	}
}

/* Each round every thread writes its slot, waits, then checks all slots:
 * a barrier that let a thread through early shows up as a stale slot. */
static pthread_barrier_t bar;
static volatile int slots[WORKERS];
static int barrier_errors;
static pthread_mutex_t elock = PTHREAD_MUTEX_INITIALIZER;

static void *rounds(void *arg)
{
	int me = (int)(long)arg, serial = 0;

	for (int r = 1; r <= ROUNDS; r++) {
		slots[me] = r;
		if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD)
			serial++;
		for (int i = 0; i < WORKERS; i++)
			if (slots[i] != r) {
				pthread_mutex_lock(&elock);
				barrier_errors++;
				pthread_mutex_unlock(&elock);
			}
		pthread_barrier_wait(&bar);
	}
	return (void *)(long)serial;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs;
static pthread_barrier_t once_bar;

static void init_once(void)
{
	once_runs++;
}

static void *race_once(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&once_bar);
	pthread_once(&once, init_once);
	return NULL;
}

static void start_all(pthread_t *t, int n, void *(*fn)(void *), int with_index)
{
	for (int i = 0; i < n; i++)
		start(&t[i], fn, with_index ? (void *)(long)i : NULL);
}

int main(void)
{
	pthread_t t[WORKERS], p[2];
	long serial_total = 0;

	start_all(t, WORKERS, add, 0);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	printf("mutex: counter %ld (want %d)\n", counter, WORKERS * INCS);

	start(&p[0], produce, (void *)0L);
	start(&p[1], produce, (void *)100000L);
	start_all(t, 3, consume, 0);
	pthread_join(p[0], NULL);
	pthread_join(p[1], NULL);
	pthread_mutex_lock(&qlock);
	produced_done = 1;
	pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&qlock);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	printf("cond: consumed %ld items, sum %ld\n", consumed_n, consumed_sum);

	pthread_barrier_init(&bar, NULL, WORKERS);
	start_all(t, WORKERS, rounds, 1);
	for (int i = 0; i < WORKERS; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		serial_total += (long)ret;
	}
	pthread_barrier_destroy(&bar);
	printf("barrier: %d rounds, %ld serial threads, %d errors\n", ROUNDS, serial_total,
	       barrier_errors);

	pthread_barrier_init(&once_bar, NULL, WORKERS);
	start_all(t, WORKERS, race_once, 0);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	pthread_once(&once, init_once);
	printf("once: init ran %d time(s)\n", once_runs);
	return counter == WORKERS * INCS && barrier_errors == 0 && once_runs == 1 ? 0 : 1;
}
