/* A per-user cache of KVM_GET_SUPPORTED_CPUID. The ioctl makes the host
 * kernel run CPUID for every leaf; on a host that is itself a VM each of
 * those exits, which costs about 0.7 ms, a third of what vmm's start-up
 * adds to the bare-KVM floor. What KVM supports is fixed while the same
 * kvm modules stay loaded on the same boot (and the same microcode), so
 * the answer is kept in $XDG_CACHE_HOME/vmm/kvm-cpuid (else
 * ~/.cache/vmm/kvm-cpuid) under a key naming exactly that; a file whose key
 * or size does not match is ignored and replaced. VMM_CPUID_CACHE=0 turns
 * the cache off (the cold start-up is then measured). */
#ifndef VMM_CPUID_CACHE_H
#define VMM_CPUID_CACHE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>

#define CPUID_CACHE_KEY_MAX 256
#define CPUID_CACHE_MAX_ENTRIES 4096

/* The cache file's path; false when the cache is off or there is no
 * home directory to hold it. */
bool cpuid_cache_path(char *buf, size_t len);
/* The host's key: boot_id, the kernfs inode of each loaded kvm module
 * (a reload makes a new one), the microcode revision and the layout of an
 * entry. False when the boot cannot be named. */
bool cpuid_cache_key(char *buf, size_t len);
/* The cached table (malloc'd, the caller frees) when the file at path
 * belongs to this user and holds exactly key's table; NULL otherwise. */
struct kvm_cpuid2 *cpuid_cache_load(const char *path, const char *key);
/* Writes the table under key through a temporary file and a rename, so a
 * reader never sees half of it. Best effort: a cache that cannot be written
 * only costs the next run the ioctl. */
void cpuid_cache_store(const char *path, const char *key, const struct kvm_cpuid2 *c);

#endif
