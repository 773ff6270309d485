/* The guest's clocks from its TSC: vmm fills the vDSO's data page with
 * base + (tsc - cycle_last) * mult >> shift per clock, anchored to the
 * host's clocks, and re-anchors it at exits (vclock_tick). The guest TSC is
 * the host's plus KVM's offset, so one host TSC read dates each sample. */
#include "kernel/vclock.h"

#include <string.h>
#include <sys/time.h>
#include <time.h>

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS 1000000ull
#define SAMPLE_TRIES 10
/* One clock_gettime between two TSC reads takes well under this. */
#define SAMPLE_MAX_NS 20000ull
/* A fitted rate further than this from the nominal one is not trusted. */
#define FIT_MAX_PPM 1000

static const clockid_t base_clock[VVAR_NBASES] = {
    [VVAR_REALTIME] = CLOCK_REALTIME,
    [VVAR_MONOTONIC] = CLOCK_MONOTONIC,
    [VVAR_MONOTONIC_RAW] = CLOCK_MONOTONIC_RAW,
    [VVAR_BOOTTIME] = CLOCK_BOOTTIME,
};

static uint64_t host_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * NS_PER_SEC + (uint64_t)ts->tv_nsec;
}

/* The seqlock's writer side. Stores stay in order on x86; the fences keep
 * the compiler from moving them across the sequence count. */
static void seq_write_begin(struct vvar_data *d)
{
	*(volatile uint32_t *)&d->seq = d->seq + 1;
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void seq_write_end(struct vvar_data *d)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*(volatile uint32_t *)&d->seq = d->seq + 1;
}

void vclock_init(struct vclock *vc, struct vvar_data *data, const struct vclock_tsc *tsc,
		 const struct vclock_sample *first, uint32_t hres_res_ns, uint32_t coarse_res_ns,
		 uint32_t cpu)
{
	memset(vc, 0, sizeof(*vc));
	vc->data = data;
	vc->tsc = *tsc;
	vc->anchor = *first;
	if (tsc->khz) {
		vc->nominal_mult = (NS_PER_MS << VCLOCK_SHIFT) / tsc->khz;
		vc->refresh_cycles = (uint64_t)tsc->khz * (VCLOCK_REFRESH_NS / NS_PER_MS);
	}
	seq_write_begin(data);
	data->clock_mode = tsc->usable && tsc->khz ? VVAR_CLOCK_TSC : VVAR_CLOCK_NONE;
	data->cycle_last = first->tsc;
	data->mult = vc->nominal_mult;
	data->shift = VCLOCK_SHIFT;
	memcpy(data->base_ns, first->ns, sizeof(data->base_ns));
	data->hres_res_ns = hres_res_ns;
	data->coarse_res_ns = coarse_res_ns;
	/* One vCPU: getcpu's answer is fixed (vclock_getcpu_per_vcpu when a
	 * second comes). */
	data->getcpu_mode = VVAR_GETCPU_FIXED;
	data->cpu = cpu;
	data->node = 0;
	seq_write_end(data);
}

/* ns per tick << VCLOCK_SHIFT, fitted over the whole run once it is long
 * enough to make the sampling error small, else from the nominal kHz. */
static uint64_t vclock_fit(const struct vclock *vc, const struct vclock_sample *s)
{
	uint64_t cycles = s->tsc - vc->anchor.tsc;
	uint64_t ns = s->ns[VVAR_MONOTONIC] - vc->anchor.ns[VVAR_MONOTONIC];
	uint64_t nominal = vc->nominal_mult, mult, dev;

	if ((int64_t)cycles <= 0 || (int64_t)ns <= 0 ||
	    cycles < (uint64_t)vc->tsc.khz * (VCLOCK_FIT_NS / NS_PER_MS))
		return nominal;
	mult = (uint64_t)(((unsigned __int128)ns << VCLOCK_SHIFT) / cycles);
	dev = mult > nominal ? mult - nominal : nominal - mult;
	return dev > nominal / 1000000 * FIT_MAX_PPM ? nominal : mult;
}

/* Whether a is before b, on clocks that may wrap as unsigned values. */
static bool ns_before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

