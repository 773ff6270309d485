/* Thread-local storage per thread: a __thread variable with an initial
 * value (each thread starts from the image, not from another thread's
 * copy), its address distinct per thread, and pthread keys whose
 * destructors run once per thread that set them. The threads meet at a
 * barrier between writing and checking, so a shared or swapped TLS base
 * (FS not switched with the vCPU) shows up as a wrong value. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 8

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

static __thread long tls_val = 1000;
static __thread char tls_buf[64] = "initial";
static pthread_barrier_t bar;
static pthread_key_t key;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int destructor_runs, bad_initial, bad_after;
static void *addrs[N];

static void destroy(void *p)
{
	pthread_mutex_lock(&lock);
	destructor_runs += p != NULL;
	pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
	long me = (long)arg;
	int initial_ok = tls_val == 1000 && tls_buf[0] == 'i';

	tls_val = me * 7;
	snprintf(tls_buf, sizeof(tls_buf), "thread %ld", me);
	addrs[me] = &tls_val;
	pthread_setspecific(key, (void *)(me + 1));
	pthread_barrier_wait(&bar); /* every thread has written its own copy */
	pthread_mutex_lock(&lock);
	bad_initial += !initial_ok;
	bad_after += tls_val != me * 7 || pthread_getspecific(key) != (void *)(me + 1);
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(void)
{
	pthread_t t[N];
	int distinct = 1;

	tls_val = -1;
	pthread_key_create(&key, destroy);
	pthread_barrier_init(&bar, NULL, N);
	for (long i = 0; i < N; i++)
		start(&t[i], worker, (void *)i);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			distinct &= addrs[i] != addrs[j] && addrs[i] != (void *)&tls_val;
	printf("tls: %d threads, bad initial %d, bad after barrier %d\n", N, bad_initial,
	       bad_after);
	printf("tls: addresses distinct %s, main still %ld, buf \"%s\"\n", distinct ? "yes" : "no",
	       tls_val, tls_buf);
	printf("keys: destructor ran %d time(s)\n", destructor_runs);
	return bad_initial || bad_after || !distinct || tls_val != -1 || destructor_runs != N;
}
