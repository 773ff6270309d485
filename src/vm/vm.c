/* Building the guest for one payload: KVM, guest RAM, frames, page tables,
 * system area, ELF image, stack, vCPU, counters. Each step returns an error
 * that names itself; vm_setup maps it to the exit status. */
#include "vm/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest/sysarea.h"
#include "kvm/cpu.h"
#include "util/err.h"

extern char **environ;

uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* 1 GiB guest pages need CPUID.80000001H:EDX.Page1GB (SDM 3A 4.1.4). */
static bool vm_has_1g_pages(const struct kvm *k)
{
	const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(k, 0x80000001, 0);

	return e && (e->edx & (1u << 26));
}

/* Guest physical address bits: CPUID.80000008H:EAX[7:0] (SDM 3A 4.1.4);
 * 36 where KVM does not offer the leaf. */
static unsigned vm_phys_bits(const struct kvm *k)
{
	const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(k, 0x80000008, 0);

	return e && (e->eax & 0xff) ? e->eax & 0xff : 36;
}

/* What vmm's own layout, then KVM's CPUID, decide about the configuration. */
static int vm_check_limits(const struct vm *vm)
{
	const struct config *c = vm->cfg;
	unsigned bits = vm_phys_bits(&vm->kvm);

	if (c->mem_bytes > DIRECT_MAP_BYTES)
		return err_set("config: --mem %lluG: more than the %lluT of guest physical "
			       "addresses vmm's direct map holds (4-level paging, as Linux)",
			       (unsigned long long)(c->mem_bytes >> 30),
			       (unsigned long long)(DIRECT_MAP_BYTES >> 40));
	if (bits < 64 && c->mem_bytes > 1ull << bits)
		return err_set("config: --mem %lluG: this host's KVM gives the guest %u physical "
			       "address bits (CPUID 0x80000008), at most %lluG",
			       (unsigned long long)(c->mem_bytes >> 30), bits,
			       (unsigned long long)((1ull << bits) >> 30));
	if (c->guest_pages == GUEST_PAGES_1G && !vm_has_1g_pages(&vm->kvm))
		return err_set("config: --guest-pages 1g: this host's KVM offers no 1 GiB guest "
			       "pages (CPUID Page1GB/pdpe1gb missing); use 2m");
	return 0;
}

static int vm_memory(struct vm *vm)
{
	const struct config *c = vm->cfg;

	if (mem_create(&vm->mem, c->mem_bytes, c->backing, c->prealloc) < 0)
		return -1;
	if (kvm_set_memory(&vm->kvm, &vm->mem) < 0)
		return -1;
	if (frames_init(&vm->frames, vm->mem.size) < 0 ||
	    frames_reserve(&vm->frames, 0, SYS_AREA_END) < 0 ||
	    pt_init(&vm->pt, &vm->mem, &vm->frames) < 0 || sysarea_build(&vm->mem, &vm->pt) < 0)
		return -1;
	mm_init(&vm->mm, &vm->pt, c->guest_pages);
	vm->pt.invlpg_ceiling = c->tlb_flush == TLB_FLUSH_FULL	 ? 0
				: c->tlb_flush == TLB_FLUSH_PAGE ? SIZE_MAX
								 : PT_INVLPG_CEILING;
	return 0;
}

/* frames' before_top: guest RAM up to new_top in KVM memory slots. */
static int vm_cover_frames(void *ctx, uint64_t new_top)
{
	struct vm *vm = ctx;

	return kvm_memory_cover(&vm->kvm, &vm->mem, new_top);
}

static int vm_load(struct vm *vm)
{
	const struct kvm_cpuid_entry2 *leaf1 = kvm_cpuid_find(&vm->kvm, 1, 0);
	struct loader_args a = {
	    .argc = vm->cfg->payload_argc,
	    .argv = vm->cfg->payload_argv,
	    .envp = environ,
	    .execfn = vm->cfg->payload,
	    .hwcap = leaf1 ? leaf1->edx : 0,
	    .vdso = vm->cfg->vdso != VDSO_OFF,
	};

	if (loader_load(&vm->mm, &vm->elf, &a, &vm->load) < 0)
		return err_wrap("vm: loading into %lluM of guest RAM (--mem)",
				(unsigned long long)(vm->mem.size >> 20));
	/* Everything so far was written before the guest ever ran: no table
	 * can be shadowed yet, so the host writes stand as they are. */
	if (pt_commit(&vm->pt, NULL, NULL) < 0)
		return -1;
	/* From here on the slots grow with the frames, before any table can
	 * link a new one: an absent entry made present is the host's write
	 * alone, seen by the guest (other vCPUs too) at once (guest/pt_log.c). */
	vm->frames.before_top = vm_cover_frames;
	vm->frames.before_top_ctx = vm;
	return kvm_memory_cover(&vm->kvm, &vm->mem, vm->frames.top);
}

/* The grants, the private /tmp and the cwd, checked before the payload
 * runs so that a bad --dir or --cwd is vmm's error, not the payload's. */
