/* vmm's seccomp filter, installed in a forked child as the run loop would
 * install it: what the run loop needs still works, and a forbidden call
 * (execve, KVM's ioctls on another fd, new executable memory) ends the
 * process with status 125 and a message naming the call. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "util/err.h"
#include "vm/seccomp.h"

enum attempt {
	TRY_ALLOWED,
	TRY_EXECVE,
	TRY_KVM_IOCTL,
	TRY_EXEC_MMAP,
	TRY_SOCKET,
	TRY_VM_FD_IOCTL,   /* any ioctl on the fd given as the VM's */
	TRY_VCPU_FD_IOCTL, /* ... as the vCPU's */
};

/* The child: confined, then one attempt. Exit 0 means it was allowed. */
static void child(int err_fd, enum attempt a)
{
	int fds[2];
	char c = 'x';
	struct confine_fds kvm = {.kvm_fds = {-1, -1}};

	dup2(err_fd, 2);
	if (pipe(fds) < 0)
		_exit(3);
	/* The filter's fd comparisons are filled in at install time. */
	if (a == TRY_VM_FD_IOCTL)
		kvm.kvm_fds[0] = fds[0];
	if (a == TRY_VCPU_FD_IOCTL)
		kvm.kvm_fds[1] = fds[0];
	if (confine_install(&kvm) < 0) {
		fprintf(stderr, "set-up: %s\n", err_msg());
		_exit(3);
	}
	switch (a) {
	case TRY_ALLOWED: /* I/O, memory, time: what the run loop does */
		if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1)
			_exit(4);
		if (mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		    MAP_FAILED)
			_exit(5);
		free(malloc(1 << 20));
		_exit(0);
	case TRY_EXECVE:
		execl("/bin/true", "true", (char *)NULL);
		break;
	case TRY_KVM_IOCTL:
		ioctl(fds[0], KVM_CREATE_VM, 0);
		break;
	case TRY_EXEC_MMAP:
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case TRY_SOCKET:
		socket(AF_INET, SOCK_STREAM, 0);
		break;
	case TRY_VM_FD_IOCTL:
	case TRY_VCPU_FD_IOCTL:
		/* Allowed, and a pipe says ENOTTY; the other end stays forbidden. */
		if (ioctl(fds[0], KVM_CREATE_VM, 0) != -1 || errno != ENOTTY)
			_exit(6);
		ioctl(fds[1], KVM_CREATE_VM, 0);
		break;
	}
	_exit(0);
}

/* Runs the attempt; returns its exit status and what it said on stderr. */
static int attempt(enum attempt a, char *msg, size_t len)
{
	int p[2], st;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		child(p[1], a);
	}
	close(p[1]);
	size_t got = 0;

	while (got < len - 1 && (n = read(p[0], msg + got, len - 1 - got)) > 0)
		got += (size_t)n;
	msg[got] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "attempt %d: killed by signal %d", a, WTERMSIG(st));
	return WEXITSTATUS(st);
}

START_TEST(allowed_calls_work)
{
	char msg[256];

	ck_assert_int_eq(attempt(TRY_ALLOWED, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
}
END_TEST

START_TEST(forbidden_calls_end_the_process)
{
	static const struct {
		enum attempt a;
		const char *said;
	} cases[] = {
	    {TRY_EXECVE, "vmm: seccomp: forbidden syscall execve 59\n"},
	    {TRY_KVM_IOCTL, "vmm: seccomp: forbidden syscall ioctl 16\n"},
	    {TRY_EXEC_MMAP, "vmm: seccomp: forbidden syscall mmap 9\n"},
	    {TRY_SOCKET, "vmm: seccomp: forbidden syscall socket 41\n"},
	    {TRY_VM_FD_IOCTL, "vmm: seccomp: forbidden syscall ioctl 16\n"},
	    {TRY_VCPU_FD_IOCTL, "vmm: seccomp: forbidden syscall ioctl 16\n"},
	};
	char msg[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(attempt(cases[i].a, msg, sizeof(msg)), 125);
		ck_assert_str_eq(msg, cases[i].said);
	}
}
END_TEST

UNIT_SUITE_MAIN("seccomp", NULL, NULL, 0, allowed_calls_work, forbidden_calls_end_the_process)