void vclock_update(struct vclock *vc, const struct vclock_sample *s)
{
	struct vvar_data *d = vc->data;
	uint64_t proj[VVAR_NBASES], base[VVAR_NBASES], mult, ahead;
	int b;

	if (!d || d->clock_mode != VVAR_CLOCK_TSC)
		return;
	for (b = 0; b < VVAR_NBASES; b++)
		proj[b] = vvar_ns(d, (enum vvar_base)b, s->tsc);
	mult = vclock_fit(vc, s);
	/* MONOTONIC leads: a guest ahead of the host keeps its value and
	 * runs slower until the host has caught up (as adjtime slews). */
	base[VVAR_MONOTONIC] = s->ns[VVAR_MONOTONIC];
	if (ns_before(s->ns[VVAR_MONOTONIC], proj[VVAR_MONOTONIC])) {
		ahead = proj[VVAR_MONOTONIC] - s->ns[VVAR_MONOTONIC];
		if (ahead > VCLOCK_SLEW_MAX_PPM * 1000ull)
			ahead = VCLOCK_SLEW_MAX_PPM * 1000ull;
		mult -= (uint64_t)(((unsigned __int128)mult * ahead) / NS_PER_SEC);
		base[VVAR_MONOTONIC] = proj[VVAR_MONOTONIC];
	}
	/* The others keep the host's distance to MONOTONIC. */
	for (b = 0; b < VVAR_NBASES; b++) {
		uint64_t want = base[VVAR_MONOTONIC] + (s->ns[b] - s->ns[VVAR_MONOTONIC]);

		if (b == VVAR_MONOTONIC)
			continue;
		base[b] = want;
		if (ns_before(want, proj[b]) &&
		    (b != VVAR_REALTIME || proj[b] - want < VCLOCK_REALTIME_STEP_NS))
			base[b] = proj[b];
	}
	seq_write_begin(d);
	d->cycle_last = s->tsc;
	d->mult = mult;
	memcpy(d->base_ns, base, sizeof(base));
	seq_write_end(d);
	vc->refreshes++;
}

void vclock_sample_host(struct vclock_sample *s, const struct vclock_tsc *tsc, uint64_t max_cycles,
			uint64_t *retries)
{
	uint64_t mid[VVAR_NBASES];
	int b, i;

	for (b = 0; b < VVAR_NBASES; b++) {
		struct timespec ts;
		uint64_t t0, t1;

		for (i = 0;; i++) {
			t0 = host_rdtsc();
			clock_gettime(base_clock[b], &ts);
			t1 = host_rdtsc();
			if (t1 - t0 <= max_cycles || i == SAMPLE_TRIES - 1)
				break;
			(*retries)++;
		}
		mid[b] = t0 + (t1 - t0) / 2;
		s->ns[b] = ts_ns(&ts);
	}
	/* All clocks at MONOTONIC's TSC: the gaps are a few hundred ns, so
	 * the nominal rate moves them exactly enough. */
	for (b = 0; b < VVAR_NBASES && tsc->khz; b++) {
		int64_t d = (int64_t)(mid[VVAR_MONOTONIC] - mid[b]);

		s->ns[b] += (uint64_t)(d * (int64_t)NS_PER_MS / (int64_t)tsc->khz);
	}
	s->tsc = mid[VVAR_MONOTONIC] + (uint64_t)tsc->offset;
}

static uint32_t res_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_getres(id, &ts) < 0)
		return 1;
	return (uint32_t)ts_ns(&ts);
}

static uint64_t max_sample_cycles(const struct vclock_tsc *tsc)
{
	return tsc->khz ? (uint64_t)tsc->khz * SAMPLE_MAX_NS / NS_PER_MS : UINT64_MAX;
}

void vclock_setup(struct vclock *vc, struct vvar_data *data, const struct vclock_tsc *tsc,
		  uint32_t cpu)
{
	struct vclock_sample first;
	struct timeval tv;
	struct timezone tz = {0};
	uint64_t retries = 0;

	vclock_sample_host(&first, tsc, max_sample_cycles(tsc), &retries);
	vclock_init(vc, data, tsc, &first, res_ns(CLOCK_MONOTONIC), res_ns(CLOCK_MONOTONIC_COARSE),
		    cpu);
	vc->samples_retried = retries;
	/* Linux's vDSO answers gettimeofday's timezone from the kernel's. */
	gettimeofday(&tv, &tz);
	data->tz_minuteswest = tz.tz_minuteswest;
	data->tz_dsttime = tz.tz_dsttime;
}

void vclock_tick(struct vclock *vc)
{
	struct vclock_sample s;

	if (!vc->data || vc->data->clock_mode != VVAR_CLOCK_TSC ||
	    host_rdtsc() + (uint64_t)vc->tsc.offset - vc->data->cycle_last < vc->refresh_cycles)
		return;
	vclock_sample_host(&s, &vc->tsc, max_sample_cycles(&vc->tsc), &vc->samples_retried);
	vclock_update(vc, &s);
}

void vclock_getcpu_per_vcpu(struct vclock *vc)
{
	if (!vc->data || vc->data->getcpu_mode == VVAR_GETCPU_SYSCALL)
		return;
	seq_write_begin(vc->data);
	vc->data->getcpu_mode = VVAR_GETCPU_SYSCALL;
	seq_write_end(vc->data);
}
