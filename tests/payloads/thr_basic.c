/* Threads for vmm's thread tests: `thr_basic MODE`.
 *   join    4 threads add to a mutex-guarded counter; joined; prints the
 *           sum, distinct tids, whether sched_getcpu agrees with the
 *           getcpu syscall in every thread, and exits 0 if all is right
 *   wake    a thread waits on a condition variable the main thread signals
 *   exit    a worker calls exit(7) while main waits: status 7
 *   abort   a worker calls abort(): status 134
 *   fault   a worker writes to NULL: status 139
 *   churn   200 short-lived threads, a few at a time (vCPU reuse)
 *   mprot   a worker reads a page in a loop while main mprotects it
 *           read-only and back; then munmaps it and the worker faults
 *   pipe    workers block in read, poll, write (full pipe) and a poll
 *           sleep while the main thread makes them ready */
#define _GNU_SOURCE /* sched_getcpu */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 4
#define ITERS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready;
static pid_t tids[NTHREADS];
static int getcpu_ok[NTHREADS];
static __thread int tls_value;

/* sched_getcpu (the vDSO, or rseq) and the getcpu syscall name the same
 * CPU; natively the thread may move between the two, so a few tries. */
static int getcpu_agrees(void)
{
	for (int i = 0; i < 100; i++) {
		unsigned cpu = ~0u;
		int fast = sched_getcpu();

		if (syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 && fast == (int)cpu)
			return 1;
	}
	return 0;
}

static void *adder(void *arg)
{
	long idx = (long)arg;

	tls_value = (int)idx + 100;
	tids[idx] = (pid_t)syscall(SYS_gettid);
	getcpu_ok[idx] = getcpu_agrees();
	for (int i = 0; i < ITERS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
		if (i % 1000 == 0)
			sched_yield();
	}
	return (void *)(long)(tls_value == (int)idx + 100);
}

static int mode_join(void)
{
	pthread_t th[NTHREADS];
	int ok = 1;

	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, adder, (void *)i) != 0)
			return printf("pthread_create failed\n"), 2;
	for (int i = 0; i < NTHREADS; i++) {
		void *r;

		pthread_join(th[i], &r);
		ok &= r == (void *)1;
	}
	int cpus = getcpu_agrees();

	for (int i = 0; i < NTHREADS; i++) {
		cpus &= getcpu_ok[i];
		for (int j = 0; j < i; j++)
			ok &= tids[i] != tids[j] && tids[i] != getpid();
	}
	printf("counter %ld tls %s tids %s getcpu %s\n", counter, ok ? "ok" : "BAD",
	       ok ? "distinct" : "BAD", cpus ? "agrees" : "BAD");
	return counter == (long)NTHREADS * ITERS && ok && cpus ? 0 : 1;
}

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!ready)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return (void *)42;
}

static int mode_wake(void)
{
	pthread_t th;
	void *r;

	pthread_create(&th, NULL, waiter, NULL);
	usleep(20000);
	pthread_mutex_lock(&lock);
	ready = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(th, &r);
	printf("woken %ld\n", (long)r);
	return r == (void *)42 ? 0 : 1;
}

static void *exiter(void *arg)
{
	(void)arg;
	exit(7);
}

static void *aborter(void *arg)
{
	(void)arg;
	abort();
}

static void *faulter(void *arg)
{
	*(volatile int *)arg = 1;
	return NULL;
}

static _Noreturn void mode_kill(void *(*fn)(void *))
{
	pthread_t th;

	pthread_create(&th, NULL, fn, NULL);
	for (;;)
		pause();
}

static void *short_lived(void *arg)
{
	return arg;
}

static int mode_churn(void)
{
	long sum = 0;

	for (long i = 0; i < 200; i += 4) {
		pthread_t th[4];

		for (long j = 0; j < 4; j++)
			if (pthread_create(&th[j], NULL, short_lived, (void *)(i + j)) != 0)
				return printf("pthread_create %ld failed\n", i + j), 2;
		for (int j = 0; j < 4; j++) {
			void *r;

			pthread_join(th[j], &r);
			sum += (long)r;
		}
	}
	printf("churn sum %ld\n", sum);
	return sum == 199 * 200 / 2 ? 0 : 1;
}

