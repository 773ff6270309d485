/* Reading the tables: the one range walker that every range operation is a
 * visitor of, the descent for one address, and the checked walk behind
 * translation and fault reports. */
#include "guest/paging_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Recursion depth is at most the four levels. Each entry is read when its
 * turn comes, after the visits before it. */
int pt_range_walk(const struct page_tables *pt, gpa_t table, int level, uint64_t base, uint64_t s,
		  uint64_t e, const struct pt_visitor *vis)
{
	uint64_t span = pt_span(level);
	const uint64_t *ents = pt_entries(pt, table);

	if (s >= e)
		return 0;
	for (uint64_t i = (s - base) / span, last = (e - 1 - base) / span; i <= last; i++) {
		struct pt_visit v = {.table = table, .idx = (unsigned)i, .level = level};
		int r;

		v.lo = base + i * span;
		v.s = s > v.lo ? s : v.lo;
		v.e = e < v.lo + span ? e : v.lo + span;
		v.ent = ents[i];
		if (v.ent && !pt_is_leaf(v.ent, level))
			v.child = pt_table_of(v.ent);
		r = vis->visit(&v, vis->ctx);
		if (r == PT_DESCEND) {
			assert(level > PT_LEVEL_PT);
			r = pt_range_walk(pt, v.child, level - 1, v.lo, v.s, v.e, vis);
			if (r == 0 && vis->leave)
				r = vis->leave(&v, vis->ctx);
		}
		if (r != 0)
			return r;
	}
	return 0;
}

void pt_descend(const struct page_tables *pt, uint64_t va48, int level, struct pt_slot *out)
{
	gpa_t table = pt->root;

	for (int l = PT_LEVEL_PML4;; l--) {
		unsigned i = pt_index(va48, l);
		uint64_t ent = pt_entries(pt, table)[i];

		*out = (struct pt_slot){table, i, l, ent};
		if (l == level || ent == 0 || pt_is_leaf(ent, l))
			return;
		table = pt_table_of(ent);
	}
}

/* ---- finding things in a range ---- */

struct find_leaf {
	bool fixed_only;
	uint64_t at;
};

static int visit_find_leaf(struct pt_visit *v, void *ctx)
{
	struct find_leaf *f = ctx;

	if (v->ent == 0)
		return PT_NEXT;
	if (!pt_is_leaf(v->ent, v->level))
		return PT_DESCEND;
	if (f->fixed_only && !(v->ent & PTE_SW_FIXED))
		return PT_NEXT;
	f->at = pt_canon(v->s);
	return PT_STOP;
}

bool pt_range_has_leaf(const struct page_tables *pt, uint64_t s, uint64_t e, bool fixed_only,
		       uint64_t *at)
{
	struct find_leaf f = {.fixed_only = fixed_only};
	struct pt_visitor vis = {.visit = visit_find_leaf, .ctx = &f};

	if (pt_range_walk(pt, pt->root, PT_LEVEL_PML4, 0, s, e, &vis) != PT_STOP)
		return false;
	*at = f.at;
	return true;
}

/* Stops at anything that maps part of the range: an entry wholly inside
 * it, or a leaf that overlaps it. */
static int visit_find_entry(struct pt_visit *v, void *ctx)
{
	(void)ctx;
	if (v->ent == 0)
		return PT_NEXT;
	if (pt_is_leaf(v->ent, v->level) || pt_visit_whole(v))
		return PT_STOP;
	return PT_DESCEND;
}

/* Looks at what lies outside [s, e): [base, s) and [e, end of table). */
bool pt_only_in(const struct page_tables *pt, gpa_t table, int level, uint64_t base, uint64_t s,
		uint64_t e)
{
	struct pt_visitor vis = {.visit = visit_find_entry};
	uint64_t end = base + PT_ENTRIES * pt_span(level);

	return pt_range_walk(pt, table, level, base, base, s, &vis) != PT_STOP &&
	       pt_range_walk(pt, table, level, base, e, end, &vis) != PT_STOP;
}

/* ---- one address, for translation and fault reports ---- */

