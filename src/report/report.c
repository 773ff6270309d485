/* The run report in text and JSON (json-c). KVM's pages_4k/2m/1g are the
 * proof of what the host dimension got; the table summary is the proof of
 * the guest dimension. Unknown values are labelled, never printed as 0. */
#include "report/report.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

static json_object *json_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static const char *report_end_name(enum run_end e)
{
	switch (e) {
	case RUN_EXITED:
		return "exited";
	case RUN_SIGNALED:
		return "signaled";
	case RUN_TIMEOUT:
		return "timeout";
	default:
		return "vmm-error";
	}
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* Where the guest's clock reads are answered: "tsc" (the vDSO, no exit) or
 * "syscall" (an exit each). */
static const char *report_clock_source(const struct vm *vm)
{
	const struct vvar_data *d = vm->vclock.data;

	return d && d->clock_mode == VVAR_CLOCK_TSC ? "tsc" : "syscall";
}

/* Only once the payload had threads: vCPUs, shootdowns, KVM's remote
 * flushes and each vCPU's share of the exits. */
static void report_threads(const struct vm *vm, FILE *f)
{
	const struct vm_threads *ts = &vm->threads;

	if (!ts->ever_threaded)
		return;
	fprintf(f,
		"  threads       peak %u, %llu clones on %u vCPUs (--max-threads %u)\n"
		"  shootdowns    %llu, to %llu vCPUs in KVM_RUN (waited %.3f ms) and %llu outside; "
		"KVM remote_tlb_flush ",
		ts->peak, (unsigned long long)ts->clones, ts->n, ts->max,
		(unsigned long long)ts->sd_count, (unsigned long long)ts->sd_targets,
		ms(ts->sd_wait_ns), (unsigned long long)ts->sd_lazy);
	if (ts->kvm_remote_known)
		fprintf(f, "%llu\n", (unsigned long long)ts->kvm_remote_flushes);
	else
		fprintf(f, "unknown\n");
	fprintf(f, "  per vCPU     ");
	for (unsigned i = 0; i < ts->n; i++)
		fprintf(f, " %u: %llu exits%s", i, (unsigned long long)ts->all[i]->exits,
			i + 1 < ts->n ? "," : "\n");
}

static void report_clock(const struct vm *vm, FILE *f)
{
	const struct kvm_tsc *t = &vm->tsc;

	fprintf(f, "  clock         %s (--vdso %s)", report_clock_source(vm),
		vdso_mode_name(vm->cfg->vdso));
	if (vm->vclock.data && !t->usable)
		fprintf(f, ": the TSC is not usable: %s", t->why);
	else if (vm->vclock.data)
		fprintf(f, ": TSC %u kHz, offset %lld (%s), %llu refreshes", t->khz,
			(long long)t->offset, t->how, (unsigned long long)vm->vclock.refreshes);
	fputc('\n', f);
}

void report_print(const struct vm *vm, FILE *f)
{
	const struct pt_summary *s = &vm->pt.sum;
	const struct pt_tlb_stats *t = &vm->pt.tlb;
	const struct config *c = vm->cfg;
	const struct kvm_pages *k = &vm->kvm_pages;

	fprintf(f, "\nvmm report: %s\n", c->payload);
	fprintf(f, "  config        mem %lluM, backing %s%s, guest pages %s\n",
		(unsigned long long)(c->mem_bytes >> 20), mem_backing_name(c->backing),
		c->prealloc ? " (prealloc)" : "", guest_page_policy_name(c->guest_pages));
	fprintf(f, "  kvm paging    %s (%s)\n", kvm_paging_mode_name(vm->paging.mode),
		vm->paging.detail);
	fprintf(f, "  guest tables  %llu PML4 + %llu PDPT + %llu PD + %llu PT pages = %llu KiB\n",
		(unsigned long long)s->tables[PT_LEVEL_PML4],
		(unsigned long long)s->tables[PT_LEVEL_PDPT],
		(unsigned long long)s->tables[PT_LEVEL_PD],
		(unsigned long long)s->tables[PT_LEVEL_PT],
		(unsigned long long)(s->bytes_tables >> 10));
	fprintf(f,
		"  guest leaves  payload peak %llu x 4K, %llu x 2M, %llu x 1G; at exit %llu, %llu, "
		"%llu;"
		" vmm %llu x 4K\n",
		(unsigned long long)vm->leaves_peak[PS_4K],
		(unsigned long long)vm->leaves_peak[PS_2M],
		(unsigned long long)vm->leaves_peak[PS_1G], (unsigned long long)s->leaves[PS_4K],
		(unsigned long long)s->leaves[PS_2M], (unsigned long long)s->leaves[PS_1G],
		(unsigned long long)s->kernel_leaves);
	fprintf(f,
		"  large pages   %llu wanted but not available (smaller pages used), %llu made by "
		"madvise\n",
		(unsigned long long)vm->mm.stats.fallback_small,
		(unsigned long long)vm->mm.stats.promoted_2m);
	if (k->known)
		fprintf(f,
			"  kvm mapped    peak pages_4k %llu, pages_2m %llu, pages_1g %llu; "
			"at exit %llu, %llu, %llu\n",
			(unsigned long long)k->peak[PS_4K], (unsigned long long)k->peak[PS_2M],
			(unsigned long long)k->peak[PS_1G], (unsigned long long)k->last[PS_4K],
			(unsigned long long)k->last[PS_2M], (unsigned long long)k->last[PS_1G]);
	else
		fprintf(f, "  kvm mapped    unknown (%s)\n", k->error);
	fprintf(f,
		"  tlb flushes   %llu full, %llu single-page (--tlb-flush %s); %llu table updates, "
		"%llu guest stores\n",
		(unsigned long long)t->flush_all, (unsigned long long)t->invlpg,
		tlb_flush_policy_name(c->tlb_flush), (unsigned long long)t->updates,
		(unsigned long long)t->stores);
	fprintf(f,
		"  exits         %llu (%llu syscalls, %llu exceptions of which %llu spurious #PF, "
		"%llu batch runs, %llu register ioctls%s)\n",
		(unsigned long long)vm->stats.exits, (unsigned long long)vm->stats.syscall_exits,
		(unsigned long long)vm->stats.exception_exits,
		(unsigned long long)vm->stats.spurious_faults,
		(unsigned long long)vm->stats.pt_updates,
		(unsigned long long)vm_threads_reg_ioctls(vm),
		vm->vcpu.sync_regs ? ", registers synced in the run area" : "");
	report_threads(vm, f);
	report_clock(vm, f);
	fprintf(f, "  time          setup %.3f ms, run %.3f ms\n", ms(vm->stats.setup_ns),
		ms(vm->stats.run_ns));
	fprintf(f, "  end           %s, exit status %d\n", report_end_name(vm->end),
		vm_exit_status(vm));
}

static json_object *report_json_config(const struct config *c)
{
	json_object *o = json_object_new_object(), *args = json_object_new_array();
	int i;

	json_object_object_add(o, "payload", json_object_new_string(c->payload));
	for (i = 1; i < c->payload_argc; i++)
		json_object_array_add(args, json_object_new_string(c->payload_argv[i]));
	json_object_object_add(o, "args", args);
	json_object_object_add(o, "mem_bytes", json_u64(c->mem_bytes));
	json_object_object_add(o, "backing", json_object_new_string(mem_backing_name(c->backing)));
	json_object_object_add(o, "guest_pages",
			       json_object_new_string(guest_page_policy_name(c->guest_pages)));
	json_object_object_add(o, "prealloc", json_object_new_boolean(c->prealloc));
	json_object_object_add(o, "tlb_flush",
			       json_object_new_string(tlb_flush_policy_name(c->tlb_flush)));
	return o;
}

static json_object *report_json_sizes(const uint64_t *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "4k", json_u64(v[PS_4K]));
	json_object_object_add(o, "2m", json_u64(v[PS_2M]));
	json_object_object_add(o, "1g", json_u64(v[PS_1G]));
	return o;
}

