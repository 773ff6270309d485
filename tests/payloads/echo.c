/* argv, environment and stdin reach the payload as they would natively:
 * prints its arguments, one environment variable, and stdin's bytes. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	const char *v = getenv("VMM_TEST_VAR");
	char buf[256];
	size_t n, total = 0;
	int i;

	for (i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, i == 0 ? "(name)" : argv[i]);
	printf("VMM_TEST_VAR=%s\n", v ? v : "(unset)");
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		fwrite(buf, 1, n, stdout);
		total += n;
	}
	printf("stdin bytes=%zu\n", total);
	return 0;
}
