/* Guest RAM: the host dimension of translation (guest physical -> host).
 * One contiguous host mapping, backed the way the user chose, registered
 * with KVM as one memory slot at guest physical address 0. */
#ifndef VMM_MEM_H
#define VMM_MEM_H

#include "util/types.h"

enum mem_backing {
	MEM_BACKING_ANON,	/* anonymous 4 KiB pages, MADV_NOHUGEPAGE */
	MEM_BACKING_THP,	/* anonymous, 2 MiB aligned, MADV_HUGEPAGE */
	MEM_BACKING_HUGETLB_2M, /* MAP_HUGETLB | MAP_HUGE_2MB */
	MEM_BACKING_HUGETLB_1G, /* MAP_HUGETLB | MAP_HUGE_1GB */
};

struct guest_mem {
	uint8_t *host; /* guest physical 0 in the VMM's address space */
	uint64_t size; /* bytes of guest RAM */
	enum mem_backing backing;
	void *map_base; /* what munmap needs (host may be aligned inside it) */
	size_t map_len;
};

/* Parses "anon", "thp", "hugetlb-2m", "hugetlb-1g". */
int mem_backing_parse(const char *s, enum mem_backing *out);
const char *mem_backing_name(enum mem_backing b);
/* The host page size the backing provides (4K, 2M (THP: hoped for), 1G). */
uint64_t mem_backing_page_bytes(enum mem_backing b);

/* Maps guest RAM. Costs nothing until touched unless prealloc is set, which
 * populates every page now (MAP_POPULATE / touching). A hugetlb pool that is
 * too small is an error naming the pool, free pages, pages needed and the
 * file to write; nothing falls back to another backing. */
int mem_create(struct guest_mem *m, uint64_t size, enum mem_backing backing, bool prealloc);
void mem_destroy(struct guest_mem *m);

/* The one checked way from a guest physical range to a host pointer:
 * NULL unless [gpa, gpa + len) lies inside guest RAM (len may be 0). */
void *mem_ptr(const struct guest_mem *m, gpa_t gpa, uint64_t len);

/* Asks that [gpa, gpa + len) be backed by 4 KiB host pages where the
 * backing would otherwise give 2 MiB ones (THP: MADV_NOHUGEPAGE), so that
 * the VMM's own pages never show in KVM's count of 2 MiB mappings. hugetlb
 * backings cannot; anon is small already. */
int mem_keep_small(struct guest_mem *m, gpa_t gpa, uint64_t len);

/* Makes [gpa, gpa + len) read as zero again, giving host memory back where
 * the backing allows it (MADV_DONTNEED on whole host pages) and memset
 * elsewhere. The range must be inside guest RAM and 4 KiB aligned. */
void mem_zero(struct guest_mem *m, gpa_t gpa, uint64_t len);

#endif
