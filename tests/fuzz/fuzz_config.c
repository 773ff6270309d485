/* libFuzzer harness: `vmm run` command lines against config_parse. The
 * input is split at NUL and newline bytes into arguments after "run". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "vm/config.h"

#define FUZZ_MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[FUZZ_MAX_ARGS + 2];
	int argc = 0;
	struct config c;
	size_t i, start = 0;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = (char *)"run";
	for (i = 0; i <= size && argc <= FUZZ_MAX_ARGS; i++)
		if (buf[i] == '\0' || buf[i] == '\n') {
			buf[i] = '\0';
			argv[argc++] = buf + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	err_clear();
	(void)config_parse(&c, argc, argv);
	free(buf);
	return 0;
}
