/* Types and sizes shared by every vmm module.
 * Guest addresses are typed so that a guest-physical and a guest-virtual
 * address are never confused with each other or with a host pointer. */
#ifndef VMM_TYPES_H
#define VMM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t gpa_t; /* guest physical address */
typedef uint64_t gva_t; /* guest virtual address */

#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

/* Page sizes of both translation dimensions, smallest first. */
enum page_size { PS_4K = 0, PS_2M = 1, PS_1G = 2, PS_COUNT = 3 };

static inline uint64_t page_bytes(enum page_size s)
{
	return s == PS_1G ? SZ_1G : s == PS_2M ? SZ_2M : SZ_4K;
}

static inline const char *page_size_name(enum page_size s)
{
	return s == PS_1G ? "1g" : s == PS_2M ? "2m" : "4k";
}

static inline bool is_aligned(uint64_t x, uint64_t a)
{
	return (x & (a - 1)) == 0;
}
static inline uint64_t align_down(uint64_t x, uint64_t a)
{
	return x & ~(a - 1);
}
/* Caller guarantees x + a - 1 does not wrap. */
static inline uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* Highest user address + 1, as Linux's TASK_SIZE with 4-level paging. */
#define USER_TOP 0x00007ffffffff000ull

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
