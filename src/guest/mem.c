/* Guest RAM, the host dimension of translation: one host mapping backed by
 * 4 KiB pages, THP or a hugetlbfs pool, exactly as the user asked (never a
 * quiet substitute), and the one checked way from a gpa to a host pointer. */
#include "guest/mem.h"

#include "util/err.h"
#include "util/sysfs.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* mmap(2): the huge page size is encoded as log2 in bits 26..31. */
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << MAP_HUGE_SHIFT)
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

#define THP_ENABLED_FILE "/sys/kernel/mm/transparent_hugepage/enabled"

static const struct {
	const char *name;
	enum mem_backing backing;
	uint64_t page;
} backings[] = {
    {"anon", MEM_BACKING_ANON, SZ_4K},
    {"thp", MEM_BACKING_THP, SZ_2M},
    {"hugetlb-2m", MEM_BACKING_HUGETLB_2M, SZ_2M},
    {"hugetlb-1g", MEM_BACKING_HUGETLB_1G, SZ_1G},
};

int mem_backing_parse(const char *s, enum mem_backing *out)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(backings); i++) {
		if (strcmp(s, backings[i].name) == 0) {
			*out = backings[i].backing;
			return 0;
		}
	}
	return err_set("mem: unknown backing '%s' (anon, thp, hugetlb-2m, hugetlb-1g)",
		       s ? s : "(null)");
}

const char *mem_backing_name(enum mem_backing b)
{
	for (size_t i = 0; i < ARRAY_SIZE(backings); i++)
		if (backings[i].backing == b)
			return backings[i].name;
	return "?";
}

uint64_t mem_backing_page_bytes(enum mem_backing b)
{
	for (size_t i = 0; i < ARRAY_SIZE(backings); i++)
		if (backings[i].backing == b)
			return backings[i].page;
	return 0;
}

static bool is_hugetlb(enum mem_backing b)
{
	return b == MEM_BACKING_HUGETLB_2M || b == MEM_BACKING_HUGETLB_1G;
}

/* Sizes as the user writes them for --mem: "3M", "1G", "12K", else "5000B". */
static const char *fmt_size(char *buf, size_t n, uint64_t bytes)
{
	if (bytes && is_aligned(bytes, SZ_1G))
		snprintf(buf, n, "%" PRIu64 "G", bytes >> 30);
	else if (bytes && is_aligned(bytes, 1ull << 20))
		snprintf(buf, n, "%" PRIu64 "M", bytes >> 20);
	else if (bytes && is_aligned(bytes, 1ull << 10))
		snprintf(buf, n, "%" PRIu64 "K", bytes >> 10);
	else
		snprintf(buf, n, "%" PRIu64 "B", bytes); /* a bare --mem is MiB */
	return buf;
}

