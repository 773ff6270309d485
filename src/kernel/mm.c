/* The payload's memory syscalls with Linux's semantics and errno values,
 * over the region list (vma.c) and the guest page tables (paging.c). Memory
 * is mapped eagerly; every syscall ends with one pt_commit (one guest round
 * trip at most).
 *
 * Where this differs from Linux, on purpose:
 * - Only anonymous memory: a file mapping is -ENODEV (-EBADF for a negative
 *   fd); the syscall layer, which knows the open fds, may answer first.
 *   MAP_SHARED|MAP_ANONYMOUS and MAP_DROPPABLE are private mappings: with one
 *   process and no fork nobody could tell the difference.
 * - MAP_HUGETLB is -ENOMEM, as on a Linux whose hugetlb pool is empty: the
 *   guest page policy (--guest-pages) is what decides large pages here.
 * - MAP_POPULATE, MAP_LOCKED and MAP_NORESERVE change nothing: every mapping
 *   is populated anyway. MAP_GROWSDOWN regions do not grow. MAP_32BIT is
 *   placed top-down inside [1 GiB, 2 GiB) (Linux: bottom-up there).
 * - MAP_FIXED below MM_MMAP_MIN is -EPERM (a process without CAP_SYS_RAWIO).
 * - VMA_SYSTEM regions are sealed as by mseal(2): munmap, mprotect, MAP_FIXED,
 *   mremap and discarding madvise over them are -EPERM.
 * - Regions loaded from the ELF file behave as anonymous copies of it:
 *   MADV_DONTNEED zero-fills them where Linux would re-read the file.
 * - mprotect over a range with a hole changes nothing (Linux changes the
 *   part below the hole); both return -ENOMEM.
 * - mremap: MREMAP_MAYMOVE and MREMAP_FIXED are supported by copying the
 *   contents (Linux moves page-table entries); MREMAP_DONTUNMAP is -EINVAL
 *   as on kernels before 5.7. */
#include "kernel/mm.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include "util/err.h"

/* Linux x86-64 ABI values (uapi asm-generic/mman-common.h, linux/mman.h)
 * that the host's libc headers may be too old to have. */
#define MM_MAP_TYPE 0x0f
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define MM_MAP_HUGE_SHIFT 26
#define MM_MAP_HUGE_MASK 0x3fu
#define MM_PROT_SEM 0x8
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
enum {
	MM_MADV_FREE = 8,
	MM_MADV_REMOVE = 9,
	MM_MADV_DONTFORK = 10,
	MM_MADV_DOFORK = 11,
	MM_MADV_MERGEABLE = 12,
	MM_MADV_UNMERGEABLE = 13,
	MM_MADV_HUGEPAGE = 14,
	MM_MADV_NOHUGEPAGE = 15,
	MM_MADV_DONTDUMP = 16,
	MM_MADV_DODUMP = 17,
	MM_MADV_WIPEONFORK = 18,
	MM_MADV_KEEPONFORK = 19,
	MM_MADV_COLD = 20,
	MM_MADV_PAGEOUT = 21,
	MM_MADV_POPULATE_READ = 22,
	MM_MADV_POPULATE_WRITE = 23,
	MM_MADV_DONTNEED_LOCKED = 24,
	MM_MADV_COLLAPSE = 25,
};

/* Where MAP_32BIT mappings go on x86-64 (arch/x86/kernel/sys_x86_64.c). */
#define MM_32BIT_BOTTOM 0x40000000ull
#define MM_32BIT_TOP 0x80000000ull

#define PAGES_PER_2M (SZ_2M / SZ_4K)

static const char *const policy_names[] = {
    [GUEST_PAGES_4K] = "4k",
    [GUEST_PAGES_2M] = "2m",
    [GUEST_PAGES_1G] = "1g",
    [GUEST_PAGES_MADVISE] = "madvise",
};

int guest_page_policy_parse(const char *s, enum guest_page_policy *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(policy_names); i++) {
		if (strcmp(s, policy_names[i]) == 0) {
			*out = (enum guest_page_policy)i;
			return 0;
		}
	}
	return err_set("config: --guest-pages '%s': unknown policy (use 4k, 2m, 1g or madvise)", s);
}

const char *guest_page_policy_name(enum guest_page_policy p)
{
	return (size_t)p < ARRAY_SIZE(policy_names) ? policy_names[p] : "?";
}

void mm_init(struct mm *mm, struct page_tables *pt, enum guest_page_policy policy)
{
	memset(mm, 0, sizeof(*mm));
	mm->pt = pt;
	mm->policy = policy;
	vma_list_init(&mm->vmas);
}

void mm_destroy(struct mm *mm)
{
	vma_list_free(&mm->vmas);
}

void mm_set_brk(struct mm *mm, gva_t brk_start)
{
	mm->brk_start = mm->brk_cur = brk_start;
	mm->brk_end = align_up(brk_start, SZ_4K);
}