static volatile int *shared_page;
static volatile int stop_reader;
static volatile long reads;

static void *reader(void *arg)
{
	(void)arg;
	while (!stop_reader) {
		(void)*shared_page;
		reads++;
	}
	return NULL;
}

static _Noreturn void mode_mprot(void)
{
	pthread_t th;

	shared_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*shared_page = 5;
	pthread_create(&th, NULL, reader, NULL);
	while (reads < 1000)
		sched_yield();
	for (int i = 0; i < 50; i++) {
		mprotect((void *)shared_page, 4096, PROT_READ);
		mprotect((void *)shared_page, 4096, PROT_READ | PROT_WRITE);
	}
	printf("mprotect x100 done while a thread reads\n");
	fflush(stdout);
	/* The worker must fault now: its TLB entry is gone. */
	munmap((void *)shared_page, 4096);
	for (;;)
		pause();
}

/* Threads that wait on a pipe while another thread makes it ready: a
 * blocked read, a blocked poll, a blocked write to a full pipe, and a
 * poll with no fds as a sleep, each released by the main thread's call. */
static int pipe_fds[2];

static void *pipe_reader(void *arg)
{
	char buf[8];

	(void)arg;
	return (void *)(long)read(pipe_fds[0], buf, sizeof(buf));
}

static void *pipe_poller(void *arg)
{
	struct pollfd f = {.fd = pipe_fds[0], .events = POLLIN};

	(void)arg;
	return (void *)(long)(poll(&f, 1, 10000) == 1 && (f.revents & POLLIN));
}

static void *pipe_writer(void *arg)
{
	static char big[256 * 1024];

	(void)arg;
	return (void *)(long)write(pipe_fds[1], big, sizeof(big));
}

static void *poll_sleeper(void *arg)
{
	(void)arg;
	return (void *)(long)poll(NULL, 0, 200);
}

static long pipe_join(pthread_t th)
{
	void *r;

	pthread_join(th, &r);
	return (long)r;
}

static int mode_pipe(void)
{
	static char drain[256 * 1024];
	pthread_t th;
	long got, n = 0;
	char c;

	if (pipe(pipe_fds) != 0)
		return 2;
	pthread_create(&th, NULL, pipe_reader, NULL);
	usleep(30000);
	got = write(pipe_fds[1], "hi", 2);
	printf("blocked read got %ld (wrote %ld)\n", pipe_join(th), got);
	pthread_create(&th, NULL, pipe_poller, NULL);
	usleep(30000);
	got = write(pipe_fds[1], "x", 1);
	printf("blocked poll ready %ld\n", pipe_join(th));
	read(pipe_fds[0], &c, 1);
	pthread_create(&th, NULL, pipe_writer, NULL);
	usleep(30000);
	while (n < (long)sizeof(drain)) {
		got = read(pipe_fds[0], drain, sizeof(drain) - (size_t)n);
		if (got <= 0)
			break;
		n += got;
	}
	printf("blocked write wrote %ld, drained %ld\n", pipe_join(th), n);
	pthread_create(&th, NULL, poll_sleeper, NULL);
	got = (long)syscall(SYS_getppid) > 0; /* runs while the other sleeps */
	printf("poll sleep %ld, meanwhile %ld\n", pipe_join(th), got);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "join";

	if (!strcmp(m, "join"))
		return mode_join();
	if (!strcmp(m, "wake"))
		return mode_wake();
	if (!strcmp(m, "exit"))
		mode_kill(exiter);
	if (!strcmp(m, "abort"))
		mode_kill(aborter);
	if (!strcmp(m, "fault"))
		mode_kill(faulter);
	if (!strcmp(m, "churn"))
		return mode_churn();
	if (!strcmp(m, "mprot"))
		mode_mprot();
	if (!strcmp(m, "pipe"))
		return mode_pipe();
	fprintf(stderr, "thr_basic: unknown mode %s\n", m);
	return 2;
}
