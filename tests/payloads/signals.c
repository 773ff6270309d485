/* Signals as Linux delivers them: fault handlers with siginfo (recover by
 * siglongjmp, or by fixing the cause and returning), masks and pending
 * sets, SA_RESETHAND, SA_NODEFER, the alternate stack, a timing loop
 * driven by setitimer, a timer_create timer, a blocked read interrupted
 * (EINTR) or restarted (SA_RESTART), SIGPIPE. With an argument it dies:
 * "abort" (134), "alarm" (142), "segv" (139), "pipe" (141). The e2e test
 * compares output and status with the native run. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile sig_atomic_t got, depth, maxdepth, calls;
static volatile int si_code_seen;
static void *volatile si_addr_seen;
static volatile char *page;
static int *volatile bad = (int *)0x10; /* the compiler cannot see it is bad */
static char altstack[65536];
static volatile int on_alt;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got = sig;
	si_code_seen = si->si_code;
	si_addr_seen = si->si_addr;
	siglongjmp(jb, 1);
}

static void on_fault_fix(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got = sig;
	si_addr_seen = si->si_addr;
	mprotect((void *)page, 4096, PROT_READ | PROT_WRITE); /* then the write is retried */
}

static void on_count(int sig)
{
	(void)sig;
	got++;
}

/* A handler that wrecks SSE registers: the kernel must give the
 * interrupted code its own back (the frame's fpstate). */
static void on_clobber(int sig)
{
	(void)sig;
	got++;
	__asm__ volatile("pxor %%xmm8, %%xmm8\n\tpxor %%xmm0, %%xmm0" ::: "xmm0", "xmm8");
}

static void on_nested(int sig)
{
	depth++;
	if (depth > maxdepth)
		maxdepth = depth;
	if (++calls < 3)
		raise(sig);
	depth--;
}

static void on_alt_check(int sig)
{
	char here;

	(void)sig;
	on_alt = &here >= altstack && &here < altstack + sizeof(altstack);
}

/* On the alternate stack: what sigaltstack says of it, and whether a new
 * one can be set from there (Linux: SS_ONSTACK, EPERM). */
static int alt_flags, alt_set_errno;
static void on_alt_query(int sig)
{
	stack_t cur, again = {.ss_sp = altstack, .ss_size = sizeof(altstack)};

	(void)sig;
	sigaltstack(NULL, &cur);
	alt_flags = cur.ss_flags;
	alt_set_errno = sigaltstack(&again, NULL) == 0 ? 0 : errno;
}

static int pipefd[2];
static void on_alarm_write(int sig)
{
	(void)sig;
	got++;
	write(pipefd[1], "w", 1);
}

static void set(int sig, void (*h)(int), void (*sa)(int, siginfo_t *, void *), int flags)
{
	struct sigaction act = {0};

	if (sa) {
		act.sa_sigaction = sa;
		flags |= SA_SIGINFO;
	} else
		act.sa_handler = h;
	act.sa_flags = flags;
	sigemptyset(&act.sa_mask);
	sigaction(sig, &act, NULL);
}

static void faults(void)
{
	volatile int zero = 0, one = 1;

	set(SIGSEGV, NULL, on_fault, 0);
	if (!sigsetjmp(jb, 1))
		*bad = 1;
	printf("segv: sig %d code %d (MAPERR %d) addr %p\n", got, si_code_seen, SEGV_MAPERR,
	       si_addr_seen);
	page = (volatile char *)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	got = 0;
	if (!sigsetjmp(jb, 1))
		page[8] = 1;
	printf("segv on read-only: sig %d code %d (ACCERR %d) at offset %ld\n", got, si_code_seen,
	       SEGV_ACCERR, (long)((char *)si_addr_seen - (char *)page));
	set(SIGSEGV, NULL, on_fault_fix, 0);
	got = 0;
	page[16] = 42; /* faults once; the handler makes it writable */
	printf("fixed and retried: sig %d, value %d\n", got, page[16]);
	set(SIGFPE, NULL, on_fault, 0);
	got = 0;
	if (!sigsetjmp(jb, 1))
		zero = one / zero;
	printf("fpe: sig %d code %d (INTDIV %d)\n", got, si_code_seen, FPE_INTDIV);
	set(SIGILL, NULL, on_fault, 0);
	got = 0;
	if (!sigsetjmp(jb, 1))
		__asm__ volatile("ud2");
	printf("ill: sig %d code %d (ILLOPN %d)\n", got, si_code_seen, ILL_ILLOPN);
	set(SIGTRAP, on_count, NULL, 0);
	got = 0;
	__asm__ volatile("int3"); /* a trap: the handler returns after it */
	printf("trap: handled %d times, resumed\n", got);
	/* A blocked fault signal cannot be held back: covered by "segv" mode. */
}