static gva_t min_va(gva_t a, gva_t b)
{
	return a < b ? a : b;
}
static gva_t max_va(gva_t a, gva_t b)
{
	return a > b ? a : b;
}

/* Leaf permissions for a prot. x86 cannot express write-only or exec-only,
 * so both imply read, as on Linux. PROT_NONE keeps the frame but clears P. */
static uint64_t perm_of(int prot)
{
	uint64_t perm = PTE_US;

	if (prot == PROT_NONE)
		return PTE_SW_PROTNONE | PTE_US | PTE_NX;
	if (prot & PROT_WRITE)
		perm |= PTE_RW;
	if (!(prot & PROT_EXEC))
		perm |= PTE_NX;
	return perm;
}

/* The largest page the policy allows in a region with these flags.
 * MADV_NOHUGEPAGE wins over the 2m and 1g policies, as it wins over THP's
 * "always" mode. */
static enum page_size policy_max(const struct mm *mm, unsigned flags)
{
	if (flags & VMA_NOHUGE)
		return PS_4K;
	switch (mm->policy) {
	case GUEST_PAGES_2M:
		return PS_2M;
	case GUEST_PAGES_1G:
		return PS_1G;
	case GUEST_PAGES_MADVISE:
		return (flags & VMA_HUGE) ? PS_2M : PS_4K;
	default:
		return PS_4K;
	}
}

/* How a new mapping of len bytes is aligned: Linux aligns anonymous
 * mappings that could hold a transparent huge page to 2 MiB; the madvise
 * policy too, since MADV_HUGEPAGE may come later. */
static uint64_t placement_align(const struct mm *mm, uint64_t len, unsigned flags)
{
	enum page_size max = policy_max(mm, flags | VMA_HUGE);

	if (max == PS_1G && len >= SZ_1G)
		return SZ_1G;
	if (max >= PS_2M && len >= SZ_2M)
		return SZ_2M;
	return SZ_4K;
}

/* One page that has a frame: present, or PROT_NONE with its frame kept. */
struct leaf {
	gva_t va; /* first byte of the page */
	uint64_t bytes;
	gpa_t gpa; /* its frame */
	uint64_t pte;
};

/* The page holding va: true and *lf set, or false when va has no frame;
 * *next is then the end of the span of the empty entry the walk stopped at,
 * so scans skip missing tables at once. The VMM's own leaves (never inside
 * a payload region) count as frames here, so no scan fills over them. */
static bool leaf_at(const struct mm *mm, gva_t va, struct leaf *lf, gva_t *next)
{
	/* Bytes an entry covers when the walk stopped after `levels` reads. */
	static const uint64_t span[5] = {SZ_4K, 1ull << 39, SZ_1G, SZ_2M, SZ_4K};
	struct pt_walk w;

	pt_walk(mm->pt, va, &w); /* a PROT_NONE leaf: not mapped, leaf set */
	if (w.leaf == 0) {
		*next = align_down(va, span[w.levels]) + span[w.levels];
		return false;
	}
	lf->bytes = page_bytes(w.size);
	lf->pte = w.leaf;
	lf->va = align_down(va, lf->bytes);
	lf->gpa = w.gpa - (va - lf->va);
	return true;
}

/* Maps zeroed memory for [va, va + len) with the policy's pages, counting
 * the large pages the policy allowed but no free frame could back. */
static int populate(struct mm *mm, gva_t va, uint64_t len, int prot, unsigned flags)
{
	uint64_t before = mm->pt->sum.fallback_small;

	if (prot == PROT_NONE)
		return 0; /* a reservation: frames come with mprotect */
	if (pt_populate(mm->pt, va, len, perm_of(prot), policy_max(mm, flags)) < 0)
		return -1;
	mm->stats.fallback_small += mm->pt->sum.fallback_small - before;
	return 0;
}

/* Every syscall that may have changed the tables ends here. */
static long finish(struct mm *mm, long ret)
{
	if (pt_commit(mm->pt, mm->apply, mm->apply_ctx) < 0) {
		err_wrap("mm: page-table update");
		mm->failed = true;
		return -ENOMEM;
	}
	return ret;
}

static bool touches_system(const struct mm *mm, gva_t start, gva_t end)
{
	const struct vma_list *l = &mm->vmas;

	for (size_t i = vma_index(l, start); i < l->n && l->v[i].start < end; i++)
		if (l->v[i].flags & VMA_SYSTEM)
			return true;
	return false;
}

/* Removes [va, end) from the tables and the regions. The caller reserved
 * two regions. pt_unmap takes the frames for splitting large pages at the
 * edges before it changes anything, so running out of guest memory changes
 * nothing; any failure leaves the regions as they were (they may cover
 * pages without frames, never frames without a region). */
static int unmap_range(struct mm *mm, gva_t va, gva_t end)
{
	if (pt_unmap(mm->pt, va, end - va) < 0)
		return -1;
	return vma_remove(&mm->vmas, va, end);
}

/* Inserts a region whose pages are mapped already; undoes the mapping if
 * the (reserved, so impossible) insertion fails. */