static json_object *report_json_tables(const struct vm *vm)
{
	const struct pt_summary *s = &vm->pt.sum;
	json_object *o = json_object_new_object(), *lv = json_object_new_object();

	json_object_object_add(lv, "pml4", json_u64(s->tables[PT_LEVEL_PML4]));
	json_object_object_add(lv, "pdpt", json_u64(s->tables[PT_LEVEL_PDPT]));
	json_object_object_add(lv, "pd", json_u64(s->tables[PT_LEVEL_PD]));
	json_object_object_add(lv, "pt", json_u64(s->tables[PT_LEVEL_PT]));
	json_object_object_add(o, "table_pages", lv);
	json_object_object_add(o, "table_bytes", json_u64(s->bytes_tables));
	json_object_object_add(o, "payload_leaves", report_json_sizes(vm->leaves_peak));
	json_object_object_add(o, "payload_leaves_at_exit", report_json_sizes(s->leaves));
	json_object_object_add(o, "vmm_leaves_4k", json_u64(s->kernel_leaves));
	json_object_object_add(o, "large_page_fallbacks", json_u64(vm->mm.stats.fallback_small));
	json_object_object_add(o, "promoted_2m", json_u64(vm->mm.stats.promoted_2m));
	return o;
}

/* {"pages_4k": peak, ..., "at_exit": {"pages_4k": last, ...}, "samples": n} */
static json_object *report_json_kvm_pages(const struct kvm_pages *k)
{
	json_object *o = json_object_new_object(), *end;
	int i;

	if (!k->known) {
		json_object_object_add(o, "supported", json_object_new_boolean(false));
		json_object_object_add(o, "reason", json_object_new_string(k->error));
		return o;
	}
	end = json_object_new_object();
	for (i = 0; i < PS_COUNT; i++) {
		json_object_object_add(o, kvm_pages_stat_name[i], json_u64(k->peak[i]));
		json_object_object_add(end, kvm_pages_stat_name[i], json_u64(k->last[i]));
	}
	json_object_object_add(o, "at_exit", end);
	json_object_object_add(o, "samples", json_u64(k->samples));
	return o;
}

