/* Thousands of short-lived threads: argv[1] (default 2000) threads created
 * and joined in batches of argv[2] (default 16), each adding its index to a
 * sum under a mutex. Exited threads' resources (stacks, vCPUs, tids) must
 * be reused or freed: a leak shows up as a failed create long before the
 * end. Output: the count, the sum and the number of failed creates. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long sum, ran;

static void *work(void *arg)
{
	pthread_mutex_lock(&lock);
	sum += (long)arg;
	ran++;
	pthread_mutex_unlock(&lock);
	return arg;
}

int main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 2000, batch = argc > 2 ? atol(argv[2]) : 16;
	long failed = 0, bad_ret = 0;
	pthread_t t[256];

	if (total < 1 || batch < 1 || batch > 256) {
		fprintf(stderr, "usage: pthread_many [TOTAL [BATCH<=256]]\n");
		return 2;
	}
	for (long done = 0; done < total; done += batch) {
		long n = total - done < batch ? total - done : batch, made = 0;

		for (long i = 0; i < n; i++, made++)
			if (pthread_create(&t[i], NULL, work, (void *)(done + i))) {
				failed += n - i;
				break;
			}
		for (long i = 0; i < made; i++) {
			void *ret;

			pthread_join(t[i], &ret);
			bad_ret += (long)ret != done + i;
		}
	}
	printf("threads: %ld ran, sum %ld (want %ld), failed creates %ld, bad returns %ld\n", ran,
	       sum, total * (total - 1) / 2, failed, bad_ret);
	return ran != total || failed || bad_ret;
}
