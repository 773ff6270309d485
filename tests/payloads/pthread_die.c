/* A worker thread ends the whole process while the main thread waits in
 * pthread_join (asleep in a futex wait): argv[1] says how.
 *   segv       a write to an unmapped address (139, SIGSEGV)
 *   abort      abort() (134, SIGABRT through tgkill to itself)
 *   exit N     exit(N) from the worker: exit_group with that code
 * Prints what happens before, so the output is the same natively. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int *volatile bad = (int *)0x10;
static const char *how;
static int code;

static void *worker(void *arg)
{
	(void)arg;
	printf("worker: %s\n", how);
	fflush(stdout);
	if (strcmp(how, "segv") == 0)
		*bad = 1;
	else if (strcmp(how, "abort") == 0)
		abort();
	else if (strcmp(how, "exit") == 0)
		exit(code);
	printf("worker: still alive\n");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 2) {
		fprintf(stderr, "usage: pthread_die segv|abort|exit N\n");
		return 2;
	}
	how = argv[1];
	code = argc > 2 ? atoi(argv[2]) : 0;
	printf("main: starting worker\n");
	fflush(stdout);
	start(&t, worker, NULL);
	pthread_join(t, NULL);
	printf("main: join returned, which it must not\n");
	return 1;
}
