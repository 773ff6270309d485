/* The guest's TSC as KVM runs it: its frequency (KVM_GET_TSC_KHZ) and its
 * offset from the host's TSC, and whether it can be a clock at all. The
 * vDSO's clocks (kernel/vclock.c) are built on these. */
#ifndef VMM_KVM_TSC_H
#define VMM_KVM_TSC_H

#include "kvm/vcpu.h"

struct kvm_tsc {
	bool usable;	 /* false: why says so, and guest clocks use the syscall */
	char why[160];	 /* the reason it is not usable */
	uint32_t khz;	 /* guest TSC ticks per ms */
	int64_t offset;	 /* guest TSC = host TSC + offset */
	const char *how; /* where the offset came from */
};

/* Never fails: a TSC that cannot serve as a clock (not invariant, no
 * frequency, no offset) leaves usable false with the reason. Needs the vCPU:
 * frequency and offset are per vCPU in KVM. */
void kvm_tsc_probe(struct vcpu *v, struct kvm_tsc *t);
/* Gives another vCPU the offset t was probed with, so that the vDSO's
 * clocks read the same on every vCPU. Nothing to do when t is unusable. */
int kvm_tsc_copy(struct vcpu *v, const struct kvm_tsc *t);

#endif