static int insert_mapped(struct mm *mm, gva_t va, gva_t end, int prot, unsigned flags)
{
	if (vma_insert(&mm->vmas, va, end, prot, flags) == 0)
		return 0;
	pt_unmap(mm->pt, va, end - va);
	return -1;
}

int mm_map_fixed(struct mm *mm, gva_t start, uint64_t len, int prot, unsigned vma_flags)
{
	gva_t end = start + len;

	if (len == 0 || !is_aligned(start, SZ_4K) || !is_aligned(len, SZ_4K) || len > USER_TOP ||
	    start > USER_TOP - len)
		return err_set("mm: mapping 0x%" PRIx64 "-0x%" PRIx64
			       ": not 4K aligned inside the user address space",
			       start, end);
	if (!vma_is_free(&mm->vmas, start, end)) {
		const struct vma *v = &mm->vmas.v[vma_index(&mm->vmas, start)];

		return err_set("mm: mapping 0x%" PRIx64 "-0x%" PRIx64 ": overlaps 0x%" PRIx64
			       "-0x%" PRIx64,
			       start, end, v->start, v->end);
	}
	if (vma_reserve(&mm->vmas, 1) < 0 || populate(mm, start, len, prot, vma_flags) < 0 ||
	    insert_mapped(mm, start, end, prot, vma_flags) < 0)
		return err_wrap("mm: mapping 0x%" PRIx64 "-0x%" PRIx64, start, end);
	if (pt_commit(mm->pt, mm->apply, mm->apply_ctx) < 0)
		return err_wrap("mm: mapping 0x%" PRIx64 "-0x%" PRIx64, start, end);
	return 0;
}

/* ---- mmap ---- */

/* MAP_HUGETLB's size field: the default size or one x86-64 has. */
static bool hugetlb_size_ok(uint64_t flags)
{
	unsigned log = (unsigned)(flags >> MM_MAP_HUGE_SHIFT) & MM_MAP_HUGE_MASK;

	return log == 0 || log == 21 || log == 30;
}

/* The map type of an anonymous mapping (do_mmap's switch). */
static long check_map_type(uint64_t flags)
{
	switch (flags & MM_MAP_TYPE) {
	case MAP_SHARED:
	case MAP_DROPPABLE:
		return (flags & MAP_GROWSDOWN) ? -EINVAL : 0;
	case MAP_PRIVATE:
		return 0;
	default:
		return -EINVAL; /* includes MAP_SHARED_VALIDATE on anonymous memory */
	}
}

/* Chooses where a mapping without MAP_FIXED goes: the hint if that range is
 * free, else the highest free range below the mmap base. */
static long place(const struct mm *mm, gva_t hint, uint64_t len, uint64_t flags, unsigned vflags,
		  gva_t *out)
{
	gva_t bottom = MM_MMAP_MIN, top = MM_MMAP_BASE;
	uint64_t align = placement_align(mm, len, vflags);

	if (flags & MAP_32BIT) {
		bottom = MM_32BIT_BOTTOM;
		top = MM_32BIT_TOP;
	} else {
		hint = align_down(hint, SZ_4K);
		if (hint && hint < MM_MMAP_MIN)
			hint = MM_MMAP_MIN; /* round_hint_to_min */
		if (hint && hint <= USER_TOP - len && vma_is_free(&mm->vmas, hint, hint + len)) {
			*out = hint;
			return 0;
		}
	}
	if (align > SZ_4K && vma_find_free(&mm->vmas, len, align, bottom, top, out) == 0)
		return 0;
	return vma_find_free(&mm->vmas, len, SZ_4K, bottom, top, out) == 0 ? 0 : -ENOMEM;
}

static long check_fixed(gva_t addr, uint64_t len)
{
	if (addr > USER_TOP - len)
		return -ENOMEM;
	if (!is_aligned(addr, SZ_4K))
		return -EINVAL;
	if (addr < MM_MMAP_MIN)
		return -EPERM;
	return 0;
}

static unsigned vma_flags_of(uint64_t flags)
{
	unsigned v = 0;

	if (flags & MAP_GROWSDOWN)
		v |= VMA_STACK;
	if (flags & MAP_STACK)
		v |= VMA_STACK | VMA_NOHUGE; /* Linux 6.7+: MAP_STACK implies no THP */
	return v;
}

static long map_new(struct mm *mm, gva_t addr, uint64_t len, int prot, unsigned vflags)
{
	gva_t end = addr + len;
	bool replaced = !vma_is_free(&mm->vmas, addr, end);

	if (vma_reserve(&mm->vmas, 3) < 0)
		return -ENOMEM;
	if (replaced && unmap_range(mm, addr, end) < 0)
		return finish(mm, -ENOMEM);
	if (populate(mm, addr, len, prot, vflags) < 0) {
		/* The replaced frames return only once the guest dropped their
		 * translations: commit, then try once more. */
		if (!replaced || finish(mm, 0) < 0 || populate(mm, addr, len, prot, vflags) < 0)
			return finish(mm, -ENOMEM);
	}
	if (insert_mapped(mm, addr, end, prot, vflags) < 0)
		return finish(mm, -ENOMEM);
	return finish(mm, (long)addr);
}

