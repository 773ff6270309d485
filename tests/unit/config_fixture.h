/* config_parse on a NULL-terminated argv, with the error cleared first:
 * the suites that test options (test_config.c, test_report_output.c). */
#ifndef VMM_TEST_CONFIG_FIXTURE_H
#define VMM_TEST_CONFIG_FIXTURE_H

#include "util/err.h"
#include "vm/config.h"

static inline int parse(struct config *c, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	err_clear();
	return config_parse(c, argc, argv);
}

#endif
