/* The floor under vmm's own costs: the least a KVM program can do for each
 * path vmm takes, with none of vmm's code. bench/vmm-costs measures vmm
 * against these, in one run, interleaved.
 *   kvm_floor start           create a VM and a vCPU, run one instruction
 *   kvm_floor start-cpuid N   the same after N CPUIDs: the exits to KVM a
 *                             guest's start-up makes itself (static glibc
 *                             probes CPUID dozens of times; each one exits
 *                             to KVM whatever the VMM), without any VMM code
 *   kvm_floor exit-loop N     N round trips: CPL3 `syscall` -> stub `out` ->
 *                             KVM_RUN returns -> resume at RCX (sync regs)
 *   kvm_floor iret-loop N     the same, but each resume goes through a CPL0
 *                             routine that stores to a page table, invlpgs
 *                             and iretq's to CPL3: one exit per round trip
 * Prints one JSON line: {"floor":..., "n":..., "ns_per_op":..., "exits":...}. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE (2u << 20)
#define PML4 0x1000
#define PDPT 0x2000
#define PD 0x3000
#define GDT 0x4000
#define TSS (GDT + 0x100)
#define USER_CODE 0x10000
#define LSTAR_CODE 0x11000
#define IRET_CODE 0x12000
#define KSTACK_TOP 0x20000
#define USTACK_TOP 0x30000
#define SCRATCH_PT 0x40000 /* the live page table of va 2-4 MiB, which the iret routine edits */
#define SCRATCH_VA 0x200000
#define PORT_EXIT 0xf6
#define PORT_DONE 0xf7
#define CPUID_MAX 2000 /* fits the user code page (2 bytes each) */

#define SEL_KCS 0x08
#define SEL_KDS 0x10
#define SEL_UCS 0x2b
#define SEL_UDS 0x23
#define SEL_TSS 0x30

