/* Two regions of interest for the counters: region 1 touches N (argv[1],
 * default 2000) fresh 4 KiB pages, region 2 touches none. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000, i;
	volatile char *p;
	volatile unsigned long spin = 0;

	prctl(PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0, 0);
	p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	madvise((void *)p, n * 4096, MADV_NOHUGEPAGE);

	prctl(PR_TASK_PERF_EVENTS_ENABLE, 0, 0, 0, 0);
	for (i = 0; i < n; i++)
		p[i * 4096] = 1;
	prctl(PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0, 0);

	prctl(PR_TASK_PERF_EVENTS_ENABLE, 0, 0, 0, 0);
	for (i = 0; i < 1000000; i++)
		spin += i;
	prctl(PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0, 0);

	printf("touched %zu pages in region 1, none in region 2\n", n);
	return 0;
}
