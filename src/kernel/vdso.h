/* The vDSO in the payload's address space: its data page (read-only to the
 * payload) and the image vmm embeds (read+execute), as sealed system
 * regions that mmap never places over and munmap/mprotect refuse. */
#ifndef VMM_VDSO_H
#define VMM_VDSO_H

#include "guest/vvar.h"
#include "kernel/mm.h"

/* Where they go: in the gap between the stack and the mmap base, which
 * top-down mmap never fills, the data page right below the image as on
 * Linux. AT_SYSINFO_EHDR is VDSO_VA. */
#define VDSO_VVAR_VA MM_MMAP_BASE
#define VDSO_VA (VDSO_VVAR_VA + VVAR_SIZE)

/* The embedded image (guest/vdso_image.S). */
extern const uint8_t vdso_image_start[], vdso_image_end[];

/* Maps both, copies the image, zeroes the data page and returns a host
 * pointer to it in *data. -1 with err set when the range is taken (an ELF
 * loaded there) or guest RAM ran out. */
int vdso_map(struct mm *mm, struct vvar_data **data);

#endif
