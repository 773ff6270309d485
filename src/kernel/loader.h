/* Puts a validated ELF image into the payload's address space and builds
 * the Linux initial stack (argc, argv, envp, auxv) the way execve does. */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include "guest/vvar.h"
#include "kernel/elf.h"
#include "kernel/mm.h"

/* Where Linux puts a static-pie executable (ELF_ET_DYN_BASE, x86-64). */
#define LOADER_PIE_BASE 0x555555554000ull

struct load_info {
	gva_t entry;		/* first instruction */
	gva_t sp;		/* initial stack pointer (points at argc) */
	uint64_t bias;		/* load bias: 0 for ET_EXEC */
	gva_t phdr;		/* AT_PHDR */
	gva_t brk;		/* start of the heap */
	gva_t vdso;		/* AT_SYSINFO_EHDR: 0 without a vDSO */
	struct vvar_data *vvar; /* the vDSO's data page (host pointer), or NULL */
};

struct loader_args {
	int argc;
	char **argv; /* argv[0] is what the payload sees as its name */
	char **envp;
	const char *execfn;
	uint64_t hwcap; /* AT_HWCAP: CPUID.1:EDX as the guest sees it */
	bool vdso;	/* map the vDSO and announce it (AT_SYSINFO_EHDR) */
};

int loader_load(struct mm *mm, const struct elf_image *img, const struct loader_args *a,
		struct load_info *out);

#endif