static int die(const char *what)
{
	fprintf(stderr, "kvm_floor: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

struct floor {
	int kvm, vm, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	uint64_t exits;
};

static void seg(struct kvm_segment *s, uint16_t sel, int code)
{
	*s = (struct kvm_segment){.base = 0,
				  .limit = 0xffffffff,
				  .selector = sel,
				  .type = code ? 0xb : 0x3,
				  .present = 1,
				  .dpl = sel & 3,
				  .db = code ? 0 : 1,
				  .s = 1,
				  .l = code ? 1 : 0,
				  .g = 1};
}

static void floor_open(struct floor *f)
{
	struct kvm_userspace_memory_region r = {0};
	int sz;

	f->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (f->kvm < 0)
		die("/dev/kvm");
	f->vm = ioctl(f->kvm, KVM_CREATE_VM, 0);
	if (f->vm < 0)
		die("KVM_CREATE_VM");
	f->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->mem == MAP_FAILED)
		die("mmap");
	r.memory_size = MEM_SIZE;
	r.userspace_addr = (uint64_t)(uintptr_t)f->mem;
	if (ioctl(f->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	f->vcpu = ioctl(f->vm, KVM_CREATE_VCPU, 0);
	if (f->vcpu < 0)
		die("KVM_CREATE_VCPU");
	sz = ioctl(f->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	f->run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, f->vcpu, 0);
	if (f->run == MAP_FAILED)
		die("mmap kvm_run");
}

static void put(struct floor *f, uint64_t gpa, const void *code, size_t n)
{
	memcpy(f->mem + gpa, code, n);
}

/* Long mode at CPL3: one 2 MiB user page at 0, GDT with a TSS whose RSP0 is
 * the kernel stack and whose I/O bitmap opens the exit ports to CPL3. */
static void floor_long_mode(struct floor *f, uint64_t rip)
{
	uint64_t *pml4 = (uint64_t *)(f->mem + PML4), *pdpt = (uint64_t *)(f->mem + PDPT);
	uint64_t *pd = (uint64_t *)(f->mem + PD), *gdt = (uint64_t *)(f->mem + GDT);
	uint8_t *tss = f->mem + TSS;
	uint64_t tss_limit = 104 + 8192 / 8, tssa = TSS;
	struct kvm_sregs s;
	struct kvm_regs r = {.rip = rip, .rsp = USTACK_TOP, .rflags = 0x202};
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[3];
	} m = {.h.nmsrs = 3};

	pml4[0] = PDPT | 7;
	pdpt[0] = PD | 7;
	pd[0] = 0 | 0x87; /* 2 MiB, P RW US PS */
	pd[1] = SCRATCH_PT | 7;
	((uint64_t *)(f->mem + SCRATCH_PT))[0] = 0 | 7;
	gdt[1] = 0x00af9a000000ffffull;
	gdt[2] = 0x00cf92000000ffffull;
	gdt[3] = 0x00cffa000000ffffull;
	gdt[4] = 0x00cff2000000ffffull;
	gdt[5] = 0x00affa000000ffffull;
	gdt[6] = (tss_limit & 0xffff) | ((tssa & 0xffffff) << 16) | (0xbull << 40) | (1ull << 47) |
		 (((tss_limit >> 16) & 0xf) << 48) | (((tssa >> 24) & 0xff) << 56);
	gdt[7] = tssa >> 32;
	memset(tss, 0, 104);
	*(uint64_t *)(tss + 4) = KSTACK_TOP; /* RSP0 */
	*(uint16_t *)(tss + 102) = 104;	     /* I/O bitmap offset */
	memset(tss + 104, 0, 8192 / 8);	     /* every port open */
	if (ioctl(f->vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS");
	seg(&s.cs, SEL_UCS, 1);
	seg(&s.ss, SEL_UDS, 0);
	s.ds = s.es = s.fs = s.gs = s.ss;
	s.tr = (struct kvm_segment){.base = TSS,
				    .limit = (uint32_t)tss_limit,
				    .selector = SEL_TSS,
				    .type = 0xb,
				    .present = 1};
	s.gdt.base = GDT;
	s.gdt.limit = 8 * 8 - 1;
	s.cr0 = 0x80050033; /* PG WP NE ET MP PE */
	s.cr3 = PML4;
	s.cr4 = 0x20;	/* PAE */
	s.efer = 0xd01; /* NXE LMA LME SCE */
	if (ioctl(f->vcpu, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS");
	m.e[0] = (struct kvm_msr_entry){.index = 0xc0000081, /* STAR */
					.data = ((uint64_t)0x18 << 48) | ((uint64_t)SEL_KCS << 32)};
	m.e[1] = (struct kvm_msr_entry){.index = 0xc0000082, .data = LSTAR_CODE};
	m.e[2] = (struct kvm_msr_entry){.index = 0xc0000084, .data = 0}; /* SFMASK */
	if (ioctl(f->vcpu, KVM_SET_MSRS, &m) != 3)
		die("KVM_SET_MSRS");
	if (ioctl(f->vcpu, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_REGS");
}

static void floor_run(struct floor *f)
{
	f->exits++;
	if (ioctl(f->vcpu, KVM_RUN, 0) < 0)
		die("KVM_RUN");
}

static void expect_io(struct floor *f, uint16_t port)
{
	if (f->run->exit_reason != KVM_EXIT_IO || f->run->io.port != port) {
		fprintf(stderr, "kvm_floor: unexpected exit %u (port 0x%x)\n", f->run->exit_reason,
			f->run->io.port);
		exit(3);
	}
}

/* CPL3: loop { read SCRATCH_VA; syscall }, so that the edited table is
 * live (shadowed, under shadow paging). LSTAR: out; resume at RCX. */
static const uint8_t user_loop[] = {
    0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, /* mov 0x200000,%rax */
    0x0f, 0x05,					    /* syscall */
    0xeb, 0xf4,					    /* jmp back */
};
static const uint8_t lstar_stub[] = {0xe6, PORT_EXIT, 0xf4}; /* out %al,$0xf6; hlt */

/* CPL0 resume routine: store rsi to [rdi], invlpg [rdx], iretq with the
 * frame the VMM put on the kernel stack. */
static const uint8_t iret_routine[] = {
    0x48, 0x89, 0x37, /* mov %rsi,(%rdi) */
    0x0f, 0x01, 0x3a, /* invlpg (%rdx) */
    0x48, 0xcf,	      /* iretq */
};

static int exit_loop(long n, int iret)
{
	struct floor f = {0};
	uint64_t t0, t1;
	long i;

	floor_open(&f);
	put(&f, USER_CODE, user_loop, sizeof(user_loop));
	put(&f, LSTAR_CODE, lstar_stub, sizeof(lstar_stub));
	put(&f, IRET_CODE, iret_routine, sizeof(iret_routine));
	floor_long_mode(&f, USER_CODE);
	f.run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	floor_run(&f); /* the first exit fills the sync regs */
	expect_io(&f, PORT_EXIT);
	f.exits = 0;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		struct kvm_regs *r = &f.run->s.regs.regs;
		struct kvm_sregs *s = &f.run->s.regs.sregs;
		uint64_t dirty = KVM_SYNC_X86_REGS;

		if (iret) {
			uint64_t *frame = (uint64_t *)(f.mem + KSTACK_TOP - 40);

			frame[0] = r->rcx;
			frame[1] = SEL_UCS;
			frame[2] = 0x202;
			frame[3] = r->rsp;
			frame[4] = SEL_UDS;
			r->rip = IRET_CODE;
			r->rsp = KSTACK_TOP - 40;
			r->rdi = SCRATCH_PT;
			r->rsi = (uint64_t)((i & 1) << 12) | 7; /* flip the frame */
			r->rdx = SCRATCH_VA;
			seg(&s->cs, SEL_KCS, 1);
			seg(&s->ss, SEL_KDS, 0);
			dirty |= KVM_SYNC_X86_SREGS;
		} else {
			r->rip = r->rcx;
			if ((s->cs.selector & 3) != 3) { /* VMX/SVM: syscall went to CPL0 */
				seg(&s->cs, SEL_UCS, 1);
				seg(&s->ss, SEL_UDS, 0);
				dirty |= KVM_SYNC_X86_SREGS;
			}
		}
		f.run->kvm_dirty_regs = dirty;
		floor_run(&f);
		expect_io(&f, PORT_EXIT);
	}
	t1 = now_ns();
	printf("{\"floor\":\"%s\",\"n\":%ld,\"ns_per_op\":%.1f,\"exits_per_op\":%.3f}\n",
	       iret ? "iret-loop" : "exit-loop", n, (double)(t1 - t0) / (double)n,
	       (double)f.exits / (double)n);
	return 0;
}

/* Create a VM and a vCPU, run ncpuid CPUIDs and one `out`, tear down. */
static int start(long ncpuid)
{
	static uint8_t code[2 * CPUID_MAX + 2];
	struct floor f = {0};
	uint64_t t0 = now_ns(), t1;
	size_t len = 0;

	for (long i = 0; i < ncpuid; i++) { /* cpuid: 0f a2; eax stays a leaf */
		code[len++] = 0x0f;
		code[len++] = 0xa2;
	}
	code[len++] = 0xe6; /* out PORT_DONE, al */
	code[len++] = PORT_DONE;
	floor_open(&f);
	put(&f, USER_CODE, code, len);
	floor_long_mode(&f, USER_CODE);
	floor_run(&f);
	expect_io(&f, PORT_DONE);
	t1 = now_ns();
	printf("{\"floor\":\"%s\",\"n\":1,\"cpuid\":%ld,\"ns_per_op\":%.1f,\"exits_per_op\":%ld}\n",
	       ncpuid ? "start-cpuid" : "start", ncpuid, (double)(t1 - t0), ncpuid + 1);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? strtol(argv[2], NULL, 0) : 10000;

	if (argc < 2 || n <= 0) {
		fprintf(stderr,
			"usage: kvm_floor start | start-cpuid N | exit-loop N | iret-loop N\n");
		return 2;
	}
	if (strcmp(argv[1], "start") == 0)
		return start(0);
	if (strcmp(argv[1], "start-cpuid") == 0) {
		if (n > CPUID_MAX) {
			fprintf(stderr, "kvm_floor: start-cpuid: at most %d\n", CPUID_MAX);
			return 2;
		}
		return start(n);
	}
	if (strcmp(argv[1], "exit-loop") == 0)
		return exit_loop(n, 0);
	if (strcmp(argv[1], "iret-loop") == 0)
		return exit_loop(n, 1);
	fprintf(stderr, "kvm_floor: unknown floor '%s'\n", argv[1]);
	return 2;
}