static void masks(void)
{
	sigset_t s, pend;

	set(SIGUSR1, on_count, NULL, 0);
	got = 0;
	raise(SIGUSR1);
	printf("raise: handled %d\n", got);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, NULL);
	kill(getpid(), SIGUSR1);
	sigpending(&pend);
	printf("blocked: handled %d, pending %d\n", got, sigismember(&pend, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	printf("unblocked: handled %d\n", got);
	set(SIGUSR2, on_count, NULL, SA_RESETHAND);
	got = 0;
	raise(SIGUSR2);
	struct sigaction old;
	sigaction(SIGUSR2, NULL, &old);
	printf("resethand: handled %d, now default %d\n", got, old.sa_handler == SIG_DFL);
	set(SIGUSR1, on_nested, NULL, 0);
	depth = maxdepth = calls = 0;
	raise(SIGUSR1);
	printf("deferred: max depth %d, calls %d\n", maxdepth, calls);
	set(SIGUSR1, on_nested, NULL, SA_NODEFER);
	depth = maxdepth = calls = 0;
	raise(SIGUSR1);
	printf("nodefer: max depth %d, calls %d\n", maxdepth, calls);
	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	printf("ignored: still here\n");
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	sigaltstack(&ss, NULL);
	set(SIGUSR2, on_alt_check, NULL, SA_ONSTACK);
	raise(SIGUSR2);
	printf("onstack: handler ran on the alternate stack %d\n", on_alt);
	set(SIGUSR2, on_alt_check, NULL, 0);
	raise(SIGUSR2);
	printf("without SA_ONSTACK: on the alternate stack %d\n", on_alt);
	set(SIGUSR2, on_alt_query, NULL, SA_ONSTACK);
	raise(SIGUSR2);
	printf("sigaltstack on it: flags %d (SS_ONSTACK %d), set again: errno %d (EPERM %d)\n",
	       alt_flags, SS_ONSTACK, alt_set_errno, EPERM);
	stack_t cur;
	sigaltstack(NULL, &cur);
	printf("sigaltstack off it: flags %d, same stack %d\n", cur.ss_flags,
	       cur.ss_sp == altstack && cur.ss_size == sizeof(altstack));
	ss.ss_flags = 3; /* neither 0, SS_ONSTACK nor SS_DISABLE */
	int bad = sigaltstack(&ss, NULL);
	printf("sigaltstack bad flags: %d errno %d (EINVAL %d)\n", bad, errno, EINVAL);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	sigaltstack(NULL, &cur);
	printf("sigaltstack disabled: flags %d (SS_DISABLE %d)\n", cur.ss_flags, SS_DISABLE);
}

static void timers(void)
{
	struct itimerval it = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
	struct timespec t0, t1;
	unsigned long spins = 0;
	timer_t tid;
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	struct itimerspec its = {.it_interval = {0, 5000000}, .it_value = {0, 5000000}};
	sigset_t s, old;
	char c;
	ssize_t n;

	/* An alarm-driven timing loop: spin until 5 ticks of 10 ms. */
	set(SIGALRM, on_count, NULL, 0);
	got = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	setitimer(ITIMER_REAL, &it, NULL);
	while (got < 5)
		spins++;
	it = (struct itimerval){0};
	setitimer(ITIMER_REAL, &it, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("itimer loop: 5 ticks, took >= 45 ms %d, spun %d\n", ms >= 45, spins > 0);
	/* timer_create on CLOCK_MONOTONIC, waited for with sigsuspend. */
	set(SIGUSR1, on_count, NULL, 0);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, &old);
	got = 0;
	printf("timer_create: %d\n", timer_create(CLOCK_MONOTONIC, &sev, &tid));
	timer_settime(tid, 0, &its, NULL);
	while (got < 3)
		sigsuspend(&old);
	timer_delete(tid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("timer_create: 3 signals through sigsuspend\n");
	/* A blocked read: EINTR without SA_RESTART, restarted with it. */
	pipe(pipefd);
	set(SIGALRM, on_count, NULL, 0);
	got = 0;
	alarm(1);
	n = read(pipefd[0], &c, 1);
	printf("read interrupted: %zd %s, handled %d\n", n, n < 0 ? strerror(errno) : "", got);
	set(SIGALRM, on_alarm_write, NULL, SA_RESTART);
	got = 0;
	it = (struct itimerval){.it_value = {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	n = read(pipefd[0], &c, 1);
	printf("read restarted: %zd '%c', handled %d\n", n, c, got);
	printf("alarm left: %u\n", alarm(0));
	/* SSE state across handlers: xmm8 holds pi while ticks clobber it. */
	double pi = 3.14159, out = 0;
	set(SIGALRM, on_clobber, NULL, 0);
	got = 0;
	it = (struct itimerval){.it_interval = {0, 5000}, .it_value = {0, 5000}};
	setitimer(ITIMER_REAL, &it, NULL);
	__asm__ volatile("movsd %[pi], %%xmm8\n"
			 "1: cmpl $3, %[got]\n\t"
			 "jl 1b\n\t"
			 "movsd %%xmm8, %[out]"
			 : [out] "=m"(out)
			 : [pi] "m"(pi), [got] "m"(got)
			 : "xmm8", "cc");
	it = (struct itimerval){0};
	setitimer(ITIMER_REAL, &it, NULL);
	printf("xmm8 kept across 3 handlers: %d\n", out == pi);
}

static void pipes(void)
{
	int p[2];

	pipe(p);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	ssize_t w = write(p[1], "x", 1);
	printf("sigpipe ignored: %zd %s\n", w, strerror(errno));
	set(SIGPIPE, on_count, NULL, 0);
	got = 0;
	ssize_t n = write(p[1], "x", 1);
	printf("sigpipe handled: %zd %s, handled %d\n", n, strerror(errno), got);
	close(p[1]);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "abort") == 0)
		abort();
	if (argc > 1 && strcmp(argv[1], "alarm") == 0) {
		alarm(1);
		pause();
	}
	if (argc > 1 && strcmp(argv[1], "segv") == 0) {
		sigset_t s;
		signal(SIGSEGV, on_count);
		sigemptyset(&s);
		sigaddset(&s, SIGSEGV);
		sigprocmask(SIG_BLOCK, &s, NULL); /* blocked: still kills */
		*bad = 1;
	}
	if (argc > 1 && strcmp(argv[1], "pipe") == 0) {
		int p[2];
		pipe(p);
		close(p[0]);
		write(p[1], "x", 1);
	}
	if (argc > 1)
		return 99;
	faults();
	masks();
	timers();
	pipes();
	return 0;
}
