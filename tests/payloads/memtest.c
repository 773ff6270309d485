/* What a real static program does with memory, checked from inside: heap
 * (brk and mmap'd large blocks), mmap/munmap/mprotect round trips,
 * MADV_DONTNEED zero-fill, mremap via realloc, thread-local storage and
 * time. Prints deterministic lines so guest and native output can be
 * compared; exits 1 on the first thing that is wrong. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static __thread int tls_counter = 7;
static int failures;

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s (line %d)\n", what, __LINE__);                             \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static void heap(void)
{
	size_t sizes[] = {16, 1000, 100000, 4 << 20, 33 << 20};
	uint64_t sum = 0;
	size_t i, j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = malloc(sizes[i]);
		CHECK(p != NULL, "malloc");
		if (!p)
			continue;
		for (j = 0; j < sizes[i]; j += 64)
			p[j] = (unsigned char)(j >> 6);
		for (j = 0; j < sizes[i]; j += 64)
			sum += p[j];
		p = realloc(p, sizes[i] * 2);
		CHECK(p != NULL && p[64 % sizes[i]] == (unsigned char)((64 % sizes[i]) >> 6),
		      "realloc keeps data");
		free(p);
	}
	printf("heap checksum %llu\n", (unsigned long long)sum);
}

static void maps(void)
{
	size_t len = 8 << 20;
	unsigned char *p =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *q;
	size_t i;

	CHECK(p != MAP_FAILED, "mmap");
	if (p == MAP_FAILED)
		return;
	for (i = 0; i < len; i += 4096)
		CHECK(p[i] == 0, "fresh mmap is zero");
	memset(p, 0xab, len);
	/* Punch a hole in the middle, then map it again: fresh zero pages. */
	CHECK(munmap(p + (2 << 20), 1 << 20) == 0, "munmap middle");
	q = mmap(p + (2 << 20), 1 << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(q == p + (2 << 20), "MAP_FIXED into the hole");
	CHECK(q[0] == 0 && q[(1 << 20) - 1] == 0, "refilled hole is zero");
	CHECK(p[(2 << 20) - 1] == 0xab && p[3 << 20] == 0xab, "neighbours keep data");
	/* Read-only and back. */
	CHECK(mprotect(p, 1 << 20, PROT_READ) == 0, "mprotect RO");
	CHECK(p[100] == 0xab, "readable after RO");
	CHECK(mprotect(p, 1 << 20, PROT_READ | PROT_WRITE) == 0, "mprotect RW");
	p[100] = 1;
	CHECK(p[100] == 1, "writable again");
	/* DONTNEED: Linux zero-fill semantics for private anonymous memory. */
	CHECK(madvise(p + (4 << 20), 1 << 20, MADV_DONTNEED) == 0, "madvise DONTNEED");
	CHECK(p[4 << 20] == 0 && p[(5 << 20) - 1] == 0, "zero after DONTNEED");
	CHECK(p[(5 << 20)] == 0xab, "DONTNEED leaves the rest");
	CHECK(munmap(p, len) == 0, "munmap all");
	/* A PROT_NONE reservation made usable piece by piece (like malloc arenas). */
	p = mmap(NULL, 4 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(p != MAP_FAILED, "reserve");
	CHECK(mprotect(p, 64 << 10, PROT_READ | PROT_WRITE) == 0, "commit part");
	p[0] = 5;
	CHECK(p[0] == 5 && p[(64 << 10) - 1] == 0, "committed part works");
	CHECK(munmap(p, 4 << 20) == 0, "unreserve");
	printf("maps ok\n");
}

static void tls_and_time(void)
{
	struct timespec a, b;

	tls_counter++;
	CHECK(tls_counter == 8, "TLS");
	CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0, "clock_gettime");
	CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0, "clock_gettime again");
	CHECK(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec), "monotonic");
	CHECK(time(NULL) > 1600000000, "time is plausible");
	CHECK(getpid() > 0, "getpid");
	CHECK(sysconf(_SC_PAGESIZE) == 4096, "page size");
	printf("tls %d, time ok\n", tls_counter);
}

int main(void)
{
	heap();
	maps();
	tls_and_time();
	printf("%s\n", failures ? "memtest FAILED" : "memtest passed");
	return failures ? 1 : 0;
}
