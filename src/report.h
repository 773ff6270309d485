/* The run report: configuration, what each translation dimension really
 * got (the VMM's table summary and KVM's own page counts), TLB
 * invalidations, timing, exit status, and the counters. Text on stderr
 * with --stats, one JSON object with --json FILE. */
#ifndef VMM_REPORT_H
#define VMM_REPORT_H

#include "vm.h"

/* Reads KVM's statistics at the end of the run; call before vm_destroy. */
struct report {
	bool kvm_pages_known;
	uint64_t kvm_pages[PS_COUNT]; /* VM stats pages_4k, pages_2m, pages_1g */
	char kvm_pages_error[160];    /* why they are unknown */
};
void report_collect(const struct vm *vm, struct report *r);

void report_print(const struct vm *vm, const struct report *r, FILE *f);
int report_write_json(const struct vm *vm, const struct report *r, const char *path);

#endif
