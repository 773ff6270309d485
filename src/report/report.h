/* The run report: configuration, what each translation dimension really
 * got (the VMM's table summary and KVM's own page counts), TLB
 * invalidations, timing, exit status, and the counters. Text on stderr
 * with --stats, one JSON object with --json FILE (or - for stdout). */
#ifndef VMM_REPORT_H
#define VMM_REPORT_H

#include "vm/vm.h"

struct json_object;

void report_print(const struct vm *vm, FILE *f);
/* The run report as one JSON object (docs/json-schema.md, document
 * "vmm-run"); interrupted: "SIGINT", ... or NULL. The caller puts it. */
struct json_object *report_json(const struct vm *vm, const char *interrupted);
/* Writes root, pretty, then a newline, to f; name is for the error. */
int report_json_write(struct json_object *root, FILE *f, const char *name);

#endif
