/* How KVM really mapped guest memory: its VM statistics pages_4k, pages_2m
 * and pages_1g. They are gauges (a payload that frees its memory before
 * exiting ends near 0). They fall only when the guest's tables change, so
 * the run loop samples them just before each page-table update reaches the
 * guest and at the end, and keeps the peak as well as the last value. */
#ifndef VMM_KVM_PAGES_H
#define VMM_KVM_PAGES_H

#include "kvm/kvm_stats.h"
#include "util/types.h"

struct kvm_pages {
	bool known; /* false: error says why */
	char error[160];
	struct kvm_stats stats;
	const struct kvm_stat *stat[PS_COUNT];
	uint64_t *data;		 /* one read of the whole stats block */
	uint64_t last[PS_COUNT]; /* at the latest sample */
	uint64_t peak[PS_COUNT]; /* highest seen, per size */
	uint64_t samples;
};

extern const char *const kvm_pages_stat_name[PS_COUNT];

/* Never fails: when the statistics are unavailable, known stays false and
 * error holds the reason. */
void kvm_pages_open(struct kvm_pages *p, int vm_fd);
void kvm_pages_sample(struct kvm_pages *p);
void kvm_pages_close(struct kvm_pages *p);

#endif
