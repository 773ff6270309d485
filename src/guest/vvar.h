/* The vDSO's data page (vvar): vmm writes it, the payload's vDSO reads it
 * (read-only there) to turn the guest TSC into each clock's time without
 * leaving the guest. Included by vmm and by the freestanding vDSO
 * (src/guest/vdso/), so it holds fixed-size types and inline math only. */
#ifndef VMM_VVAR_H
#define VMM_VVAR_H

/* The data page lies right below the image (kernel/vdso.h places both). */
#define VVAR_SIZE 0x1000
#define VDSO_MAX_SIZE 0x2000 /* the image's pages; the build checks it fits */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* vvar_data.clock_mode */
#define VVAR_CLOCK_NONE 0 /* no usable TSC: every clock read makes the syscall */
#define VVAR_CLOCK_TSC 1

/* vvar_data.getcpu_mode */
#define VVAR_GETCPU_SYSCALL 0
#define VVAR_GETCPU_FIXED 1 /* one vCPU: the answer is vvar_data.cpu */

/* The clocks with their own base; the _COARSE ones share REALTIME's and
 * MONOTONIC's and are rounded down to coarse_res_ns. */
enum vvar_base {
	VVAR_REALTIME,
	VVAR_MONOTONIC,
	VVAR_MONOTONIC_RAW,
	VVAR_BOOTTIME,
	VVAR_NBASES,
};

struct vvar_data {
	/* Seqlock: odd while vmm writes; readers retry when it changed. */
	uint32_t seq;
	uint32_t clock_mode;
	/* clock = base_ns[clock] + ((tsc - cycle_last) * mult >> shift) */
	uint64_t cycle_last;
	uint64_t mult;
	uint32_t shift;
	uint32_t hres_res_ns;	/* clock_getres of the TSC clocks */
	uint32_t coarse_res_ns; /* and of the _COARSE ones */
	uint32_t getcpu_mode;
	uint32_t cpu, node;
	int32_t tz_minuteswest, tz_dsttime;
	uint64_t base_ns[VVAR_NBASES];
};

/* What the vDSO computes, shared with vmm so the unit tests check the very
 * same arithmetic. A TSC a little behind cycle_last (another CPU, or an
 * unordered read) counts as cycle_last, so time never runs backwards. */
static inline uint64_t vvar_ns(const struct vvar_data *d, enum vvar_base b, uint64_t tsc)
{
	uint64_t delta = tsc - d->cycle_last;

	if ((int64_t)delta < 0)
		delta = 0;
	return d->base_ns[b] + (uint64_t)(((unsigned __int128)delta * d->mult) >> d->shift);
}
#endif

#endif
