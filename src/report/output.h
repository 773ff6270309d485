/* Where vmm's own output goes: the counters (and --stats) on stderr, -o
 * FILE or --log-fd N; the JSON report in --json FILE or on stdout (-).
 * Everything is opened before the payload runs, so a file vmm cannot
 * write is an error (125) before the run, not a report lost after it. */
#ifndef VMM_OUTPUT_H
#define VMM_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "vm/config.h"

struct report_output {
	FILE *counters; /* stderr, the -o file or the --log-fd stream */
	bool own_counters;
	FILE *json; /* NULL: no --json */
	bool own_json;
	const char *json_name; /* for messages: the path or "stdout" */
};

/* Opens (creating or truncating) what c names; the -o file starts with
 * perf's "# started on DATE" line and a blank one. -1 with err set, e.g.
 * "output: --json /nonexistent/r.json: No such file or directory". */
int report_output_open(struct report_output *o, const struct config *c);
/* Flushes and closes what report_output_open opened; -1 with err set if a
 * write was lost. */
int report_output_close(struct report_output *o);

#endif
