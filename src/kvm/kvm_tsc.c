/* Probing the guest TSC: the invariant-TSC bit of the host CPU (the guest
 * reads the host's TSC plus KVM's offset, so the host's counter is what
 * must not stop or change rate), KVM_GET_TSC_KHZ of the vCPU, and the
 * offset from KVM_VCPU_TSC_OFFSET or, where KVM lacks it, from the guest's
 * IA32_TSC read between two host TSC reads. */
#include "kvm/kvm_tsc.h"

#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util/err.h"

#define CPUID_APM 0x80000007u
#define CPUID_APM_EDX_INVARIANT_TSC (1u << 8) /* SDM 2A CPUID, "Invariant TSC" */
#define MSR_IA32_TSC 0x10u
/* linux/kvm.h names these since 5.16; older headers do not. */
#define TSC_CTRL_GROUP 0  /* KVM_VCPU_TSC_CTRL */
#define TSC_CTRL_OFFSET 0 /* KVM_VCPU_TSC_OFFSET */
#define OFFSET_TRIES 8

static uint64_t host_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static bool host_tsc_invariant(void)
{
	unsigned a, b, c, d;

	if ((unsigned)__get_cpuid_max(0x80000000u, NULL) < (unsigned)CPUID_APM)
		return false;
	__cpuid(CPUID_APM, a, b, c, d);
	return d & CPUID_APM_EDX_INVARIANT_TSC;
}

/* The guest's IA32_TSC between two host reads; the narrowest of a few
 * tries bounds the error by its width (an ioctl: microseconds). */
static int offset_from_msr(struct vcpu *v, int64_t *offset)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m;
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < OFFSET_TRIES; i++) {
		uint64_t t0, t1;

		memset(&m, 0, sizeof(m));
		m.hdr.nmsrs = 1;
		m.e.index = MSR_IA32_TSC;
		t0 = host_rdtsc();
		if (vcpu_ioctl(v, KVM_GET_MSRS, &m) != 1)
			return -1;
		t1 = host_rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			*offset = (int64_t)(m.e.data - (t0 + (t1 - t0) / 2));
		}
	}
	return 0;
}

void kvm_tsc_probe(struct vcpu *v, struct kvm_tsc *t)
{
	struct kvm_device_attr attr = {.group = TSC_CTRL_GROUP, .attr = TSC_CTRL_OFFSET};
	int khz;

	memset(t, 0, sizeof(*t));
	if (!host_tsc_invariant()) {
		snprintf(t->why, sizeof(t->why),
			 "the host CPU has no invariant TSC (CPUID 0x80000007 EDX bit 8)");
		return;
	}
	khz = vcpu_ioctl(v, KVM_GET_TSC_KHZ, NULL);
	if (khz <= 0) {
		snprintf(t->why, sizeof(t->why), "KVM_GET_TSC_KHZ: %s",
			 khz < 0 ? strerror(errno) : "0 kHz");
		return;
	}
	t->khz = (uint32_t)khz;
	attr.addr = (uint64_t)(uintptr_t)&t->offset;
	if (vcpu_ioctl(v, KVM_GET_DEVICE_ATTR, &attr) == 0) {
		t->how = "KVM_VCPU_TSC_OFFSET";
	} else if (offset_from_msr(v, &t->offset) == 0) {
		t->how = "IA32_TSC via KVM_GET_MSRS";
	} else {
		snprintf(t->why, sizeof(t->why),
			 "no TSC offset: KVM_VCPU_TSC_OFFSET and KVM_GET_MSRS(IA32_TSC) failed: %s",
			 strerror(errno));
		return;
	}
	t->usable = true;
}

int kvm_tsc_copy(struct vcpu *v, const struct kvm_tsc *t)
{
	int64_t off = t->offset;
	struct kvm_device_attr attr = {
	    .group = TSC_CTRL_GROUP,
	    .attr = TSC_CTRL_OFFSET,
	    .addr = (uint64_t)(uintptr_t)&off,
	};

	/* An offset read through IA32_TSC is not exact enough to copy: the
	 * new vCPU keeps what KVM gave it (KVM syncs new vCPUs' TSCs). */
	if (!t->usable || !t->how || strcmp(t->how, "KVM_VCPU_TSC_OFFSET") != 0)
		return 0;
	if (vcpu_ioctl(v, KVM_SET_DEVICE_ATTR, &attr) < 0)
		return err_wrap("vcpu %d: the TSC offset of vCPU 0", v->index);
	return 0;
}