static int read_u64_file(const char *path, uint64_t *out)
{
	long long v;

	if (!sysfs_read_long(path, &v) || v < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static void hugetlb_file(char *buf, size_t n, uint64_t page, const char *name)
{
	snprintf(buf, n, "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/%s", page >> 10, name);
}

/* Pages the pool can still give a new mapping: free_hugepages counts pages
 * already promised to other mappings too (resv_hugepages), so those are
 * taken off. Surplus pages (nr_overcommit_hugepages) are not counted: the
 * pool is meant to be reserved explicitly. */
static int hugetlb_available(uint64_t page, uint64_t *avail)
{
	char path[128];
	uint64_t free_pages, resv = 0;

	hugetlb_file(path, sizeof(path), page, "free_hugepages");
	if (read_u64_file(path, &free_pages)) {
		char sz[32];
		return err_set(
		    "mem: hugetlb %s pages not supported by this kernel (cannot read %s)",
		    fmt_size(sz, sizeof(sz), page), path);
	}
	hugetlb_file(path, sizeof(path), page, "resv_hugepages");
	if (read_u64_file(path, &resv) || resv > free_pages)
		resv = 0;
	*avail = free_pages - resv;
	return 0;
}

static int hugetlb_pool_error(uint64_t page, uint64_t avail, uint64_t need)
{
	char path[128], sz[32];

	hugetlb_file(path, sizeof(path), page, "nr_hugepages");
	return err_set("mem: hugetlb %s pool has %" PRIu64 " free pages, need %" PRIu64
		       " (write %s)",
		       fmt_size(sz, sizeof(sz), page), avail, need, path);
}

static int map_failed(uint64_t size, enum mem_backing b, int errnum)
{
	char sz[32];

	return err_set("mem: mmap %s (%s): %s%s", fmt_size(sz, sizeof(sz), size),
		       mem_backing_name(b), strerror(errnum),
		       errnum == ENOMEM ? " (more than this host can map: its address space or "
					  "vm.overcommit_memory)"
					: "");
}

static int map_hugetlb(struct guest_mem *m, uint64_t size, enum mem_backing b, bool prealloc)
{
	uint64_t page = mem_backing_page_bytes(b), need = size / page, avail;
	/* MAP_POPULATE faults every page in now; MAP_LOCKED is deliberately
	 * absent: hugetlb pages are never swapped anyway. Without
	 * MAP_NORESERVE the kernel reserves the pages at mmap time, so a
	 * pool that runs dry later is an mmap error, not a SIGBUS. */
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
		    (b == MEM_BACKING_HUGETLB_1G ? MAP_HUGE_1GB : MAP_HUGE_2MB) |
		    (prealloc ? MAP_POPULATE : 0);
	void *p;

	if (hugetlb_available(page, &avail))
		return -1;
	if (avail < need)
		return hugetlb_pool_error(page, avail, need);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		if (e == ENOMEM && hugetlb_available(page, &avail) == 0 && avail < need)
			return hugetlb_pool_error(page, avail, need);
		return map_failed(size, b, e);
	}
	m->host = p;
	m->map_base = p;
	m->map_len = size;
	return 0;
}

static int map_anon(struct guest_mem *m, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return map_failed(size, MEM_BACKING_ANON, errno);
	m->host = p;
	m->map_base = p;
	m->map_len = size;
	/* Without this, THP in "always" mode would hand out 2 MiB host pages
	 * and the experiment would not be the 4 KiB one that was asked for. */
	if (madvise(p, size, MADV_NOHUGEPAGE))
		return err_set("mem: madvise(MADV_NOHUGEPAGE) on %" PRIu64 " bytes: %s", size,
			       strerror(errno));
	return 0;
}

/* madvise(MADV_HUGEPAGE) succeeds even when THP is "never", and then no
 * huge page ever comes: that would be a quietly different experiment. */
static int thp_check_enabled(void)
{
	char line[128] = "";
	FILE *f = fopen(THP_ENABLED_FILE, "r");

	if (!f)
		return err_set("mem: thp: THP not supported by this kernel (cannot read %s)",
			       THP_ENABLED_FILE);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	if (strstr(line, "[never]"))
		return err_set("mem: thp: THP is disabled: %s says [never] (write madvise)",
			       THP_ENABLED_FILE);
	return 0;
}

static int map_thp(struct guest_mem *m, uint64_t size)
{
	uint8_t *p, *host;
	uint64_t head, tail;

	if (thp_check_enabled())
		return -1;
	if (size > UINT64_MAX - SZ_2M)
		return map_failed(size, MEM_BACKING_THP, ENOMEM);
	/* Over-map by 2 MiB so the guest RAM can start on a 2 MiB boundary:
	 * only then can guest physical 2 MiB blocks be host huge pages. */
	p = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return map_failed(size, MEM_BACKING_THP, errno);
	host = (uint8_t *)align_up((uintptr_t)p, SZ_2M);
	head = (uint64_t)(host - p);
	tail = SZ_2M - head;
	if (head)
		munmap(p, head);
	if (tail)
		munmap(host + size, tail);
	m->host = host;
	m->map_base = host;
	m->map_len = size;
	if (madvise(host, size, MADV_HUGEPAGE))
		return err_set("mem: madvise(MADV_HUGEPAGE) on %" PRIu64 " bytes: %s (is THP "
			       "disabled? see %s)",
			       size, strerror(errno), THP_ENABLED_FILE);
	return 0;
}

/* Populates anonymous memory now; MADV_POPULATE_WRITE reports failure as an
 * error where touching could only die of SIGBUS or the OOM killer. */
static int populate_anon(struct guest_mem *m)
{
	uint64_t page = mem_backing_page_bytes(m->backing);
	char sz[32];

	if (madvise(m->host, m->size, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return err_set("mem: preallocating %s (%s): madvise(MADV_POPULATE_WRITE): %s",
			       fmt_size(sz, sizeof(sz), m->size), mem_backing_name(m->backing),
			       strerror(errno));
	/* Kernels before 5.14: one write per host page faults it in. */
	for (uint64_t off = 0; off < m->size; off += page)
		((volatile uint8_t *)m->host)[off] = 0;
	return 0;
}

int mem_create(struct guest_mem *m, uint64_t size, enum mem_backing backing, bool prealloc)
{
	uint64_t page = mem_backing_page_bytes(backing);
	char sz[32], psz[32];
	int r;

	memset(m, 0, sizeof(*m));
	if (page == 0)
		return err_set("mem: backing %d unknown", (int)backing);
	if (size == 0)
		return err_set("mem: --mem must not be 0");
	if (!is_aligned(size, page))
		return err_set("mem: --mem %s is not a multiple of the %s page (%s)",
			       fmt_size(sz, sizeof(sz), size), mem_backing_name(backing),
			       fmt_size(psz, sizeof(psz), page));
	m->size = size;
	m->backing = backing;
	if (is_hugetlb(backing))
		r = map_hugetlb(m, size, backing, prealloc);
	else if (backing == MEM_BACKING_THP)
		r = map_thp(m, size);
	else
		r = map_anon(m, size);
	if (r == 0 && prealloc && !is_hugetlb(backing))
		r = populate_anon(m);
	if (r)
		mem_destroy(m);
	return r;
}

void mem_destroy(struct guest_mem *m)
{
	if (m->map_base)
		munmap(m->map_base, m->map_len);
	memset(m, 0, sizeof(*m));
}

void *mem_ptr(const struct guest_mem *m, gpa_t gpa, uint64_t len)
{
	/* Written so that nothing can wrap: gpa + len is never computed. An
	 * empty range may sit at the very end (gpa == size). */
	if (gpa > m->size || len > m->size - gpa)
		return NULL;
	return m->host + gpa;
}

int mem_keep_small(struct guest_mem *m, gpa_t gpa, uint64_t len)
{
	uint8_t *p = mem_ptr(m, gpa, len);

	if (!p || !is_aligned(gpa, SZ_4K) || !is_aligned(len, SZ_4K))
		return err_set("mem: keep_small 0x%" PRIx64 " (+0x%" PRIx64 "): not 4K pages of "
			       "guest RAM",
			       gpa, len);
	if (m->backing != MEM_BACKING_THP || !is_aligned(gpa, SZ_2M))
		return 0; /* a 4K piece of THP memory: its block is not all ours */
	if (madvise(p, len, MADV_NOHUGEPAGE))
		return err_set("mem: madvise(MADV_NOHUGEPAGE) on 0x%" PRIx64 " (+0x%" PRIx64
			       "): %s",
			       gpa, len, strerror(errno));
	return 0;
}

/* Whole host pages of this size can be given back with MADV_DONTNEED;
 * doing it on part of a THP would split it, on part of a hugetlb page the
 * kernel refuses, so those parts are cleared with memset instead. */
static uint64_t dontneed_granule(enum mem_backing b)
{
	return b == MEM_BACKING_ANON ? SZ_4K : mem_backing_page_bytes(b);
}

void mem_zero(struct guest_mem *m, gpa_t gpa, uint64_t len)
{
	uint8_t *p = mem_ptr(m, gpa, len);
	uint64_t g = dontneed_granule(m->backing), a, b;

	assert(p && is_aligned(gpa, SZ_4K) && is_aligned(len, SZ_4K));
	if (!p || len == 0)
		return;
	a = align_up(gpa, g);
	b = align_down(gpa + len, g);
	if (a >= b || madvise(m->host + a, b - a, MADV_DONTNEED)) {
		/* No whole host page inside, or the kernel said no: the
		 * contract is zeroed memory, which memset always gives. */
		memset(p, 0, len);
		return;
	}
	memset(p, 0, a - gpa);
	memset(m->host + b, 0, gpa + len - b);
}