long mm_sys_mmap(struct mm *mm, gva_t addr, uint64_t len, uint64_t prot, uint64_t flags,
		 uint64_t fd, uint64_t off)
{
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	unsigned vflags = vma_flags_of(flags);
	long r;

	/* Checks in the order Linux makes them, so that each bad call gets the
	 * errno it would get natively. Unknown flag and prot bits are ignored,
	 * as Linux does for MAP_PRIVATE and MAP_SHARED. */
	mm->stats.mmap++;
	if (!is_aligned(off, SZ_4K))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS))
		return (int32_t)fd < 0 ? -EBADF : -ENODEV;
	if ((flags & MAP_HUGETLB) && !hugetlb_size_ok(flags))
		return -EINVAL;
	if (len == 0)
		return -EINVAL;
	if (len > UINT64_MAX - (SZ_4K - 1))
		return -ENOMEM;
	len = align_up(len, SZ_4K);
	/* (Linux's EOVERFLOW for off + len cannot happen with 64-bit offsets.) */
	if (len > USER_TOP)
		return -ENOMEM;
	r = fixed ? check_fixed(addr, len) : place(mm, addr, len, flags, vflags, &addr);
	if (r)
		return r;
	if ((flags & MAP_FIXED_NOREPLACE) && !vma_is_free(&mm->vmas, addr, addr + len))
		return -EEXIST;
	r = check_map_type(flags);
	if (r)
		return r;
	if (flags & MAP_HUGETLB)
		return -ENOMEM;
	if (touches_system(mm, addr, addr + len))
		return -EPERM;
	return map_new(mm, addr, len, (int)(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)), vflags);
}

/* ---- munmap ---- */

long mm_sys_munmap(struct mm *mm, gva_t addr, uint64_t len)
{
	gva_t end;

	mm->stats.munmap++;
	if (!is_aligned(addr, SZ_4K) || addr > USER_TOP || len > USER_TOP - addr)
		return -EINVAL;
	len = align_up(len, SZ_4K);
	if (len == 0)
		return -EINVAL;
	end = addr + len;
	if (vma_is_free(&mm->vmas, addr, end))
		return 0;
	if (touches_system(mm, addr, end))
		return -EPERM;
	if (vma_reserve(&mm->vmas, vma_splits(&mm->vmas, addr, end)) < 0)
		return -ENOMEM;
	return finish(mm, unmap_range(mm, addr, end) < 0 ? -ENOMEM : 0);
}

/* ---- mprotect ---- */

/* Present leaves inside PROT_NONE regions are exactly what fill_holes
 * added (a PROT_NONE region's own frames are never present): unmaps them. */
static void unfill(struct mm *mm, gva_t start, gva_t end)
{
	gva_t va = start, run = start, next;
	bool in_run = false;

	while (va < end) {
		struct leaf lf;
		const struct vma *v = vma_find(&mm->vmas, va);
		bool has = leaf_at(mm, va, &lf, &next);
		bool added = has && (lf.pte & PTE_P) && v && v->prot == PROT_NONE;

		if (added && !in_run)
			run = va;
		else if (!added && in_run)
			pt_unmap(mm->pt, run, va - run);
		in_run = added;
		va = min_va(has ? lf.va + lf.bytes : next, end);
	}
	if (in_run)
		pt_unmap(mm->pt, run, end - run);
}

/* Gives frames, mapped with prot, to the pages of [start, end) that have
 * none: a PROT_NONE reservation becoming accessible. */
static int fill_range(struct mm *mm, gva_t start, gva_t end, int prot, unsigned flags)
{
	gva_t va = start, hole = start, next;
	struct leaf lf;

	while (va < end) {
		if (!leaf_at(mm, va, &lf, &next)) {
			va = min_va(next, end);
			continue;
		}
		if (hole < va && populate(mm, hole, va - hole, prot, flags) < 0)
			return -1;
		va = hole = min_va(lf.va + lf.bytes, end);
	}
	return hole < end ? populate(mm, hole, end - hole, prot, flags) : 0;
}

static int fill_holes(struct mm *mm, gva_t start, gva_t end, int prot)
{
	const struct vma_list *l = &mm->vmas;

	for (size_t i = vma_index(l, start); i < l->n && l->v[i].start < end; i++) {
		if (l->v[i].prot != PROT_NONE)
			continue; /* accessible regions always have all their frames */
		if (fill_range(mm, max_va(l->v[i].start, start), min_va(l->v[i].end, end), prot,
			       l->v[i].flags) < 0) {
			unfill(mm, start, end);
			return -1;
		}
	}
	return 0;
}

