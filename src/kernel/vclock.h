/* The guest's clocks without exits: vmm keeps the vDSO's data page
 * (guest/vvar.h) filled with a conversion from the guest TSC to each
 * clock, anchored to the host's clocks and refreshed at exits when enough
 * time has passed. The arithmetic (vclock_update) is pure and unit tested;
 * vclock_sample_host and vclock_tick read the host's clocks and TSC. */
#ifndef VMM_VCLOCK_H
#define VMM_VCLOCK_H

#include "guest/vvar.h"
#include "util/types.h"

#define VCLOCK_SHIFT 32
/* Refresh at an exit once this much time has passed since the last one. */
#define VCLOCK_REFRESH_NS 1000000ull
/* The rate is fitted over the whole run once it is this long. */
#define VCLOCK_FIT_NS 1000000000ull
/* A guest clock ahead of the host's is slowed to catch up within a second,
 * by at most this many parts per million (NTP's limit). */
#define VCLOCK_SLEW_MAX_PPM 500
/* CLOCK_REALTIME behind its last value by more than this is a step of the
 * host clock (settimeofday) and is followed; less is noise and is not. */
#define VCLOCK_REALTIME_STEP_NS 1000000ull

/* The host's clocks at one guest TSC value. */
struct vclock_sample {
	uint64_t tsc;		  /* guest TSC */
	uint64_t ns[VVAR_NBASES]; /* each clock, in ns, at that TSC */
};

/* The guest TSC as KVM runs it (kvm/kvm_tsc.h fills the same facts). */
struct vclock_tsc {
	bool usable;
	uint32_t khz;
	int64_t offset; /* guest TSC = host TSC + offset */
};

struct vclock {
	struct vvar_data *data; /* the guest's data page, written by the host */
	struct vclock_tsc tsc;
	uint64_t nominal_mult;	     /* from khz alone */
	struct vclock_sample anchor; /* the first sample: the rate is fitted from it */
	uint64_t refresh_cycles;     /* VCLOCK_REFRESH_NS in TSC ticks */
	uint64_t refreshes, samples_retried;
};

/* Fills the data page from the first sample; with !tsc->usable the page
 * says so and every guest read makes the syscall. cpu: the vCPU index
 * getcpu answers. Resolutions in ns are the host's clock_getres. */
void vclock_init(struct vclock *vc, struct vvar_data *data, const struct vclock_tsc *tsc,
		 const struct vclock_sample *first, uint32_t hres_res_ns, uint32_t coarse_res_ns,
		 uint32_t cpu);
/* Re-anchors the conversion to a new sample of the host's clocks: the rate
 * fitted over the run, no clock steps back (a guest clock ahead of the
 * host's is slowed instead), the seqlock held around the writes. */
void vclock_update(struct vclock *vc, const struct vclock_sample *s);

/* The host's clocks at the current guest TSC (offset: guest - host TSC).
 * Each clock is read between two TSC reads; a read that took longer than
 * max_cycles (the thread was preempted) is retried. Counts the retries. */
void vclock_sample_host(struct vclock_sample *s, const struct vclock_tsc *tsc, uint64_t max_cycles,
			uint64_t *retries);
/* Sets everything up from the host: samples, resolutions, timezone. */
void vclock_setup(struct vclock *vc, struct vvar_data *data, const struct vclock_tsc *tsc,
		  uint32_t cpu);
/* The run loop's hook, called at every exit: refreshes the data page when
 * VCLOCK_REFRESH_NS have passed; costs one rdtsc otherwise. */
void vclock_tick(struct vclock *vc);
/* A second vCPU exists: getcpu's answer is no longer fixed, and the vDSO
 * passes it to the syscall, which knows the caller's vCPU (no per-vCPU
 * source the guest can read exists under PVM, where RDTSCP and RDPID
 * return the host's TSC_AUX). */
void vclock_getcpu_per_vcpu(struct vclock *vc);

#endif
