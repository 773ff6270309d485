/* /dev/kvm: opening it with clear messages, the capabilities vmm relies on,
 * one VM with guest RAM in memory slots added as it is used, and detection of the paging
 * mode KVM uses for the host dimension. */
#include "kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/cpuid_cache.h"
#include "util/err.h"
#include "util/sysfs.h"

/* KVM offers about 60 CPUID entries; E2BIG asks for more room, up to this. */
#define KVM_CPUID_MAX_ENTRIES 4096

/* Capabilities without which vmm cannot run (kvmtool's table idea). */
static const struct {
	int cap;
	const char *name;
} kvm_required_caps[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
};

/* Intel VMX wants three pages for a real-mode TSS the guest never uses (it
 * starts in long mode); KVM backs them with a private memory slot that must
 * lie below 4 GiB and outside guest RAM. */
#define KVM_TSS_ADDR 0xfffbd000ull

static int kvm_open_hint(int e, char *buf, size_t len)
{
	if (e == ENOENT)
		snprintf(buf, len,
			 " (is the kvm module loaded? inside a VM, nested virtualization "
			 "or kvm_pvm is needed)");
	else if (e == EACCES || e == EPERM)
		snprintf(buf, len, " (run as root or add yourself to the kvm group)");
	else
		buf[0] = '\0';
	return 0;
}

/* The CPUID KVM can offer a guest; the table grows while KVM says E2BIG.
 * About 0.7 ms here: the host kernel runs CPUID for every leaf, and this
 * host being a VM, each of those exits (a thread for it cost more than it
 * saved, measured), so the answer is cached per boot (kvm/cpuid_cache.h). */
static int kvm_ask_cpuid(struct kvm *k)
{
	for (uint32_t n = 256; n <= KVM_CPUID_MAX_ENTRIES; n *= 2) {
		k->cpuid = calloc(1, sizeof(*k->cpuid) + n * sizeof(k->cpuid->entries[0]));
		if (!k->cpuid)
			return err_set("kvm: out of memory");
		k->cpuid->nent = n;
		if (ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, k->cpuid) == 0)
			return 0;
		free(k->cpuid);
		k->cpuid = NULL;
		if (errno != E2BIG)
			return err_set("kvm: KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	}
	return err_set("kvm: KVM_GET_SUPPORTED_CPUID: more than %d entries", KVM_CPUID_MAX_ENTRIES);
}

static int kvm_get_cpuid(struct kvm *k)
{
	char path[4096], key[CPUID_CACHE_KEY_MAX];
	bool cached = cpuid_cache_path(path, sizeof(path)) && cpuid_cache_key(key, sizeof(key));

	k->cpuid = cached ? cpuid_cache_load(path, key) : NULL;
	k->cpuid_cached = k->cpuid != NULL;
	if (k->cpuid)
		return 0;
	if (kvm_ask_cpuid(k) < 0)
		return -1;
	if (cached)
		cpuid_cache_store(path, key, k->cpuid);
	return 0;
}

int kvm_open(struct kvm *k)
{
	char hint[128];
	size_t i;

	memset(k, 0, sizeof(*k));
	k->vm_fd = -1;
	k->sys_fd = open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (k->sys_fd < 0) {
		int e = errno;
		kvm_open_hint(e, hint, sizeof(hint));
		return err_set("kvm: %s: %s%s", KVM_DEV_PATH, strerror(e), hint);
	}
	k->api_version = ioctl(k->sys_fd, KVM_GET_API_VERSION, 0);
	if (k->api_version != KVM_API_VERSION)
		return err_set("kvm: API version %d, need %d", k->api_version, KVM_API_VERSION);
	for (i = 0; i < ARRAY_SIZE(kvm_required_caps); i++)
		if (ioctl(k->sys_fd, KVM_CHECK_EXTENSION, kvm_required_caps[i].cap) <= 0)
			return err_set("kvm: required capability %s missing",
				       kvm_required_caps[i].name);
	return kvm_get_cpuid(k);
}

int kvm_create_vm(struct kvm *k)
{
	k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0)
		return err_set("kvm: KVM_CREATE_VM: %s", strerror(errno));
	return 0;
}

/* Small enough that a small payload's slot costs KVM little to add and to
 * tear down (its rmap is 8 bytes per 4 KiB page under shadow paging), large
 * enough to hold its image, stack and tables. */
#define KVM_SLOT_FIRST (64ull << 20)
/* KVM_MEM_MAX_NR_PAGES is 2^31 - 1 pages (8 TiB less 4K) on x86. */
#define KVM_SLOT_MAX (4ull << 40)
/* What KVM_CAP_NR_MEMSLOTS guaranteed before it existed. */
#define KVM_SLOTS_DEFAULT 32

/* Slots of first, first, 2 first, 4 first, ...: every boundary is aligned
 * to the first slot's size, which is at least the host page of the backing,
 * so no host huge page straddles two slots (KVM maps none that does). */
