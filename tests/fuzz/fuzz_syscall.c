/* libFuzzer harness: register values and guest memory contents against
 * syscall_dispatch on a KVM-free guest. An input is the bytes of a data
 * region followed by up to FUZZ_MAX_CALLS syscalls; each argument is
 * steered by a selector byte towards raw values, the data region and its
 * edges, small numbers or the borders of the address space, so the
 * fuzzer reaches the handlers' checks instead of bouncing off -EFAULT. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fuzz.h"
#include "guest/uaccess.h"
#include "kernel/syscall.h"

#define DATA_VA 0x500000ull
#define DATA_SIZE 0x4000ull /* read-write, the input's bytes */
#define RO_VA (DATA_VA + DATA_SIZE)
#define FUZZ_MAX_CALLS 16

struct call {
	uint16_t nr;
	uint8_t sel[6];
	uint64_t val[6];
} __attribute__((packed));

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The payload's fd 0 is the VMM's: make reads from it end at once. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_RDONLY);

	(void)argc;
	(void)argv;
	if (fd < 0 || dup2(fd, 0) < 0)
		abort();
	close(fd);
	return 0;
}

static int no_region_edge(void *ctx, bool enable)
{
	(void)ctx;
	(void)enable;
	return 0;
}

static uint64_t steer(uint8_t sel, uint64_t v)
{
	switch (sel % 6) {
	case 1:
		return DATA_VA + v % (DATA_SIZE + 2 * SZ_4K); /* data, read-only, unmapped */
	case 2:
		return v % 64;
	case 3:
		return v & 0xffffffff;
	case 4:
		return (v & 1) ? USER_TOP - (v >> 1) % 0x10000
			       : DIRECT_MAP_VA + (v >> 1) % FUZZ_MEM;
	case 5:
		return -(v % 4096); /* -1, -EFAULT, small negative lengths */
	default:
		return v;
	}
}

/* Sleeps would sleep on the host for as long as the input asks; waiting
 * for a signal, on a pipe of its own or on a futex nobody wakes would wait
 * for ever; timers would send host signals into the fuzzer's own process.
 * (futex has its own unit tests, tests/unit/test_futex.c.) */
static bool skipped(uint64_t nr)
{
	switch (nr) {
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
	case SYS_pause:
	case SYS_rt_sigsuspend:
	case SYS_rt_sigtimedwait:
	case SYS_poll:
	case SYS_ppoll:
	case SYS_select:
	case SYS_pselect6:
	case SYS_pipe:
	case SYS_pipe2:
	case SYS_alarm:
	case SYS_setitimer:
	case SYS_timer_create:
	case SYS_timer_settime:
	case SYS_futex:
		return true;
	default:
		return false;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_guest g;
	struct process proc;
	struct task task;
	size_t memlen, i, ncalls;

	if (size < 2)
		return 0;
	memlen = (size_t)(data[0] | data[1] << 8) % (DATA_SIZE + 1);
	if (memlen > size - 2)
		memlen = size - 2;
	fuzz_guest_up(&g);
	if (mm_map_fixed(&g.mm, DATA_VA, DATA_SIZE, PROT_READ | PROT_WRITE, 0) < 0 ||
	    mm_map_fixed(&g.mm, RO_VA, SZ_4K, PROT_READ, 0) < 0 ||
	    uaccess_write(&g.pt, DATA_VA, data + 2, memlen) < 0)
		abort();
	process_init(&proc, &g.mm, g.mem.size);
	proc.region_edge = no_region_edge;
	task_init(&task, &proc);
	data += 2 + memlen;
	size -= 2 + memlen;
	ncalls = size / sizeof(struct call);
	for (i = 0; i < ncalls && i < FUZZ_MAX_CALLS; i++) {
		struct call c;
		uint64_t args[6], nr;
		int k;

		memcpy(&c, data + i * sizeof(c), sizeof(c));
		nr = c.nr < 0xff00 ? c.nr % 512 : c.val[0] ^ ((uint64_t)c.nr << 48);
		if (skipped(nr))
			continue;
		for (k = 0; k < 6; k++)
			args[k] = steer(c.sel[k], c.val[k]);
		err_clear();
		(void)syscall_dispatch(&task, nr, args);
		if (g.mm.failed || proc.exited || task.exited || task.pending)
			break;
	}
	process_destroy(&proc); /* its fds and timers */
	fuzz_guest_down(&g);
	return 0;
}