/* {"peak": N, "clones": N, "vcpus": N, "shootdowns": {...},
 *  "per_vcpu": [{"vcpu", "last_tid", "exits", "syscalls", "kvm_exits",
 *  "kvm_tlb_flush", "shootdowns_received", "shootdown_flushes"}], "sum": {...}}
 * (KVM's figures null where its statistics could not be read) */
static json_object *report_json_threads(const struct vm *vm)
{
	const struct vm_threads *ts = &vm->threads;
	json_object *o = json_object_new_object(), *sd = json_object_new_object();
	json_object *per = json_object_new_array(), *sum = json_object_new_object();
	uint64_t exits = 0, sys = 0, kexits = 0, kflush = 0;
	bool kknown = ts->n > 0;

	json_object_object_add(o, "peak", json_u64(ts->peak));
	json_object_object_add(o, "clones", json_u64(ts->clones));
	json_object_object_add(o, "vcpus", json_u64(ts->n));
	json_object_object_add(o, "max_threads", json_u64(ts->max));
	json_object_object_add(sd, "count", json_u64(ts->sd_count));
	json_object_object_add(sd, "vcpus_waited", json_u64(ts->sd_targets));
	json_object_object_add(sd, "vcpus_lazy", json_u64(ts->sd_lazy));
	json_object_object_add(sd, "wait_ns", json_u64(ts->sd_wait_ns));
	json_object_object_add(sd, "kvm_remote_tlb_flush",
			       ts->kvm_remote_known ? json_u64(ts->kvm_remote_flushes) : NULL);
	json_object_object_add(o, "shootdowns", sd);
	for (unsigned i = 0; i < ts->n; i++) {
		const struct vm_thread *th = ts->all[i];
		json_object *c = json_object_new_object();

		json_object_object_add(c, "vcpu", json_u64(i));
		json_object_object_add(c, "last_tid", json_object_new_int(th->last_tid));
		json_object_object_add(c, "exits", json_u64(th->exits));
		json_object_object_add(c, "syscalls", json_u64(th->syscalls));
		json_object_object_add(c, "kvm_exits",
				       th->kvm_known ? json_u64(th->kvm_exits) : NULL);
		json_object_object_add(c, "kvm_tlb_flush",
				       th->kvm_known ? json_u64(th->kvm_tlb_flush) : NULL);
		json_object_object_add(c, "shootdowns_received", json_u64(th->sd.received));
		json_object_object_add(c, "shootdown_flushes", json_u64(th->sd.flushes));
		json_object_array_add(per, c);
		exits += th->exits;
		sys += th->syscalls;
		kexits += th->kvm_exits;
		kflush += th->kvm_tlb_flush;
		kknown = kknown && th->kvm_known;
	}
	json_object_object_add(sum, "exits", json_u64(exits));
	json_object_object_add(sum, "syscalls", json_u64(sys));
	json_object_object_add(sum, "kvm_exits", kknown ? json_u64(kexits) : NULL);
	json_object_object_add(sum, "kvm_tlb_flush", kknown ? json_u64(kflush) : NULL);
	json_object_object_add(o, "per_vcpu", per);
	json_object_object_add(o, "sum", sum);
	return o;
}

