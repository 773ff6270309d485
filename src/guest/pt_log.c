/* The log of a page-table update: stores into tables the guest may already
 * use, the TLB invalidations they need and the frames they free, kept until
 * the guest itself applied them (pt_commit; why: see paging.h). */
#include "guest/paging_internal.h"
#include "util/err.h"

/* Below this many logged stores an entry's earlier store in the update
 * is looked for; above it every store is recorded (always correct). */
#define ABSENT_SEARCH_MAX 64

/* A store that makes an absent entry present needs no guest store: no TLB
 * and no shadow entry holds an absent translation (KVM's shadow MMU walks
 * the guest's tables in memory at the fault, as hardware does under
 * EPT/NPT), so the host's write is what the guest finds. What the host
 * cannot do is change or remove a present entry (paging.h). An entry
 * this update already stored to keeps going through the log, in order. */
static bool pt_host_write_suffices(const struct page_tables *pt, gpa_t table, unsigned idx,
				   uint64_t val)
{
	const struct pt_update *u = &pt->upd;
	gpa_t at = table + idx * 8ull;

	if ((pt_entries(pt, table)[idx] & PTE_P) || !(val & PTE_P) ||
	    u->nstores > ABSENT_SEARCH_MAX)
		return false;
	for (size_t i = 0; i < u->nstores; i++)
		if (u->stores[i].entry == at)
			return false;
	return true;
}

/* The store is recorded before the host write, so a failure leaves both
 * unchanged. */
int pt_store_entry(struct page_tables *pt, gpa_t table, unsigned idx, uint64_t val,
		   enum pt_store_mode mode)
{
	struct pt_update *u = &pt->upd;

	if (mode == PT_STORE_RECORD && pt_shadowed(pt, table) &&
	    !pt_host_write_suffices(pt, table, idx, val)) {
		if (u->nstores == u->cap_stores) {
			struct pt_store *s = pt_grow(u->stores, &u->cap_stores, sizeof(*s));

			if (!s)
				return -1;
			u->stores = s;
		}
		u->stores[u->nstores++] = (struct pt_store){table + idx * 8ull, val};
	}
	pt_entries(pt, table)[idx] = val;
	return 0;
}

/* Below this many entries a repeated page is looked for and skipped; above
 * it the search would cost more than the extra invlpg. */
#define INVLPG_DEDUP_MAX 64

/* One invalidation per page; past the ceiling a full flush is cheaper and
 * the list is dropped. When the list cannot grow, the full flush is the
 * correct answer too. */
void pt_record_invlpg(struct page_tables *pt, uint64_t va48)
{
	struct pt_update *u = &pt->upd;
	gva_t va = pt_canon(va48);

	if (u->flush_all)
		return;
	for (size_t i = 0; i < u->ninvlpg && i < INVLPG_DEDUP_MAX; i++)
		if (u->invlpg[i] == va)
			return;
	if (u->ninvlpg < pt->invlpg_ceiling && u->ninvlpg == u->cap_invlpg) {
		gva_t *l = pt_grow(u->invlpg, &u->cap_invlpg, sizeof(*l));

		if (l)
			u->invlpg = l;
	}
	if (u->ninvlpg >= pt->invlpg_ceiling || u->ninvlpg == u->cap_invlpg) {
		u->flush_all = true;
		u->ninvlpg = 0;
		return;
	}
	u->invlpg[u->ninvlpg++] = va;
}

/* Frames stay in use until the guest applied the update (a TLB may still
 * hold them until then); adjacent ranges are merged. */
int pt_defer_free(struct page_tables *pt, gpa_t gpa, uint64_t bytes)
{
	struct pt_update *u = &pt->upd;

	if (u->nfreed && u->freed[u->nfreed - 1].gpa + u->freed[u->nfreed - 1].bytes == gpa) {
		u->freed[u->nfreed - 1].bytes += bytes;
		return 0;
	}
	if (u->nfreed == u->cap_freed) {
		struct pt_freed *f = pt_grow(u->freed, &u->cap_freed, sizeof(*f));

		if (!f)
			return -1;
		u->freed = f;
	}
	u->freed[u->nfreed++] = (struct pt_freed){gpa, bytes};
	return 0;
}

static void count_commit(struct page_tables *pt)
{
	const struct pt_update *u = &pt->upd;

	pt->tlb.updates++;
	pt->tlb.stores += u->nstores;
	if (u->flush_all)
		pt->tlb.flush_all++;
	else
		pt->tlb.invlpg += u->ninvlpg;
}

/* If apply fails, nothing is lost: the update stays pending as it is
 * (host memory already holds the new entries, the guest's tables do not
 * yet), freed frames stay in use and fresh tables stay fresh, so a later
 * pt_commit applies it all; stores are idempotent, so a partial apply
 * may be repeated. */
int pt_commit(struct page_tables *pt, int (*apply)(void *ctx, const struct pt_update *u), void *ctx)
{
	struct pt_update *u = &pt->upd;
	bool need;

	/* Table pages taken by this update join the direct map in it. */
	if (pt_pool_map_pending(pt))
		return -1;
	need = pt->live && (u->nstores || u->ninvlpg || u->flush_all);
	if (need && apply && apply(ctx, u) != 0)
		return err_wrap("paging: applying %zu stores, %zu invalidations%s", u->nstores,
				u->ninvlpg, u->flush_all ? ", full flush" : "");
	for (size_t i = 0; i < u->nfreed; i++) {
		mem_zero(pt->mem, u->freed[i].gpa, u->freed[i].bytes);
		pt_frames_free(pt, u->freed[i].gpa, u->freed[i].bytes);
	}
	for (size_t i = 0; i < pt->nfresh; i++)
		pt_set_fresh(pt, pt->fresh_list[i], false);
	pt->nfresh = 0;
	if (need)
		count_commit(pt);
	u->nstores = u->ninvlpg = u->nfreed = 0;
	u->flush_all = false;
	return 0;
}
