/* Signal delivery without KVM: the rt_sigframe Linux's x86-64 ABI defines
 * (where it goes, what the handler's registers point at, what it saves),
 * rt_sigreturn undoing it, masks, restart of interrupted syscalls, and
 * faults with and without a handler, over fake guest memory. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "guest/uaccess.h"
#include "guest_fixture.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "unit.h"

#define GUEST_RAM (32ull << 20)
#define STACK 0x500000ull /* four writable pages */
#define STACK_TOP (STACK + 4 * SZ_4K)
#define HANDLER 0x401000ull
#define RESTORER 0x402000ull
#define SA_RESTORER_ 0x04000000ull

static struct guest_mem mem;
static struct frames fr;
static struct page_tables pt;
static struct mm mm;
static struct process proc;
static struct task task;

static void setup(void)
{
	process_fixture_up(&mem, &fr, &pt, &mm, &proc, &task, GUEST_RAM);
	ck_assert_int_eq(mm_map_fixed(&mm, STACK, 4 * SZ_4K, PROT_READ | PROT_WRITE, 0), 0);
}

static void teardown(void)
{
	process_fixture_down(&mem, &fr, &pt, &mm, &proc);
}

static void handle(int signo, uint64_t flags, uint64_t mask)
{
	proc.sigact[signo - 1] =
	    (struct signal_action){HANDLER, flags | SA_RESTORER_, RESTORER, mask};
}

static struct user_regs user_at(uint64_t rip)
{
	return (struct user_regs){.rax = 1,
				  .rbx = 2,
				  .rbp = 3,
				  .r15 = 15,
				  .rsp = STACK_TOP - 256,
				  .rip = rip,
				  .rflags = 0x202 | 1 /* CF */};
}

START_TEST(frame_layout_and_sigreturn)
{
	struct user_regs r = user_at(0x400123), before = r;
	uint64_t pretcode, saved[18], mask;
	struct signal_info info;

	handle(SIGUSR1, SA_SIGINFO, 1ull << (SIGUSR2 - 1));
	signal_send(&task, &(struct signal_info){.signo = SIGUSR1, .code = -6});
	ck_assert(signal_pending(&task));
	ck_assert_int_eq(signal_deliver_pending(&task, &r), 0);
	ck_assert_uint_eq(r.rip, HANDLER);
	ck_assert_uint_eq(r.rdi, SIGUSR1);
	ck_assert_uint_eq(r.rsp % 16, 8);	   /* as right after a call */
	ck_assert(r.rsp < before.rsp - 128);	   /* below the red zone */
	ck_assert_uint_eq(r.rdx, r.rsp + 8);	   /* ucontext after pretcode */
	ck_assert_uint_eq(r.rsi, r.rsp + 8 + 304); /* then siginfo */
	ck_assert_int_eq(uaccess_read(&pt, &pretcode, r.rsp, 8), 0);
	ck_assert_uint_eq(pretcode, RESTORER);
	ck_assert_int_eq(uaccess_read(&pt, &info, r.rsi, sizeof(info)), 0);
	ck_assert_int_eq(info.signo, SIGUSR1);
	ck_assert_int_eq(info.code, -6);
	/* uc_mcontext at 40 in the ucontext: r8..r15, rdi, rsi, rbp, rbx,
	 * rdx, rax, rcx, rsp, rip, eflags. */
	ck_assert_int_eq(uaccess_read(&pt, saved, r.rdx + 40, sizeof(saved)), 0);
	ck_assert_uint_eq(saved[7], 15);
	ck_assert_uint_eq(saved[10], 3);
	ck_assert_uint_eq(saved[13], 1);
	ck_assert_uint_eq(saved[15], before.rsp);
	ck_assert_uint_eq(saved[16], before.rip);
	ck_assert_uint_eq(saved[17], before.rflags);
	ck_assert_int_eq(uaccess_read(&pt, &mask, r.rdx + 40 + 256, 8), 0);
	ck_assert_uint_eq(mask, 0); /* uc_sigmask: the mask before */
	ck_assert_uint_eq(task.sigmask, (1ull << (SIGUSR1 - 1)) | (1ull << (SIGUSR2 - 1)));
	ck_assert(!signal_pending(&task));
	/* The handler returns into the restorer, which calls rt_sigreturn. */
	r.rsp += 8;
	r.rax = SYS_rt_sigreturn;
	r.rcx = RESTORER + 9;
	ck_assert_int_eq(
	    signal_syscall_return(&task,
				  syscall_dispatch(&task, SYS_rt_sigreturn, (uint64_t[6]){0}), &r),
	    0);
	ck_assert_uint_eq(r.rip, before.rip);
	ck_assert_uint_eq(r.rsp, before.rsp);
	ck_assert_uint_eq(r.rax, 1);
	ck_assert_uint_eq(r.rflags & 1, 1);
	ck_assert_uint_eq(task.sigmask, 0);
}
END_TEST

