/* Shared by the libFuzzer harnesses: a KVM-free guest (RAM, frames, page
 * tables, mm) set up and torn down per input, the same way vm.c does it,
 * so every input starts from a clean address space. */
#ifndef VMM_TESTS_FUZZ_H
#define VMM_TESTS_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#include "guest/sysarea.h"
#include "kernel/mm.h"
#include "util/err.h"

#define FUZZ_MEM (32ull << 20) /* small: every input maps and tears down */

struct fuzz_guest {
	struct guest_mem mem;
	struct frames fr;
	struct page_tables pt;
	struct mm mm;
};

/* A failing set-up is the harness's fault, not the input's: stop loudly. */
static inline void fuzz_guest_up(struct fuzz_guest *g)
{
	if (mem_create(&g->mem, FUZZ_MEM, MEM_BACKING_ANON, false) < 0 ||
	    frames_init(&g->fr, g->mem.size) < 0 || frames_reserve(&g->fr, 0, SYS_AREA_END) < 0 ||
	    pt_init(&g->pt, &g->mem, &g->fr) < 0) {
		fprintf(stderr, "fuzz: guest set-up: %s\n", err_msg());
		abort();
	}
	mm_init(&g->mm, &g->pt, GUEST_PAGES_4K);
}

static inline void fuzz_guest_down(struct fuzz_guest *g)
{
	mm_destroy(&g->mm);
	pt_destroy(&g->pt);
	frames_destroy(&g->fr);
	mem_destroy(&g->mem);
}

#endif
