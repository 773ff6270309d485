/* /dev/kvm: the system and VM file descriptors, required capabilities,
 * the memory slot, and what paging KVM really uses. vCPUs are objects of
 * their own (kvm/vcpu.h). */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <linux/kvm.h>

#include "guest/mem.h"
#include "util/types.h"

#define KVM_DEV_PATH "/dev/kvm"

struct kvm {
	int sys_fd, vm_fd;
	int api_version;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID (by kvm_open), passed to each vCPU */
	bool cpuid_cached;	  /* ... read from the cache of an earlier run this boot */
	uint64_t mem_covered;	  /* guest RAM [0, mem_covered) is in memory slots */
	unsigned nslots, max_slots;
};

/* Opens /dev/kvm, checks the API version and required capabilities, and
 * reads the CPUID KVM supports.
 * Messages say what is missing: "kvm: /dev/kvm: No such file or directory
 * (is the kvm module loaded? is this a VM without nested virtualization?)". */
int kvm_open(struct kvm *k);
int kvm_create_vm(struct kvm *k);
/* Prepares guest RAM for KVM and registers its first slot; the rest is
 * registered by kvm_memory_cover as the guest comes to use it. */
int kvm_set_memory(struct kvm *k, const struct guest_mem *m);
/* Registers slots of guest RAM until [0, end) is covered (end is clamped
 * to the RAM's size). Slots double in size ([0, 64M), [64M, 128M),
 * [128M, 256M), ..., at most 4T each; the first at least one host page): KVM allocates its per-slot
 * arrays (under shadow paging 8 bytes per 4 KiB page) when a slot is added, so set-up costs what
 * the payload uses, not --mem. Adding a slot drops no shadow state. */
int kvm_memory_cover(struct kvm *k, const struct guest_mem *m, uint64_t end);
void kvm_close(struct kvm *k);

/* Looks up a CPUID leaf in k->cpuid; NULL when KVM does not offer it. */
const struct kvm_cpuid_entry2 *kvm_cpuid_find(const struct kvm *k, uint32_t fn, uint32_t index);

/* What translates guest physical to host: detected, never assumed. */
enum kvm_paging_mode {
	KVM_PAGING_EPT,	   /* Intel VMX with EPT */
	KVM_PAGING_NPT,	   /* AMD SVM with nested page tables */
	KVM_PAGING_SHADOW, /* VMX/SVM without TDP: shadow page tables */
	KVM_PAGING_PVM,	   /* kvm_pvm: paravirtual, shadow page tables */
	KVM_PAGING_UNKNOWN,
};
struct kvm_paging_info {
	enum kvm_paging_mode mode;
	char detail[160]; /* the evidence, e.g. "kvm_pvm loaded, kvm.tdp_mmu=N" */
};
/* Reads /sys/module/{kvm_intel,kvm_amd,kvm_pvm,kvm}/parameters. */
void kvm_detect_paging(struct kvm_paging_info *info);
const char *kvm_paging_mode_name(enum kvm_paging_mode m);

#endif