START_TEST(defaults_ignores_and_bad_frames)
{
	struct user_regs r = user_at(0x400000);

	signal_send(&task, &(struct signal_info){.signo = SIGCHLD}); /* ignored by default */
	ck_assert(!signal_pending(&task));
	signal_send(&task, &(struct signal_info){.signo = SIGTERM});
	ck_assert_int_eq(signal_deliver_pending(&task, &r), SIGTERM);
	handle(SIGUSR1, 0, 0);
	proc.sigact[SIGUSR1 - 1].flags &= ~SA_RESTORER_; /* x86-64 requires one */
	signal_send(&task, &(struct signal_info){.signo = SIGUSR1});
	ck_assert_int_eq(signal_deliver_pending(&task, &r), SIGSEGV);
	handle(SIGUSR1, 0, 0);
	r.rsp = 0x10000; /* nothing mapped there: the frame cannot be written */
	signal_send(&task, &(struct signal_info){.signo = SIGUSR1});
	ck_assert_int_eq(signal_deliver_pending(&task, &r), SIGSEGV);
}
END_TEST

START_TEST(faults)
{
	struct signal_fault f = {.signo = SIGSEGV, .code = 1, .addr = 0x10, .vector = 14};
	struct user_regs r = user_at(0x400000);
	struct signal_info info;

	ck_assert(!signal_from_fault(&task, &f, &r)); /* no handler: the default kills */
	handle(SIGSEGV, SA_SIGINFO, 0);
	task.sigmask = 1ull << (SIGSEGV - 1);
	ck_assert(!signal_from_fault(&task, &f, &r)); /* blocked: cannot be held back */
	ck_assert_uint_eq(proc.sigact[SIGSEGV - 1].handler, (uint64_t)(uintptr_t)SIG_DFL);
	handle(SIGSEGV, SA_SIGINFO, 0);
	ck_assert(signal_from_fault(&task, &f, &r));
	ck_assert_uint_eq(r.rip, HANDLER);
	ck_assert_int_eq(uaccess_read(&pt, &info, r.rsi, sizeof(info)), 0);
	ck_assert_int_eq(info.code, 1);
	ck_assert_uint_eq(info.u.fault.addr, 0x10);
}
END_TEST

/* A blocking syscall that came back with -EINTR. */
static struct user_regs interrupted(long *ret)
{
	struct user_regs r = user_at(0);

	r.rax = SYS_read;
	r.rcx = 0x400502; /* after the 2-byte syscall at 0x400500 */
	*ret = -EINTR;
	return r;
}