static uint64_t kvm_slot_size(uint64_t start, const struct guest_mem *m)
{
	uint64_t first = mem_backing_page_bytes(m->backing);

	if (first < KVM_SLOT_FIRST)
		first = KVM_SLOT_FIRST;
	if (start == 0)
		return first;
	return start < KVM_SLOT_MAX ? start : KVM_SLOT_MAX;
}

int kvm_memory_cover(struct kvm *k, const struct guest_mem *m, uint64_t end)
{
	if (end > m->size)
		end = m->size;
	while (k->mem_covered < end) {
		uint64_t start = k->mem_covered, size = kvm_slot_size(start, m);
		struct kvm_userspace_memory_region region = {
		    .slot = k->nslots,
		    .guest_phys_addr = start,
		    .memory_size = size < m->size - start ? size : m->size - start,
		    .userspace_addr = (uint64_t)(uintptr_t)(m->host + start),
		};

		if (k->nslots >= k->max_slots)
			return err_set(
			    "kvm: guest RAM at 0x%llx needs memory slot %u, KVM offers %u "
			    "(KVM_CAP_NR_MEMSLOTS)",
			    (unsigned long long)start, k->nslots, k->max_slots);
		if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
			return err_set(
			    "kvm: KVM_SET_USER_MEMORY_REGION slot %u (0x%llx, %llu bytes): "
			    "%s",
			    k->nslots, (unsigned long long)start,
			    (unsigned long long)region.memory_size, strerror(errno));
		k->nslots++;
		k->mem_covered += region.memory_size;
	}
	return 0;
}

int kvm_set_memory(struct kvm *k, const struct guest_mem *m)
{
	int slots = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);

	k->max_slots = slots > 0 ? (unsigned)slots : KVM_SLOTS_DEFAULT;
	/* Above that, RAM covers the address; a long-mode guest with
	 * unrestricted guest support (every VMX CPU since 2010) needs no TSS. */
	if (m->size <= KVM_TSS_ADDR &&
	    ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
	    ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		return err_set("kvm: KVM_SET_TSS_ADDR: %s", strerror(errno));
	return kvm_memory_cover(k, m, 1);
}

void kvm_close(struct kvm *k)
{
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->sys_fd > 0)
		close(k->sys_fd);
	free(k->cpuid);
	memset(k, 0, sizeof(*k));
	k->sys_fd = k->vm_fd = -1;
}

const struct kvm_cpuid_entry2 *kvm_cpuid_find(const struct kvm *k, uint32_t fn, uint32_t index)
{
	uint32_t i;

	if (!k->cpuid)
		return NULL;
	for (i = 0; i < k->cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &k->cpuid->entries[i];
		bool indexed = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		if (e->function == fn && (!indexed || e->index == index))
			return e;
	}
	return NULL;
}

/* Reads a module parameter: true and *out filled, false when it does not
 * exist (or is empty, which sysfs parameters never are). */
static bool kvm_read_param(const char *module, const char *param, char *out, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", module, param);
	return sysfs_read_line(path, out, len);
}

static bool kvm_module_loaded(const char *module)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s", module);
	return access(path, F_OK) == 0;
}

static bool param_true(const char *v)
{
	return v[0] == 'Y' || v[0] == 'y' || v[0] == '1';
}

void kvm_detect_paging(struct kvm_paging_info *info)
{
	char v[64] = "", tdp[64] = "?";

	kvm_read_param("kvm", "tdp_mmu", tdp, sizeof(tdp));
	if (kvm_module_loaded("kvm_pvm")) {
		info->mode = KVM_PAGING_PVM;
		snprintf(info->detail, sizeof(info->detail),
			 "kvm_pvm loaded: paravirtual, shadow page tables (kvm.tdp_mmu=%s)", tdp);
	} else if (kvm_read_param("kvm_intel", "ept", v, sizeof(v))) {
		info->mode = param_true(v) ? KVM_PAGING_EPT : KVM_PAGING_SHADOW;
		snprintf(info->detail, sizeof(info->detail), "kvm_intel.ept=%s, kvm.tdp_mmu=%s", v,
			 tdp);
	} else if (kvm_read_param("kvm_amd", "npt", v, sizeof(v))) {
		info->mode = param_true(v) ? KVM_PAGING_NPT : KVM_PAGING_SHADOW;
		snprintf(info->detail, sizeof(info->detail), "kvm_amd.npt=%s, kvm.tdp_mmu=%s", v,
			 tdp);
	} else {
		info->mode = KVM_PAGING_UNKNOWN;
		snprintf(info->detail, sizeof(info->detail),
			 "no kvm_intel, kvm_amd or kvm_pvm module parameters found");
	}
}

const char *kvm_paging_mode_name(enum kvm_paging_mode m)
{
	static const char *const names[] = {
	    [KVM_PAGING_EPT] = "ept",	      [KVM_PAGING_NPT] = "npt",
	    [KVM_PAGING_SHADOW] = "shadow",   [KVM_PAGING_PVM] = "pvm-shadow",
	    [KVM_PAGING_UNKNOWN] = "unknown",
	};
	return (unsigned)m < ARRAY_SIZE(names) ? names[m] : "unknown";
}
