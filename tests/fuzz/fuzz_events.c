/* libFuzzer harness: the -e list against event_list_parse, which only
 * reads libpfm4's tables (initialized once by its first use). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "counters/event_names.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *list = malloc(size + 1);
	struct event_list l;

	if (!list)
		abort();
	memcpy(list, data, size);
	list[size] = '\0';
	err_clear();
	if (event_list_parse(&l, list) == 0)
		event_list_free(&l);
	free(list);
	return 0;
}