long mm_sys_mprotect(struct mm *mm, gva_t addr, uint64_t len, uint64_t prot)
{
	const uint64_t grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
	gva_t end;
	int p;

	mm->stats.mprotect++;
	prot &= ~grows;
	if (grows == (PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if (!is_aligned(addr, SZ_4K))
		return -EINVAL;
	if (len == 0)
		return 0;
	if (len > UINT64_MAX - (SZ_4K - 1))
		return -ENOMEM;
	end = addr + align_up(len, SZ_4K);
	if (end <= addr)
		return -ENOMEM;
	if (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC | MM_PROT_SEM))
		return -EINVAL;
	if (grows) {
		/* Extends the range down to the start of a grows-down region. */
		const struct vma *v = vma_find(&mm->vmas, addr);

		if (!v)
			return -ENOMEM;
		if (grows != PROT_GROWSDOWN || !(v->flags & VMA_STACK))
			return -EINVAL;
		addr = v->start;
	}
	p = (int)(prot & (PROT_READ | PROT_WRITE | PROT_EXEC));
	if (!vma_is_covered(&mm->vmas, addr, end))
		return -ENOMEM;
	if (touches_system(mm, addr, end))
		return -EPERM;
	if (vma_reserve(&mm->vmas, 2) < 0)
		return -ENOMEM;
	if (p != PROT_NONE && fill_holes(mm, addr, end, p) < 0)
		return finish(mm, -ENOMEM);
	if (pt_protect(mm->pt, addr, end - addr, perm_of(p)) < 0)
		return finish(mm, -ENOMEM);
	return finish(mm, vma_protect(&mm->vmas, addr, end, p) < 0 ? -ENOMEM : 0);
}

/* ---- madvise ---- */

/* Makes the pages of [start, end) read as zero: MADV_DONTNEED on private
 * anonymous memory. The translations stay (va -> gpa does not change), so
 * the guest needs no TLB invalidation; where mem_zero gives the host pages
 * back with madvise(MADV_DONTNEED), KVM's MMU notifier drops its own
 * mapping of them and the next guest access faults in a zero page. */
static void zero_range(struct mm *mm, gva_t start, gva_t end)
{
	for (gva_t va = start; va < end;) {
		struct leaf lf;
		gva_t next;

		if (!leaf_at(mm, va, &lf, &next)) {
			va = min_va(next, end);
			continue;
		}
		next = min_va(lf.va + lf.bytes, end);
		if (!(lf.pte & PTE_SW_FIXED))
			mem_zero(mm->pt->mem, lf.gpa + (va - lf.va), next - va);
		va = next;
	}
}

/* The common permission of the 512 4 KiB pages of the 2 MiB chunk at c, if
 * all have frames, the same permission and no region forbids large pages. */
static bool chunk_promotable(const struct mm *mm, gva_t c, uint64_t *perm)
{
	const uint64_t bits = PTE_P | PTE_PERM_MASK | PTE_SW_PROTNONE;
	const struct vma_list *l = &mm->vmas;
	struct leaf lf;
	gva_t next;

	if (!vma_is_covered(l, c, c + SZ_2M))
		return false;
	for (size_t i = vma_index(l, c); i < l->n && l->v[i].start < c + SZ_2M; i++)
		if (l->v[i].flags & (VMA_SYSTEM | VMA_NOHUGE))
			return false;
	for (uint64_t i = 0; i < PAGES_PER_2M; i++) {
		if (!leaf_at(mm, c + i * SZ_4K, &lf, &next) || lf.bytes != SZ_4K ||
		    (lf.pte & PTE_SW_FIXED))
			return false;
		if (i == 0)
			*perm = lf.pte & bits;
		else if ((lf.pte & bits) != *perm)
			return false;
	}
	*perm &= PTE_PERM_MASK | PTE_SW_PROTNONE;
	return true;
}

/* Replaces the 4 KiB pages of the chunk at c by one 2 MiB page with the
 * same contents: 1 done, 0 no 2 MiB frame free, -1 error. */
static int promote_chunk(struct mm *mm, gva_t c, uint64_t perm)
{
	struct guest_mem *mem = mm->pt->mem;
	struct leaf lf;
	gva_t next;
	gpa_t big;
	uint8_t *dst;

	if (frames_alloc(mm->pt->frames, PS_2M, &big) < 0)
		return 0;
	dst = mem_ptr(mem, big, SZ_2M);
	for (uint64_t i = 0; i < PAGES_PER_2M && dst; i++) {
		const void *src =
		    leaf_at(mm, c + i * SZ_4K, &lf, &next) ? mem_ptr(mem, lf.gpa, SZ_4K) : NULL;

		if (!src) {
			dst = NULL;
			break;
		}
		memcpy(dst + i * SZ_4K, src, SZ_4K);
	}
	if (!dst || pt_unmap(mm->pt, c, SZ_2M) < 0) {
		mem_zero(mem, big, SZ_2M); /* free frames are zero */
		frames_free(mm->pt->frames, big, SZ_2M);
		return err_set("mm: promoting 0x%" PRIx64 " to a 2M page failed", c);
	}
	/* Unmapping may have freed the page table above (deferred): with guest
	 * memory full the new leaf may need the commit to get a table frame. */
	if (pt_map(mm->pt, c, big, PS_2M, perm) < 0 &&
	    (finish(mm, 0) < 0 || pt_map(mm->pt, c, big, PS_2M, perm) < 0)) {
		mm->failed = true;
		return err_wrap("mm: promoting 0x%" PRIx64 ": contents lost", c);
	}
	mm->stats.promoted_2m++;
	return 1;
}

/* Turns the whole 2 MiB chunks of [start, end) that are 4 KiB pages into
 * 2 MiB pages at once (what khugepaged would do later, so measured code
 * never waits for it). Returns how many chunks found no 2 MiB frame. */
static long promote(struct mm *mm, gva_t start, gva_t end)
{
	long missed = 0;
	uint64_t perm;

	for (gva_t c = align_up(start, SZ_2M); c < end && end - c >= SZ_2M; c += SZ_2M) {
		int r;

		if (!chunk_promotable(mm, c, &perm))
			continue;
		r = promote_chunk(mm, c, perm);
		if (r < 0)
			return -1;
		if (r == 0) {
			mm->stats.fallback_small++;
			missed++;
		}
	}
	return missed;
}

/* Advice values Linux accepts (madvise_behavior_valid). */
static bool advice_known(uint64_t advice)
{
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
	case MM_MADV_FREE:
	case MM_MADV_REMOVE:
	case MM_MADV_DONTFORK:
	case MM_MADV_DOFORK:
	case MM_MADV_MERGEABLE:
	case MM_MADV_UNMERGEABLE:
	case MM_MADV_HUGEPAGE:
	case MM_MADV_NOHUGEPAGE:
	case MM_MADV_DONTDUMP:
	case MM_MADV_DODUMP:
	case MM_MADV_WIPEONFORK:
	case MM_MADV_KEEPONFORK:
	case MM_MADV_COLD:
	case MM_MADV_PAGEOUT:
	case MM_MADV_POPULATE_READ:
	case MM_MADV_POPULATE_WRITE:
	case MM_MADV_DONTNEED_LOCKED:
	case MM_MADV_COLLAPSE:
		return true;
	default:
		return false; /* also the guard, hwpoison and soft-offline ones */
	}
}