static json_object *report_json_run(const struct vm *vm)
{
	const struct pt_tlb_stats *t = &vm->pt.tlb;
	json_object *o = json_object_new_object(), *tlb = json_object_new_object();

	json_object_object_add(tlb, "full_flushes", json_u64(t->flush_all));
	json_object_object_add(tlb, "single_page", json_u64(t->invlpg));
	json_object_object_add(tlb, "table_updates", json_u64(t->updates));
	json_object_object_add(tlb, "guest_stores", json_u64(t->stores));
	json_object_object_add(o, "tlb_invalidations", tlb);
	json_object_object_add(o, "exits", json_u64(vm->stats.exits));
	json_object_object_add(o, "syscalls", json_u64(vm->stats.syscall_exits));
	json_object_object_add(o, "exceptions", json_u64(vm->stats.exception_exits));
	json_object_object_add(o, "spurious_page_faults", json_u64(vm->stats.spurious_faults));
	json_object_object_add(o, "batch_runs", json_u64(vm->stats.pt_updates));
	json_object_object_add(o, "reg_ioctls", json_u64(vm_threads_reg_ioctls(vm)));
	json_object_object_add(o, "sync_regs", json_object_new_boolean(vm->vcpu.sync_regs));
	json_object_object_add(o, "setup_ns", json_u64(vm->stats.setup_ns));
	json_object_object_add(o, "run_ns", json_u64(vm->stats.run_ns));
	json_object_object_add(o, "end", json_object_new_string(report_end_name(vm->end)));
	json_object_object_add(o, "exit_status", json_object_new_int(vm_exit_status(vm)));
	return o;
}

/* {"vdso": "tsc", "source": "tsc", "tsc_khz": N, "tsc_offset": N,
 *  "offset_from": "...", "refreshes": N} (null where unknown, "reason" when
 *  the TSC is not usable) */
static json_object *report_json_clock(const struct vm *vm)
{
	const struct kvm_tsc *t = &vm->tsc;
	json_object *o = json_object_new_object();
	bool known = vm->vclock.data && t->usable;

	json_object_object_add(o, "vdso", json_object_new_string(vdso_mode_name(vm->cfg->vdso)));
	json_object_object_add(o, "source", json_object_new_string(report_clock_source(vm)));
	json_object_object_add(o, "tsc_khz", known ? json_u64(t->khz) : NULL);
	json_object_object_add(o, "tsc_offset", known ? json_object_new_int64(t->offset) : NULL);
	json_object_object_add(o, "offset_from", known ? json_object_new_string(t->how) : NULL);
	json_object_object_add(o, "refreshes", json_u64(vm->vclock.refreshes));
	if (vm->vclock.data && !t->usable)
		json_object_object_add(o, "reason", json_object_new_string(t->why));
	return o;
}

int report_write_json(const struct vm *vm, const char *path)
{
	json_object *root = json_object_new_object(), *paging = json_object_new_object();
	int ret = 0;

	json_object_object_add(root, "config", report_json_config(vm->cfg));
	json_object_object_add(paging, "mode",
			       json_object_new_string(kvm_paging_mode_name(vm->paging.mode)));
	json_object_object_add(paging, "detail", json_object_new_string(vm->paging.detail));
	json_object_object_add(root, "kvm_paging", paging);
	json_object_object_add(root, "guest_tables", report_json_tables(vm));
	json_object_object_add(root, "kvm_pages", report_json_kvm_pages(&vm->kvm_pages));
	json_object_object_add(root, "run", report_json_run(vm));
	json_object_object_add(root, "clock", report_json_clock(vm));
	json_object_object_add(root, "threads", report_json_threads(vm));
	if (vm->counters)
		counters_add_json(vm->counters, root);
	if (json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY) < 0)
		ret = err_set("report: %s: %s", path, strerror(errno));
	json_object_put(root);
	return ret;
}