static int vm_files(struct vm *vm)
{
	const struct config *c = vm->cfg;
	struct vfs_lookup l;
	char cwd[VFS_PATH_MAX];

	for (int i = 0; i < c->ndirs; i++)
		if (vfs_grant_add(&vm->vfs, c->dirs[i].host,
				  c->dirs[i].guest[0] ? c->dirs[i].guest : NULL, c->dirs[i].rw) < 0)
			return -1;
	if (vfs_add_tmp(&vm->vfs) < 0)
		return -1;
	vm->process.vfs = &vm->vfs;
	if (!c->cwd)
		return 0;
	if (vfs_normalize("/", c->cwd, cwd, sizeof(cwd)) < 0)
		return err_set("config: --cwd %s: too long", c->cwd);
	vfs_lookup(&vm->vfs, cwd, &l);
	if (l.kind != VFS_GRANT && l.kind != VFS_VDIR)
		return err_set("config: --cwd %s: not inside a granted directory (--dir)", cwd);
	snprintf(vm->process.cwd, sizeof(vm->process.cwd), "%s", cwd);
	return 0;
}

/* The vDSO's clocks from the guest TSC, when KVM and the host CPU make it
 * a clock; otherwise the data page sends every read to the syscall. */
static void vm_clock(struct vm *vm)
{
	struct vclock_tsc t;

	if (!vm->load.vvar)
		return;
	kvm_tsc_probe(&vm->vcpu, &vm->tsc);
	/* Warned at the first clock read that exits (sys_time.c), if any. */
	if (!vm->tsc.usable && vm->cfg->vdso == VDSO_TSC)
		vm->process.clock_fallback_why = vm->tsc.why;
	t = (struct vclock_tsc){
	    .usable = vm->tsc.usable && vm->cfg->vdso == VDSO_TSC,
	    .khz = vm->tsc.khz,
	    .offset = vm->tsc.offset,
	};
	vclock_setup(&vm->vclock, vm->load.vvar, &t, 0 /* the one vCPU */);
}

int vm_setup(struct vm *vm, const struct config *cfg)
{
	uint64_t t0 = vm_now_ns();
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm.sys_fd = vm->kvm.vm_fd = -1;
	vm->vcpu.fd = -1;
	vm->kvm_pages.stats.fd = -1;
	vm->perf_ctl.ctl_fd = vm->perf_ctl.ack_fd = -1;
	kvm_detect_paging(&vm->paging);

	r = elf_find_in_path(cfg->payload, getenv("PATH"), vm->payload_path,
			     sizeof(vm->payload_path));
	if (r == 0)
		r = elf_open(&vm->elf, vm->payload_path);
	if (r == ELF_ERR_NOENT)
		return EXIT_NOENT;
	if (r < 0)
		return EXIT_NOEXEC;
	if (kvm_open(&vm->kvm) < 0 || kvm_create_vm(&vm->kvm) < 0 || vm_check_limits(vm) < 0)
		return EXIT_VMM;
	if (vm_memory(vm) < 0 || vm_load(vm) < 0)
		return EXIT_VMM;
	if (vcpu_create(&vm->vcpu, &vm->kvm, 0) < 0 ||
	    cpu_vcpu_init(&vm->vcpu, &vm->kvm, vm->pt.root, vm->load.entry, vm->load.sp) < 0)
		return EXIT_VMM;
	process_init(&vm->process, &vm->mm, vm->mem.size);
	vm_clock(vm);
	task_init(&vm->task, &vm->process);
	if (vm_files(vm) < 0)
		return EXIT_VMM;
	vm->process.out_limit = cfg->max_output;
	if (!cfg->no_counters &&
	    counters_open(&vm->counters, cfg->events, vm->kvm.vm_fd, vm->vcpu.fd) < 0)
		return EXIT_VMM;
	if (vm->counters) {
		counters_bind_vmm(vm->counters, VMM_COUNT_PAGE_FAULTS, &vm->stats.page_faults);
		counters_bind_vmm(vm->counters, VMM_COUNT_SPURIOUS_FAULTS,
				  &vm->stats.spurious_faults);
		counters_bind_vmm(vm->counters, VMM_COUNT_EXITS, &vm->stats.exits);
		counters_bind_vmm(vm->counters, VMM_COUNT_SYSCALLS, &vm->stats.syscall_exits);
	}
	if (cfg->perf_control && perf_control_open(&vm->perf_ctl, cfg->perf_control) < 0)
		return EXIT_VMM;
	vm->stats.setup_ns = vm_now_ns() - t0;
	return 0;
}

int run_exit_status(struct run_result r)
{
	switch (r.end) {
	case RUN_EXITED:
		return r.status;
	case RUN_SIGNALED:
		return 128 + r.status;
	case RUN_TIMEOUT:
		return EXIT_TIMEOUT;
	case RUN_INTERRUPTED:
		return 128 + r.status;
	default:
		return EXIT_VMM;
	}
}

int vm_exit_status(const struct vm *vm)
{
	return run_exit_status((struct run_result){vm->end, vm->status});
}

void vm_destroy(struct vm *vm)
{
	if (vm->counters)
		counters_close(vm->counters);
	kvm_pages_close(&vm->kvm_pages);
	perf_control_close(&vm->perf_ctl);
	process_destroy(&vm->process);
	vfs_destroy(&vm->vfs);
	mm_destroy(&vm->mm);
	pt_destroy(&vm->pt);
	frames_destroy(&vm->frames);
	vm_threads_destroy(vm);
	vcpu_destroy(&vm->vcpu);
	kvm_close(&vm->kvm);
	mem_destroy(&vm->mem);
	elf_close(&vm->elf);
}
