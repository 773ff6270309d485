/* The run report: configuration, what each translation dimension really
 * got (the VMM's table summary and KVM's own page counts), TLB
 * invalidations, timing, exit status, and the counters. Text on stderr
 * with --stats, one JSON object with --json FILE. */
#ifndef VMM_REPORT_H
#define VMM_REPORT_H

#include "vm/vm.h"

void report_print(const struct vm *vm, FILE *f);
int report_write_json(const struct vm *vm, const char *path);

#endif
