/* Thread life cycles: joined threads that return a value or call
 * pthread_exit with one (the value must come back through pthread_join),
 * distinct thread ids (gettid) with the process id unchanged, detached
 * threads that finish on their own (the main thread waits for a count under
 * a mutex, since they cannot be joined), and a thread joined after it has
 * already exited (CLONE_CHILD_CLEARTID has woken nobody yet). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define JOINED 6
#define DETACHED 10

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

static pid_t tids[JOINED];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static int detached_finished, pid_same = 1;
static pid_t main_pid;

static void *joined(void *arg)
{
	long me = (long)arg;

	tids[me] = (pid_t)syscall(SYS_gettid);
	if ((pid_t)syscall(SYS_getpid) != main_pid)
		pid_same = 0;
	if (me % 2)
		pthread_exit((void *)(me * 100 + 1)); /* through pthread_exit */
	return (void *)(me * 100);		      /* through return */
}

static void *detached(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	detached_finished++;
	pthread_cond_signal(&done);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *quick(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t t[JOINED], d;
	pthread_attr_t attr;
	pid_t main_tid = (pid_t)syscall(SYS_gettid);
	int distinct = 1;
	void *ret;

	main_pid = getpid();
	for (long i = 0; i < JOINED; i++)
		start(&t[i], joined, (void *)i);
	for (int i = 0; i < JOINED; i++) {
		pthread_join(t[i], &ret);
		printf("joined %d: returned %ld\n", i, (long)ret);
	}
	for (int i = 0; i < JOINED; i++) {
		distinct &= tids[i] != main_tid && tids[i] > 0;
		for (int j = i + 1; j < JOINED; j++)
			distinct &= tids[i] != tids[j];
	}
	printf("tids distinct from each other and main: %s; pid shared: %s; main tid == pid: %s\n",
	       distinct ? "yes" : "no", pid_same ? "yes" : "no",
	       main_tid == getpid() ? "yes" : "no");

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < DETACHED; i++)
		if (pthread_create(&d, &attr, detached, NULL))
			printf("detached %d: create failed\n", i);
	pthread_mutex_lock(&lock);
	while (detached_finished < DETACHED)
		pthread_cond_wait(&done, &lock);
	pthread_mutex_unlock(&lock);
	printf("detached: %d finished\n", detached_finished);

	start(&t[0], quick, (void *)42L);
	usleep(20000); /* let it exit before the join starts */
	pthread_join(t[0], &ret);
	printf("late join: returned %ld\n", (long)ret);
	return !distinct || !pid_same;
}