/* The advice, on [start, end) clipped to user space; hole is -ENOMEM when
 * part of the range is unmapped (Linux still advises the mapped parts). */
static long advise(struct mm *mm, gva_t start, gva_t end, uint64_t advice, long hole)
{
	long r;

	switch (advice) {
	case MADV_DONTNEED:
	case MM_MADV_DONTNEED_LOCKED:
	case MM_MADV_FREE: /* may drop the pages at any time: at once is fine */
		if (touches_system(mm, start, end))
			return -EPERM;
		zero_range(mm, start, end);
		return hole;
	case MM_MADV_REMOVE:
		return -EINVAL; /* needs a shared file mapping */
	case MM_MADV_HUGEPAGE:
	case MM_MADV_NOHUGEPAGE:
		if (vma_set_flags(&mm->vmas, start, end,
				  advice == MM_MADV_HUGEPAGE ? VMA_HUGE : VMA_NOHUGE,
				  advice == MM_MADV_HUGEPAGE ? VMA_NOHUGE : VMA_HUGE) < 0)
			return -ENOMEM;
		if (advice == MM_MADV_HUGEPAGE && mm->policy == GUEST_PAGES_MADVISE &&
		    promote(mm, start, end) < 0)
			return finish(mm, -ENOMEM);
		/* The range was mapped eagerly, with the large pages --guest-pages
		 * allowed then: the advice applies to what is mapped already, as
		 * it would to pages Linux faults in after it (same frames). */
		if (advice == MM_MADV_NOHUGEPAGE && mm->policy != GUEST_PAGES_4K) {
			if (pt_split(mm->pt, start, end - start) < 0)
				return finish(mm, -ENOMEM);
			mm->stats.split_nohuge++;
		}
		return finish(mm, hole);
	case MM_MADV_COLLAPSE:
		if (mm->policy == GUEST_PAGES_4K)
			return -EINVAL; /* as with THP disabled */
		r = promote(mm, start, end);
		return finish(mm, r != 0 ? -ENOMEM : hole);
	default:
		return hole; /* hints with no effect on eagerly mapped memory */
	}
}

long mm_sys_madvise(struct mm *mm, gva_t addr, uint64_t len, uint64_t advice)
{
	gva_t end;

	mm->stats.madvise++;
	if (!advice_known(advice))
		return -EINVAL;
	if (!is_aligned(addr, SZ_4K))
		return -EINVAL;
	if (len > UINT64_MAX - (SZ_4K - 1))
		return -EINVAL;
	end = addr + align_up(len, SZ_4K);
	if (end < addr)
		return -EINVAL;
	if (end == addr)
		return 0;
	if (addr >= USER_TOP || vma_is_free(&mm->vmas, addr, end))
		return -ENOMEM;
	return advise(mm, addr, min_va(end, USER_TOP), advice,
		      vma_is_covered(&mm->vmas, addr, end) ? 0 : -ENOMEM);
}

