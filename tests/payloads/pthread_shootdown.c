/* TLB shootdown correctness: a reader thread reads a shared mapping in a
 * tight loop (no syscalls, so it stays in guest mode with the translations
 * cached) while the main thread changes the mapping and then raises a flag.
 * Once the reader has seen the flag, what it reads must be the new state,
 * never a translation the other CPU still caches:
 *   remap    mmap(MAP_FIXED) puts fresh pages over the region, main writes
 *            the round number into them and publishes it; after seeing
 *            round k the reader must never read a value below k (0 is
 *            allowed: a fresh page main has not written yet)
 *   protect  mprotect(PROT_NONE) over the region, then the flag; after
 *            seeing it the reader's next read must fault (SIGSEGV, caught
 *            and counted), and no read may succeed
 * Usage: pthread_shootdown [remap|protect|both [ROUNDS]]. Counts only in
 * the output, so it is the same natively and in the guest. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGES 16
#define WORDS_PER_PAGE 512
#define LEN (PAGES * 4096)

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

static volatile uint64_t *region;
static atomic_long round_pub; /* the round whose contents are in place */
static atomic_long revoked;   /* protect: the round whose access is gone */
static atomic_long faulted;   /* protect: the round in which the reader faulted */
static atomic_long reads;     /* region sweeps the reader completed */
static atomic_int stop;
static long stale, early_zero_after_flag, wrong_addr_faults;
static long rounds = 200;
static sigjmp_buf jb;

/* Reads every page once; returns the smallest nonzero value seen (or 0). */
static uint64_t sweep(uint64_t *zeros)
{
	uint64_t min = UINT64_MAX;

	*zeros = 0;
	for (int p = 0; p < PAGES; p++) {
		uint64_t v = region[p * WORDS_PER_PAGE + (p * 8) % WORDS_PER_PAGE];

		if (v == 0)
			(*zeros)++;
		else if (v < min)
			min = v;
	}
	return min == UINT64_MAX ? 0 : min;
}

static void *remap_reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		long k = atomic_load_explicit(&round_pub, memory_order_acquire);
		uint64_t zeros, min = sweep(&zeros);

		if (min && (long)min < k)
			stale++;
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static void wait_reads(long n)
{
	long start = atomic_load(&reads);

	while (atomic_load(&reads) - start < n)
		sched_yield();
}

static void fill(long k)
{
	for (int p = 0; p < PAGES; p++)
		for (int w = 0; w < WORDS_PER_PAGE; w++)
			region[p * WORDS_PER_PAGE + w] = (uint64_t)k;
}

static int run_remap(void)
{
	pthread_t t;

	atomic_store(&stop, 0);
	fill(1);
	atomic_store(&round_pub, 1);
	start(&t, remap_reader, NULL);
	for (long k = 2; k <= rounds; k++) {
		wait_reads(3); /* the reader has the current pages cached */
		if (mmap((void *)region, LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != (void *)region) {
			perror("mmap MAP_FIXED");
			return 1;
		}
		fill(k);
		atomic_store_explicit(&round_pub, k, memory_order_release);
	}
	wait_reads(3);
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	printf("remap: %ld rounds, stale reads after the flag: %ld\n", rounds, stale);
	return stale != 0;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if ((uintptr_t)si->si_addr < (uintptr_t)region ||
	    (uintptr_t)si->si_addr >= (uintptr_t)region + LEN) {
		wrong_addr_faults++;
		signal(SIGSEGV, SIG_DFL); /* a real bug: die of it on return */
		return;
	}
	siglongjmp(jb, 1);
}

static void *protect_reader(void *arg)
{
	long done = 0;

	(void)arg;
	while (done < rounds) {
		long k, seen_revoked;
		uint64_t zeros;

		while ((k = atomic_load_explicit(&round_pub, memory_order_acquire)) == done)
			; /* wait for the next round's pages */
		if (sigsetjmp(jb, 1)) {
			/* Faulted: fine once main has begun revoking. */
			atomic_store(&faulted, k);
			done = k;
			continue;
		}
		for (;;) {
			seen_revoked = atomic_load_explicit(&revoked, memory_order_acquire);
			sweep(&zeros);
			if (zeros)
				early_zero_after_flag++;
			atomic_fetch_add(&reads, 1);
			if (seen_revoked == k) {
				/* A read succeeded after the flag: stale. */
				stale++;
				atomic_store(&faulted, k);
				done = k;
				break;
			}
		}
	}
	return NULL;
}

static int run_protect(void)
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	stale = 0;
	atomic_store(&round_pub, 0);
	start(&t, protect_reader, NULL);
	for (long k = 1; k <= rounds; k++) {
		if (mprotect((void *)region, LEN, PROT_READ | PROT_WRITE)) {
			perror("mprotect rw");
			return 1;
		}
		fill(k);
		atomic_store_explicit(&round_pub, k, memory_order_release);
		wait_reads(3);
		if (mprotect((void *)region, LEN, PROT_NONE)) {
			perror("mprotect none");
			return 1;
		}
		atomic_store_explicit(&revoked, k, memory_order_release);
		while (atomic_load(&faulted) != k)
			sched_yield();
	}
	pthread_join(t, NULL);
	printf("protect: %ld rounds, reads that succeeded after the flag: %ld, zero pages: %ld, "
	       "faults elsewhere: %ld\n",
	       rounds, stale, early_zero_after_flag, wrong_addr_faults);
	return stale != 0 || early_zero_after_flag != 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "both";
	int bad = 0;

	if (argc > 2)
		rounds = atol(argv[2]);
	if (rounds < 2 ||
	    (strcmp(mode, "remap") && strcmp(mode, "protect") && strcmp(mode, "both"))) {
		fprintf(stderr, "usage: pthread_shootdown [remap|protect|both [ROUNDS>=2]]\n");
		return 2;
	}
	region = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (strcmp(mode, "protect"))
		bad |= run_remap();
	if (strcmp(mode, "remap"))
		bad |= run_protect();
	return bad;
}