START_TEST(restart)
{
	struct user_regs r;
	long ret;

	r = interrupted(&ret); /* nothing pending (vmm's own host signal): restart */
	ck_assert_int_eq(signal_syscall_return(&task, ret, &r), 0);
	ck_assert_uint_eq(r.rip, 0x400500);
	ck_assert_uint_eq(r.rax, SYS_read);
	handle(SIGALRM, 0, 0); /* a handler without SA_RESTART: EINTR */
	r = interrupted(&ret);
	signal_send(&task, &(struct signal_info){.signo = SIGALRM});
	ck_assert_int_eq(signal_syscall_return(&task, ret, &r), 0);
	ck_assert_uint_eq(r.rip, HANDLER);
	ck_assert_int_eq(uaccess_read(&pt, &ret, r.rdx + 40 + 13 * 8, 8), 0);
	ck_assert_int_eq(ret, -EINTR); /* the saved rax */
	task.sigmask = 0;
	handle(SIGALRM, SA_RESTART, 0); /* with SA_RESTART: the call again */
	r = interrupted(&ret);
	signal_send(&task, &(struct signal_info){.signo = SIGALRM});
	ck_assert_int_eq(signal_syscall_return(&task, ret, &r), 0);
	ck_assert_int_eq(uaccess_read(&pt, &ret, r.rdx + 40 + 16 * 8, 8), 0);
	ck_assert_uint_eq((uint64_t)ret, 0x400500); /* the saved rip: the syscall */
}
END_TEST

static uint8_t fpu_img[1024], fpu_back[1024];

static int fake_save(void *ctx, void *buf, size_t size)
{
	(void)ctx;
	memcpy(buf, fpu_img, size);
	return 0;
}

static int fake_restore(void *ctx, const void *buf, size_t size)
{
	(void)ctx;
	memcpy(fpu_back, buf, size);
	return 0;
}

/* The FPU image goes below the frame, 64-byte aligned, marked with Linux's
 * FP_XSTATE magic; rt_sigreturn hands the same bytes back. */
START_TEST(fpu_state_in_the_frame)
{
	struct user_regs r = user_at(0x400000);
	uint64_t uc_flags, fpstate;
	uint32_t magic1, magic2;

	for (size_t i = 0; i < sizeof(fpu_img); i++)
		fpu_img[i] = (uint8_t)(i * 7);
	proc.fpu = (struct signal_fpu){fake_save, fake_restore, NULL, sizeof(fpu_img)};
	handle(SIGUSR1, SA_SIGINFO, 0);
	signal_send(&task, &(struct signal_info){.signo = SIGUSR1});
	ck_assert_int_eq(signal_deliver_pending(&task, &r), 0);
	ck_assert_int_eq(uaccess_read(&pt, &uc_flags, r.rdx, 8), 0);
	ck_assert_uint_eq(uc_flags & 1, 1); /* UC_FP_XSTATE */
	ck_assert_int_eq(uaccess_read(&pt, &fpstate, r.rdx + 40 + 184, 8), 0);
	ck_assert_uint_eq(fpstate % 64, 0);
	ck_assert(fpstate > r.rsp && fpstate + sizeof(fpu_img) + 4 <= user_at(0).rsp - 128);
	ck_assert_int_eq(uaccess_read(&pt, &magic1, fpstate + 464, 4), 0);
	ck_assert_uint_eq(magic1, 0x46505853);
	ck_assert_int_eq(uaccess_read(&pt, &magic2, fpstate + sizeof(fpu_img), 4), 0);
	ck_assert_uint_eq(magic2, 0x46505845);
	r.rsp += 8;
	r.rax = SYS_rt_sigreturn;
	ck_assert_int_eq(signal_syscall_return(&task, 0, &r), 0);
	ck_assert_int_eq(memcmp(fpu_back, fpu_img, 464), 0);
	ck_assert_int_eq(memcmp(fpu_back + 512, fpu_img + 512, sizeof(fpu_img) - 512), 0);
}
END_TEST

UNIT_SUITE_MAIN("signal", setup, teardown, 0, frame_layout_and_sigreturn,
		defaults_ignores_and_bad_frames, faults, restart, fpu_state_in_the_frame)