/* ---- brk ---- */

/* Maps [old_end, new_end) and makes it part of the heap region below. */
static int brk_grow(struct mm *mm, gva_t old_end, gva_t new_end)
{
	const struct vma *v;
	gva_t start = old_end;
	unsigned flags = VMA_HEAP;

	if (vma_reserve(&mm->vmas, 2) < 0) /* before v: it may move the array */
		return -1;
	v = old_end > mm->brk_start ? vma_find(&mm->vmas, old_end - SZ_4K) : NULL;
	if (v && (v->flags & VMA_HEAP) && v->end == old_end &&
	    v->prot == (PROT_READ | PROT_WRITE)) {
		start = v->start;
		flags = v->flags;
	}
	if (populate(mm, old_end, new_end - old_end, PROT_READ | PROT_WRITE, flags) < 0)
		return -1;
	/* One heap region however often brk grows: replace it by a longer one. */
	if (vma_remove(&mm->vmas, start, old_end) < 0 ||
	    insert_mapped(mm, start, new_end, PROT_READ | PROT_WRITE, flags) < 0)
		return -1;
	return 0;
}

/* Unmaps the heap pages in [new_end, old_end), leaving other regions. */
static int brk_shrink(struct mm *mm, gva_t new_end, gva_t old_end)
{
	for (gva_t at = new_end; at < old_end;) {
		size_t i = vma_index(&mm->vmas, at);
		gva_t s, e;

		if (i == mm->vmas.n || mm->vmas.v[i].start >= old_end)
			break;
		s = max_va(mm->vmas.v[i].start, at);
		e = min_va(mm->vmas.v[i].end, old_end);
		if ((mm->vmas.v[i].flags & VMA_HEAP) &&
		    (vma_reserve(&mm->vmas, 2) < 0 || unmap_range(mm, s, e) < 0))
			return -1;
		at = e;
	}
	return 0;
}

long mm_sys_brk(struct mm *mm, gva_t addr)
{
	gva_t new_end, old_end = mm->brk_end;

	/* Linux answers every request it cannot grant with the current break. */
	mm->stats.brk++;
	if (mm->brk_start == 0 || addr < mm->brk_start || addr > USER_TOP)
		return (long)mm->brk_cur;
	new_end = align_up(addr, SZ_4K);
	if (new_end == old_end) {
		mm->brk_cur = addr;
		return (long)addr;
	}
	if (new_end < old_end) {
		if (brk_shrink(mm, new_end, old_end) < 0)
			return finish(mm, (long)mm->brk_cur);
	} else {
		/* Linux keeps a page of gap to the next region. */
		if (!vma_is_free(&mm->vmas, old_end, new_end + SZ_4K) ||
		    brk_grow(mm, old_end, new_end) < 0)
			return finish(mm, (long)mm->brk_cur);
	}
	mm->brk_cur = addr;
	mm->brk_end = new_end;
	return finish(mm, (long)addr);
}

/* ---- mremap ---- */

/* The run of adjacent regions with the prot and flags of the one at addr,
 * which Linux would have merged into one VMA: its end, prot and flags. */
static bool extent_of(const struct mm *mm, gva_t addr, gva_t *end, int *prot, unsigned *flags)
{
	const struct vma_list *l = &mm->vmas;
	size_t i = vma_index(l, addr);

	if (i == l->n || l->v[i].start > addr)
		return false;
	*prot = l->v[i].prot;
	*flags = l->v[i].flags;
	*end = l->v[i].end;
	for (i++;
	     i < l->n && l->v[i].start == *end && l->v[i].prot == *prot && l->v[i].flags == *flags;
	     i++)
		*end = l->v[i].end;
	return true;
}

/* Copies the contents of the pages of [src, src + len) that have frames to
 * the same offsets at dst. dst has all its frames unless the pages are
 * PROT_NONE: then they get them here, one by one. */
static int copy_range(struct mm *mm, gva_t src, gva_t dst, uint64_t len, int prot)
{
	struct guest_mem *mem = mm->pt->mem;

	for (uint64_t off = 0; off < len;) {
		struct leaf from, to;
		gva_t next;
		uint64_t n;
		void *d;
		const void *s;

		if (!leaf_at(mm, src + off, &from, &next)) {
			off = min_va(next - src, len);
			continue;
		}
		if (!leaf_at(mm, dst + off, &to, &next) &&
		    (prot != PROT_NONE ||
		     pt_populate(mm->pt, dst + off, SZ_4K, perm_of(PROT_NONE), PS_4K) < 0 ||
		     !leaf_at(mm, dst + off, &to, &next)))
			return -1;
		n = min_va(from.va + from.bytes - (src + off), to.va + to.bytes - (dst + off));
		n = min_va(n, len - off);
		s = mem_ptr(mem, from.gpa + (src + off - from.va), n);
		d = mem_ptr(mem, to.gpa + (dst + off - to.va), n);
		if (!s || !d)
			return err_set("mm: mremap: frame outside guest RAM");
		memcpy(d, s, n);
		off += n;
	}
	return 0;
}

