/* Allocates and touches 256 MiB (or argv[1] MiB), then does a random
 * read-modify-write loop over it. Prints a checksum that does not depend
 * on where memory landed, so guest and native output must be identical;
 * the ns/access figure goes to stderr (it differs by design). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256, n, i, accesses = 4000000;
	uint64_t *a, seed = 88172645463325252ull, sum = 0;
	struct timespec t0, t1;

	n = (mib << 20) / sizeof(uint64_t);
	a = malloc(n * sizeof(uint64_t));
	if (!a || n == 0) {
		fprintf(stderr, "touch256: cannot allocate %zu MiB\n", mib);
		return 1;
	}
	for (i = 0; i < n; i++)
		a[i] = i;
	/* Warm-up pass so the timed loop measures translation, not faults. */
	for (i = 0; i < accesses / 4; i++)
		a[xorshift(&seed) % n] ^= 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < accesses; i++)
		a[xorshift(&seed) % n] += i;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < n; i++)
		sum += a[i] * (i | 1);
	printf("touched %zu MiB, checksum %016llx\n", mib, (unsigned long long)sum);
	fprintf(stderr, "random rmw: %.2f ns/access\n",
		((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		    (double)accesses);
	free(a);
	return 0;
}
