/* Allocator of guest physical frames over guest RAM. Frames are handed out
 * as 4 KiB, 2 MiB or 1 GiB naturally aligned blocks so that the guest page
 * tables can use large pages; any 4 KiB frame of a large block can later be
 * freed on its own (munmap of part of a large page). Every free frame is
 * zero: callers zero what they free (see pt_commit). */
#ifndef VMM_FRAMES_H
#define VMM_FRAMES_H

#include "util/types.h"

struct frames {
	uint64_t nframes; /* 4 KiB frames in guest RAM */
	uint64_t nfree;
	uint64_t *used;	      /* bitmap, one bit per 4 KiB frame */
	uint16_t *used_in_2m; /* used frames in each 2 MiB block, 0..512 */
	uint64_t next_small;  /* where the next 4 KiB search starts */
	uint64_t npartial;    /* 2 MiB blocks with 0 < used < 512: skip the search when 0 */
	uint64_t next_2m;     /* 2 MiB block where the next 2 MiB search starts */
	uint64_t top;	      /* end of the highest frame ever handed out or reserved:
			       * the guest can reach no memory above it */
	/* Called before top grows (NULL: never): the VM makes the memory up
	 * to new_top reachable (KVM memory slots) before any table can link
	 * a frame there. Failing it fails the allocation. */
	int (*before_top)(void *ctx, uint64_t new_top);
	void *before_top_ctx;
};

int frames_init(struct frames *f, uint64_t mem_bytes);
void frames_destroy(struct frames *f);

/* Allocates one naturally aligned block of the given size. 4 KiB frames are
 * taken preferably from 2 MiB blocks that are already in use, to keep whole
 * blocks free for large pages. Returns -1 (err set: "frames: out of guest
 * memory: need 2M, 1234 4K frames free") when no such block is free. */
int frames_alloc(struct frames *f, enum page_size size, gpa_t *gpa);
/* Frees [gpa, gpa + bytes); must be 4 KiB aligned and currently in use. */
void frames_free(struct frames *f, gpa_t gpa, uint64_t bytes);
/* Marks a range in use (the VMM's own system area). */
int frames_reserve(struct frames *f, gpa_t gpa, uint64_t bytes);
bool frames_in_use(const struct frames *f, gpa_t gpa);

#endif