/* Moves [old, old + old_len) to the free range [dst, dst + new_len). */
static long move_range(struct mm *mm, gva_t old, uint64_t old_len, gva_t dst, uint64_t new_len,
		       int prot, unsigned flags)
{
	if (vma_reserve(&mm->vmas, 3) < 0)
		return -ENOMEM;
	if (populate(mm, dst, new_len, prot, flags) < 0)
		return finish(mm, -ENOMEM);
	if (copy_range(mm, old, dst, min_va(old_len, new_len), prot) < 0) {
		pt_unmap(mm->pt, dst, new_len);
		return finish(mm, -ENOMEM);
	}
	if (insert_mapped(mm, dst, dst + new_len, prot, flags) < 0)
		return finish(mm, -ENOMEM);
	if (unmap_range(mm, old, old + old_len) < 0)
		return finish(mm, -ENOMEM);
	return finish(mm, (long)dst);
}

/* MREMAP_FIXED: to new_addr, replacing what is there (mremap_to). */
static long remap_to(struct mm *mm, gva_t old, uint64_t old_len, uint64_t new_len, gva_t new_addr)
{
	gva_t ext_end;
	int prot;
	unsigned flags;

	if (!is_aligned(new_addr, SZ_4K))
		return -EINVAL;
	if (new_len > USER_TOP || new_addr > USER_TOP - new_len)
		return -EINVAL;
	if (old < new_addr + new_len && new_addr < old + old_len)
		return -EINVAL;
	if (new_addr < MM_MMAP_MIN)
		return -EPERM;
	if (touches_system(mm, new_addr, new_addr + new_len))
		return -EPERM;
	if (!extent_of(mm, old, &ext_end, &prot, &flags) ||
	    min_va(old_len, new_len) > ext_end - old)
		return -EFAULT;
	if (vma_reserve(&mm->vmas, 2) < 0)
		return -ENOMEM;
	if (unmap_range(mm, new_addr, new_addr + new_len) < 0)
		return finish(mm, -ENOMEM);
	if (old_len > new_len) {
		if (unmap_range(mm, old + new_len, old + old_len) < 0)
			return finish(mm, -ENOMEM);
		old_len = new_len;
	}
	return move_range(mm, old, old_len, new_addr, new_len, prot, flags);
}

long mm_sys_mremap(struct mm *mm, gva_t old, uint64_t old_len, uint64_t new_len, uint64_t flags,
		   gva_t new_addr)
{
	gva_t ext_end, dst;
	int prot;
	unsigned vflags;
	long r;

	if (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (flags & MREMAP_DONTUNMAP)
		return -EINVAL;
	if (!is_aligned(old, SZ_4K))
		return -EINVAL;
	if (old_len > UINT64_MAX - (SZ_4K - 1) || new_len > UINT64_MAX - (SZ_4K - 1))
		return -EINVAL;
	old_len = align_up(old_len, SZ_4K);
	new_len = align_up(new_len, SZ_4K);
	/* old_len 0 duplicates a shared mapping: there are none here. */
	if (new_len == 0 || old_len == 0)
		return -EINVAL;
	/* Linux's order: a new length past TASK_SIZE is -EINVAL before the
	 * region is looked up (-EFAULT), an old range past it after. */
	if (new_len > USER_TOP)
		return -EINVAL;
	if (old >= USER_TOP || !vma_find(&mm->vmas, old))
		return -EFAULT;
	if (old_len > USER_TOP - old)
		return -EINVAL;
	if (touches_system(mm, old, old + old_len))
		return -EPERM;
	if (flags & MREMAP_FIXED)
		return remap_to(mm, old, old_len, new_len, new_addr);
	if (old_len == new_len)
		return (long)old;
	if (old_len > new_len) {
		if (vma_reserve(&mm->vmas, 2) < 0)
			return -ENOMEM;
		return finish(mm, unmap_range(mm, old + new_len, old + old_len) < 0 ? -ENOMEM
										    : (long)old);
	}
	if (!extent_of(mm, old, &ext_end, &prot, &vflags) || old_len > ext_end - old)
		return -EFAULT;
	if (old + old_len == ext_end && new_len <= USER_TOP - old &&
	    vma_is_free(&mm->vmas, ext_end, old + new_len)) {
		if (vma_reserve(&mm->vmas, 1) < 0)
			return -ENOMEM;
		if (populate(mm, ext_end, old + new_len - ext_end, prot, vflags) < 0 ||
		    insert_mapped(mm, ext_end, old + new_len, prot, vflags) < 0)
			return finish(mm, -ENOMEM);
		return finish(mm, (long)old);
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	r = place(mm, 0, new_len, 0, vflags, &dst);
	if (r)
		return r;
	return move_range(mm, old, old_len, dst, new_len, prot, vflags);
}