/* A walk never trusts what it reads: it also serves fault reports, when
 * something may already be wrong. An entry pointing outside guest RAM
 * ends it. A non-canonical va reads nothing (levels = 0). So it does not
 * use pt_descend, whose reads assert. */
void pt_walk(const struct page_tables *pt, gva_t va, struct pt_walk *w)
{
	gpa_t table = pt->root;

	memset(w, 0, sizeof(*w));
	if (!pt_is_canonical(va))
		return;
	for (int l = PT_LEVEL_PML4; l >= PT_LEVEL_PT; l--) {
		gpa_t ea = table + pt_index(va & PT_VA_MASK, l) * 8ull;
		const uint64_t *p = mem_ptr(pt->mem, ea, 8);
		uint64_t ent;

		if (!p)
			return;
		ent = *p;
		w->entry_gpa[w->levels] = ea;
		w->entry[w->levels++] = ent;
		if (!(ent & PTE_P) && !(pt_is_leaf(ent, l) && (ent & PTE_SW_PROTNONE)))
			return;
		if (pt_is_leaf(ent, l)) {
			/* A PROTNONE leaf reports its frame but is not mapped. */
			w->size = (enum page_size)l;
			w->leaf = ent;
			w->gpa = pt_leaf_frame(ent, l) | (va & (pt_span(l) - 1));
			w->mapped = ent & PTE_P;
			return;
		}
		table = pt_table_of(ent);
	}
}

static void flag_names(uint64_t e, char *buf, size_t n)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
	    {PTE_P, "P"},
	    {PTE_RW, "RW"},
	    {PTE_US, "US"},
	    {PTE_PWT, "PWT"},
	    {PTE_PCD, "PCD"},
	    {PTE_A, "A"},
	    {PTE_D, "D"},
	    {PTE_PS, "PS"},
	    {PTE_G, "G"},
	    {PTE_NX, "NX"},
	    {PTE_SW_PROTNONE, "PROTNONE"},
	    {PTE_SW_FIXED, "VMM"},
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(e & names[i].bit))
			continue;
		int k = snprintf(buf + used, n - used, "%s%s", used ? " " : "", names[i].name);
		if (k < 0 || (size_t)k >= n - used)
			break;
		used += (size_t)k;
	}
	if (!used)
		snprintf(buf, n, "empty");
}

void pt_walk_print(const struct pt_walk *w, gva_t va, void *file)
{
	static const char *const names[4] = {"PML4E", "PDPTE", "PDE", "PTE"};
	FILE *f = file;
	char flags[96];

	if (w->levels == 0) {
		fprintf(f, "  0x%016" PRIx64 ": not canonical\n", va);
		return;
	}
	for (int i = 0; i < w->levels && i < 4; i++) {
		flag_names(w->entry[i], flags, sizeof(flags));
		fprintf(f, "  %s[%u] @gpa 0x%" PRIx64 " = 0x%016" PRIx64 " (%s)\n", names[i],
			pt_index(va & PT_VA_MASK, PT_LEVEL_PML4 - i), w->entry_gpa[i], w->entry[i],
			flags);
	}
	if (w->mapped)
		fprintf(f, "  -> gpa 0x%" PRIx64 " (%s page)\n", w->gpa,
			pt_size_name((int)w->size));
	else
		fprintf(f, "  -> not mapped\n");
}

/* As the CPU checks a CPL3 access (SDM 3A 4.6): every level present and
 * user, writable at every level for a write, NX nowhere for a fetch (the
 * VMM runs the guest with EFER.NXE set). */
int pt_translate(const struct page_tables *pt, gva_t va, enum pt_access acc, gpa_t *gpa)
{
	struct pt_walk w;
	bool rw = true, us = true, nx = false;

	pt_walk(pt, va, &w);
	if (!w.mapped)
		return -1;
	for (int i = 0; i < w.levels; i++) {
		rw = rw && (w.entry[i] & PTE_RW);
		us = us && (w.entry[i] & PTE_US);
		nx = nx || (w.entry[i] & PTE_NX);
	}
	if (!us || (acc == PT_WRITE && !rw) || (acc == PT_EXEC && nx))
		return -1;
	*gpa = w.gpa;
	return 0;
}
