/* What a hostile program can do to its kernel, one behaviour per name:
 * `hostile NAME` does it; `hostile` alone lists the names. Run natively
 * and under ./vmm by tests/e2e/test_hostile.c, which wants the same exit
 * status and the same output from both. Syscalls are made raw, so libc
 * wrappers (and glibc's vDSO) never stand between the call and the kernel;
 * each prints "name = result", the result as -errno. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define KERNEL_PTR 0xffff888000000000ull /* Linux's (and vmm's) direct map */
#define KTEXT_PTR 0xffffffff81000000ull	 /* Linux's (and vmm's) kernel text */
#define VSYSCALL 0xffffffffff600000ull
#define NONCANON 0x8000000000000000ull
#define TASK_SIZE 0x7ffffffff000ull

static long raw(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static void say(const char *s)
{
	raw(SYS_write, 1, (long)s, (long)strlen(s), 0, 0, 0);
}

static void show(const char *what, long r)
{
	char buf[160];

	snprintf(buf, sizeof(buf), "%s = %ld\n", what, r);
	say(buf);
}

#define SYS(nr, ...) show(#nr "(" #__VA_ARGS__ ")", raw(nr, __VA_ARGS__))

/* ---- faults and exceptions ---- */

static void de(void)
{
	volatile int zero = 0, one = 1;

	show("quotient", one / zero);
}
static void db_int1(void)
{
	__asm__ volatile(".byte 0xf1"); /* int1 (icebp) */
}
static void db_tf(void)
{
	__asm__ volatile("pushf; orq $0x100, (%rsp); popf; nop; nop");
}
static void bp(void)
{
	__asm__ volatile("int3");
}
static void bp_cd03(void)
{
	__asm__ volatile(".byte 0xcd, 0x03"); /* int $3, long form */
}
static void of_into(void)
{
	__asm__ volatile(".byte 0xce"); /* into: invalid in 64-bit mode */
}
static void of_int4(void)
{
	__asm__ volatile("int $4");
}
static void br_int5(void)
{
	/* bound does not exist in 64-bit mode (0x62 is EVEX): #BR only by int. */
	__asm__ volatile("int $5");
}
static void ud(void)
{
	__asm__ volatile("ud2");
}
static void gp_noncanon(void)
{
	show("read", *(volatile long *)NONCANON);
}
static void gp_selector(void)
{
	__asm__ volatile("mov $0x10, %%eax; mov %%eax, %%ds" ::: "rax");
}
static void pf_null(void)
{
	*(volatile int *)0 = 1;
}
static void pf_kernel_read(void)
{
	show("read", *(volatile long *)KERNEL_PTR);
}
static void pf_kernel_write(void)
{
	*(volatile long *)(KERNEL_PTR + 0x1000) = 0;
}
static void pf_ktext_read(void)
{
	show("read", *(volatile long *)KTEXT_PTR);
}
static void pf_ktext_jump(void)
{
	((void (*)(void))KTEXT_PTR)();
}
static void pf_above_task_size(void)
{
	show("read", *(volatile long *)TASK_SIZE);
}
static void vsyscall_call(void)
{
	/* The legacy vsyscall time(): emulated or refused, never vmm's stub. */
	long (*vtime)(long *) = (long (*)(long *))(VSYSCALL + 0x400);

	show("vsyscall time", vtime(NULL) > 0);
}
static void vsyscall_read(void)
{
	show("vsyscall page readable", *(volatile char *)VSYSCALL != 0x42);
}
static void vsyscall_stub_jump(void)
{
	((void (*)(void))(VSYSCALL + 0xc00))();
}
static void ac(void)
{
	char buf[16] __attribute__((aligned(8)));

	__asm__ volatile("pushf; orq $0x40000, (%%rsp); popf; movl 1(%0), %%eax; "
			 "pushf; andq $~0x40000, (%%rsp); popf" ::"r"(buf)
			 : "rax", "memory");
}
static void xm(void)
{
	unsigned csr = 0x1f80 & ~0x200; /* unmask divide-by-zero */
	float one = 1.0f, zero = 0.0f;

	__asm__ volatile("ldmxcsr %0" ::"m"(csr));
	__asm__ volatile("divss %1, %0" : "+x"(one) : "x"(zero));
	show("sse quotient", (long)one);
}
static void mf(void)
{
	unsigned short cw = 0x037f & ~0x4; /* unmask zero divide */

	__asm__ volatile("fldcw %0; fldz; fld1; fdivp; fwait; fstp %%st(0)" ::"m"(cw));
}

#define INT_N(n)                                                                                   \
	static void int_##n(void)                                                                  \
	{                                                                                          \
		__asm__ volatile("int $" #n);                                                      \
	}
INT_N(0x02)
INT_N(0x0d)
INT_N(0x0e)
INT_N(0x20)
INT_N(0x2e)
INT_N(0x81)
INT_N(0xff)

/* ---- privileged instructions ---- */

static void priv_hlt(void)
{
	__asm__ volatile("hlt");
}
static void priv_cli(void)
{
	__asm__ volatile("cli");
}
static void priv_sti(void)
{
	__asm__ volatile("sti");
}
static void priv_rdmsr(void)
{
	__asm__ volatile("mov $0xc0000080, %%ecx; rdmsr" ::: "rax", "rcx", "rdx");
}
static void priv_wrmsr(void)
{
	__asm__ volatile("mov $0xc0000082, %%ecx; xor %%eax, %%eax; xor %%edx, %%edx; wrmsr" ::
			     : "rax", "rcx", "rdx");
}
static void priv_read_cr3(void)
{
	long v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	show("cr3", v);
}
static void priv_write_cr3(void)
{
	__asm__ volatile("xor %%eax, %%eax; mov %%rax, %%cr3" ::: "rax");
}
static void priv_invlpg(void)
{
	__asm__ volatile("invlpg (%0)" ::"r"(0x400000) : "memory");
}
static void priv_lgdt(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} d = {0, 0};

	__asm__ volatile("lgdt %0" ::"m"(d));
}
static void priv_wbinvd(void)
{
	__asm__ volatile("wbinvd");
}
static void priv_swapgs(void)
{
	__asm__ volatile("swapgs");
}
static void priv_sysret(void)
{
	__asm__ volatile("lea 1f(%%rip), %%rcx; pushf; pop %%r11; sysretq; 1:" ::: "rcx", "r11");
}
static void priv_iretq_ring0(void)
{
	/* A frame that returns to ring 0 (cs 0x10) at the next instruction. */
	__asm__ volatile("mov %%rsp, %%rax; push $0x18; push %%rax; pushf; push $0x10; "
			 "lea 1f(%%rip), %%rax; push %%rax; iretq; 1:" ::
			     : "rax", "memory");
}
static void io_out80(void)
{
	__asm__ volatile("mov $0x42, %al; outb %al, $0x80");
}
static void io_in60(void)
{
	__asm__ volatile("inb $0x60, %%al" ::: "rax");
}
/* vmm's own ports: the syscall port is open to CPL3 in its TSS bitmap. */
static void io_out_f4(void)
{
	__asm__ volatile("outb %al, $0xf4");
}
static void io_out_f5(void)
{
	__asm__ volatile("outb %al, $0xf5");
}
static void io_out_f6(void)
{
	__asm__ volatile("mov $39, %eax; outb %al, $0xf6");
}
static void io_in_f6(void)
{
	__asm__ volatile("inb $0xf6, %%al" ::: "rax");
}
static void io_outsb(void)
{
	static const char b[4] = "abc";

	__asm__ volatile("mov $0xf6, %%dx; mov %0, %%rsi; mov $3, %%ecx; rep outsb" ::"r"(b)
			 : "rdx", "rsi", "rcx", "memory");
}

/* ---- memory ---- */

static int deep(int n)
{
	volatile char pad[4096];

	pad[0] = (char)n;
	/* Always true, but the compiler cannot know: no -Winfinite-recursion. */
	if (n >= 0 || pad[0] != 7)
		return deep(n + 1) + pad[0];
	return 0;
}
static void stack_overflow(void)
{
	show("deep", deep(0));
}
static void write_code(void)
{
	*(volatile char *)(uintptr_t)write_code = (char)0xc3;
}
static void exec_stack(void)
{
	unsigned char code[4] = {0xc3};

	((void (*)(void))(uintptr_t)code)();
}
static void mmap_exhaust(void)
{
	long i, r = 0;

	for (i = 0; i < 1000000; i++) {
		r = raw(SYS_mmap, 0, 1l << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
		if (r < 0 && r > -4096)
			break;
	}
	show("mmap 1 GiB at a time until it fails", r);
}
static void mmap_huge(void)
{
	SYS(SYS_mmap, 0, 1l << 46, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	SYS(SYS_mmap, 0, -4096l, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	SYS(SYS_mmap, 0, LONG_MAX, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	SYS(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void brk_exhaust(void)
{
	long start = raw(SYS_brk, 0, 0, 0, 0, 0, 0), cur = start, i;

	/* 64 MiB steps up to 1.25 TiB: vmm maps eagerly, so --mem stops it
	 * long before Linux's overcommit would; both must end cleanly. */
	for (i = 0; i < 20000; i++) {
		long want = cur + (64l << 20), got = raw(SYS_brk, want, 0, 0, 0, 0, 0);

		if (got != want)
			break;
		cur = got;
	}
	show("brk grew", cur > start);
	show("brk back to the start", raw(SYS_brk, start, 0, 0, 0, 0, 0) == start);
	show("brk(-4096) refused", raw(SYS_brk, -4096l, 0, 0, 0, 0, 0) == start);
}
static void vma_storm(void)
{
	long i, r = 0;

	/* Separate PROT_NONE pages cost no memory: only the region count
	 * (vm.max_map_count, 65530) stops them. */
	for (i = 0; i < 200000; i++) {
		long at = 0x100000000l + i * 0x2000;

		r = raw(SYS_mmap, at, 4096, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (r != at)
			break;
	}
	show("mmap of separate pages until it fails", r);
	show("more than 65000 made", i > 65000);
	show("munmap of all of them", raw(SYS_munmap, 0x100000000l, i * 0x2000, 0, 0, 0, 0));
}
static void stack_munmap(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0) & ~0xfffull;

	/* From below this frame up past the stack's top, within TASK_SIZE. */
	say("munmap of the stack\n");
	raw(SYS_munmap, (long)(sp - 0x10000), 0x100000, 0, 0, 0, 0);
	say("still alive\n");
}
static void stack_munmap_past_top(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0) & ~0xfffull;

	/* Past TASK_SIZE wherever the stack is: refused as a whole. */
	SYS(SYS_munmap, (long)sp, (long)(1ull << 46), 0, 0, 0, 0);
}
static void system_pages(void)
{
	/* Above TASK_SIZE nothing is the payload's: every call is refused. */
	SYS(SYS_munmap, (long)TASK_SIZE, 4096, 0, 0, 0, 0);
	SYS(SYS_munmap, (long)VSYSCALL, 4096, 0, 0, 0, 0);
	SYS(SYS_munmap, (long)KTEXT_PTR, 4096, 0, 0, 0, 0);
	SYS(SYS_munmap, (long)TASK_SIZE - 4096, 8192, 0, 0, 0, 0);
	SYS(SYS_mprotect, (long)VSYSCALL, 4096, PROT_READ | PROT_WRITE, 0, 0, 0);
	SYS(SYS_mprotect, (long)KERNEL_PTR, 4096, PROT_READ, 0, 0, 0);
	SYS(SYS_mmap, (long)VSYSCALL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	SYS(SYS_mmap, (long)KERNEL_PTR, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
	    -1, 0);
	SYS(SYS_mmap, (long)TASK_SIZE - 4096, 8192, PROT_READ,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	SYS(SYS_madvise, (long)VSYSCALL, 4096, MADV_DONTNEED, 0, 0, 0);
	/* The last page below TASK_SIZE is the payload's to map and unmap. */
	show("mmap the last user page",
	     raw(SYS_mmap, (long)TASK_SIZE - 4096, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		 0) == (long)TASK_SIZE - 4096);
	*(volatile char *)(TASK_SIZE - 1) = 1;
	SYS(SYS_munmap, (long)TASK_SIZE - 4096, 4096, 0, 0, 0, 0);
}
static void huge_output(void)
{
	static char buf[1 << 20];
	long i, total = 0;

	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 64; i++)
		total += raw(SYS_write, 1, (long)buf, sizeof(buf), 0, 0, 0);
	say("\n");
	show("written", total);
}

/* ---- syscalls with wild numbers, pointers and lengths ---- */

static void bad_numbers(void)
{
	SYS(1000, 0, 0, 0, 0, 0, 0);
	SYS(380, 0, 0, 0, 0, 0, 0); /* a hole in the table (335 is uretprobe since 6.11) */
	SYS(512, 0, 0, 0, 0, 0, 0); /* x32 range */
	SYS(-1, 0, 0, 0, 0, 0, 0);
	SYS(LONG_MIN, 0, 0, 0, 0, 0, 0);
	SYS(0x7fffffff, 0, 0, 0, 0, 0, 0);
	SYS(0x40000000 + SYS_getppid, 0, 0, 0, 0, 0, 0); /* x32 bit */
	/* Linux reads the number from eax sign-extended: the high half of rax is ignored. */
	show("getpid with high bits == getpid",
	     raw((1l << 32) + SYS_getpid, 0, 0, 0, 0, 0, 0) == raw(SYS_getpid, 0, 0, 0, 0, 0, 0));
}

static const long wild[] = {0, 1, (long)KERNEL_PTR, (long)NONCANON, (long)TASK_SIZE - 1, -1};

static void bad_pointers(void)
{
	char line[96];

	for (size_t i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
		long p = wild[i];

		snprintf(line, sizeof(line), "-- pointer %#lx\n", p);
		say(line);
		SYS(SYS_read, 0, p, 16, 0, 0, 0);
		SYS(SYS_write, 1, p, 16, 0, 0, 0);
		SYS(SYS_readv, 0, p, 1, 0, 0, 0);
		SYS(SYS_writev, 1, p, 2, 0, 0, 0);
		SYS(SYS_fstat, 1, p, 0, 0, 0, 0);
		SYS(SYS_newfstatat, 1, p, p, 0, 0, 0);
		SYS(SYS_newfstatat, 1, (long)"", p, 0x1000 /* AT_EMPTY_PATH */, 0, 0);
		SYS(SYS_readlink, p, p, 16, 0, 0, 0);
		SYS(SYS_getcwd, p, 1, 0, 0, 0, 0); /* too short for any path */
		SYS(SYS_clock_gettime, CLOCK_MONOTONIC, p, 0, 0, 0, 0);
		SYS(SYS_clock_getres, CLOCK_MONOTONIC, p, 0, 0, 0, 0);
		SYS(SYS_nanosleep, p, p, 0, 0, 0, 0);
		SYS(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, p, p, 0, 0);
		SYS(SYS_uname, p, 0, 0, 0, 0, 0);
		SYS(SYS_sysinfo, p, 0, 0, 0, 0, 0);
		SYS(SYS_getrandom, p, 16, 0, 0, 0, 0);
		SYS(SYS_rt_sigaction, SIGUSR1, p, p, 8, 0, 0);
		SYS(SYS_rt_sigprocmask, SIG_BLOCK, p, p, 8, 0, 0);
		SYS(SYS_sigaltstack, p, p, 0, 0, 0, 0);
		SYS(SYS_prlimit64, 0, RLIMIT_STACK, p, p, 0, 0);
		SYS(SYS_getrlimit, RLIMIT_STACK, p, 0, 0, 0, 0);
		SYS(SYS_getrusage, 0, p, 0, 0, 0, 0);
		SYS(SYS_sched_getaffinity, 0, 128, p, 0, 0, 0);
		SYS(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, p, 0, 0, 0, 0);
	}
}

static void bad_lengths(void)
{
	static char buf[64];
	long b = (long)buf;

	SYS(SYS_write, 1, b, -1, 0, 0, 0);
	SYS(SYS_write, 1, b, LONG_MAX, 0, 0, 0);
	SYS(SYS_read, 0, b, -1, 0, 0, 0);
	SYS(SYS_writev, 1, b, -1, 0, 0, 0);
	SYS(SYS_writev, 1, b, 1025, 0, 0, 0);
	/* (getcwd and getrandom with a huge length fill memory past the
	 * buffer, the cwd differs by design: left out.) */
	SYS(SYS_sched_getaffinity, 0, -1, b, 0, 0, 0);
	SYS(SYS_sched_getaffinity, 0, 3, b, 0, 0, 0);
	SYS(SYS_rt_sigaction, SIGUSR1, 0, b, -1, 0, 0);
	SYS(SYS_rt_sigprocmask, SIG_BLOCK, 0, b, 1l << 40, 0, 0);
	SYS(SYS_munmap, b, -4096, 0, 0, 0, 0);
	SYS(SYS_mprotect, 0x10000, -4096, PROT_READ, 0, 0, 0);
	SYS(SYS_madvise, 0x10000, -4096, MADV_DONTNEED, 0, 0, 0);
	SYS(SYS_mremap, 0x10000, 4096, -4096, 1, 0, 0);
	SYS(SYS_write, -1, b, 1, 0, 0, 0);
	SYS(SYS_write, 1l << 40, b, 1, 0, 0, 0);
	SYS(SYS_close, INT_MAX, 0, 0, 0, 0, 0);
	SYS(SYS_close, -1, 0, 0, 0, 0, 0);
}

struct behaviour {
	const char *name;
	void (*fn)(void);
};

#define B(f)                                                                                       \
	{                                                                                          \
#f, f                                                                              \
	}
static const struct behaviour all[] = {
    B(de),
    B(db_int1),
    B(db_tf),
    B(bp),
    B(bp_cd03),
    B(of_into),
    B(of_int4),
    B(br_int5),
    B(ud),
    B(gp_noncanon),
    B(gp_selector),
    B(pf_null),
    B(pf_kernel_read),
    B(pf_kernel_write),
    B(pf_ktext_read),
    B(pf_ktext_jump),
    B(pf_above_task_size),
    B(vsyscall_call),
    B(vsyscall_read),
    B(vsyscall_stub_jump),
    B(ac),
    B(xm),
    B(mf),
    B(int_0x02),
    B(int_0x0d),
    B(int_0x0e),
    B(int_0x20),
    B(int_0x2e),
    B(int_0x81),
    B(int_0xff),
    B(priv_hlt),
    B(priv_cli),
    B(priv_sti),
    B(priv_rdmsr),
    B(priv_wrmsr),
    B(priv_read_cr3),
    B(priv_write_cr3),
    B(priv_invlpg),
    B(priv_lgdt),
    B(priv_wbinvd),
    B(priv_swapgs),
    B(priv_sysret),
    B(priv_iretq_ring0),
    B(io_out80),
    B(io_in60),
    B(io_out_f4),
    B(io_out_f5),
    B(io_out_f6),
    B(io_in_f6),
    B(io_outsb),
    B(stack_overflow),
    B(write_code),
    B(exec_stack),
    B(mmap_exhaust),
    B(mmap_huge),
    B(brk_exhaust),
    B(vma_storm),
    B(stack_munmap),
    B(stack_munmap_past_top),
    B(system_pages),
    B(huge_output),
    B(bad_numbers),
    B(bad_pointers),
    B(bad_lengths),
};

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (argc < 2) {
			say(all[i].name);
			say("\n");
		} else if (strcmp(argv[1], all[i].name) == 0) {
			say("start\n");
			all[i].fn();
			say("end\n");
			return 0;
		}
	}
	return argc < 2 ? 0 : 2;
}
