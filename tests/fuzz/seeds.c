/* Writes the generated part of the fuzzers' seed corpus into DIR: the
 * crafted ELF files of tests/unit/bad_elves.h (the valid bases and every
 * mutation) for fuzz_elf, and a few well-formed syscall sequences for
 * fuzz_syscall. Usage: seeds DIR (DIR/elf and DIR/syscall must exist). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "bad_elves.h"

#define DATA_VA 0x500000ull /* as in fuzz_syscall.c */

struct call {
	uint16_t nr;
	uint8_t sel[6];
	uint64_t val[6];
} __attribute__((packed));

static void put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void elves(const char *dir)
{
	static struct bad_elf f;
	char name[128];

	bad_elf_base(&f);
	put(dir, "base", f.bytes, f.len);
	bad_elf_base_pie(&f);
	put(dir, "base-pie", f.bytes, f.len);
	for (size_t i = 0; i < bad_elf_count(); i++) {
		bad_elf_build(i, &f);
		snprintf(name, sizeof(name), "bad-%s", bad_elf_name(i));
		put(dir, name, f.bytes, f.len);
	}
}

/* Selector 0: the raw value; 1: DATA_VA + value (fuzz_syscall.c's steer). */
static void calls(const char *dir, const char *name, const struct call *c, size_t n)
{
	uint8_t buf[2 + 64 + 16 * sizeof(struct call)];
	static const char text[] = "/dev/null\0hello, fuzz\n";

	memset(buf, 0, sizeof(buf));
	buf[0] = 64;
	memcpy(buf + 2, text, sizeof(text));
	memcpy(buf + 2 + 64, c, n * sizeof(*c));
	put(dir, name, buf, 2 + 64 + n * sizeof(*c));
}

static void syscalls(const char *dir)
{
	const struct call io[] = {
	    {SYS_write, {0, 1, 0}, {1, 10, 12}},
	    {SYS_writev, {0, 1, 0}, {1, 0x30, 1}},
	    {SYS_read, {0, 1, 0}, {0, 0x100, 64}},
	    {SYS_fstat, {0, 1}, {1, 0x200}},
	    {SYS_uname, {1}, {0x400}},
	};
	const struct call mem[] = {
	    {SYS_mmap, {0, 0, 0, 0, 0, 0}, {0, 0x3000, PROT_READ | PROT_WRITE, 0x22, -1ull, 0}},
	    {SYS_mprotect, {1, 0, 0}, {0x1000, 0x1000, PROT_READ}},
	    {SYS_munmap, {1, 0}, {0x2000, 0x2000}},
	    {SYS_brk, {0}, {0}},
	    {SYS_madvise, {1, 0, 0}, {0, 0x2000, 14}},
	    {SYS_mremap, {1, 0, 0, 0, 0}, {0, 0x1000, 0x3000, 1, 0}},
	};
	const struct call misc[] = {
	    {SYS_clock_gettime, {0, 1}, {1, 0x100}},
	    {SYS_rt_sigaction, {0, 1, 1, 0}, {13, 0x100, 0x200, 8}},
	    {SYS_rt_sigprocmask, {0, 1, 1, 0}, {0, 0x100, 0x200, 8}},
	    {SYS_prctl, {0}, {31}},
	    {SYS_arch_prctl, {0, 0}, {0x1002, 0x10000}},
	    {SYS_getrandom, {1, 0, 0}, {0x100, 32, 0}},
	    {SYS_prlimit64, {0, 0, 0, 1}, {0, 3, 0, 0x100}},
	    {SYS_exit_group, {0}, {3}},
	};

	calls(dir, "io", io, sizeof(io) / sizeof(io[0]));
	calls(dir, "mem", mem, sizeof(mem) / sizeof(mem[0]));
	calls(dir, "misc", misc, sizeof(misc) / sizeof(misc[0]));
}

int main(int argc, char **argv)
{
	char dir[512];

	if (argc != 2) {
		fprintf(stderr, "usage: seeds DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/elf", argv[1]);
	elves(dir);
	snprintf(dir, sizeof(dir), "%s/syscall", argv[1]);
	syscalls(dir);
	return 0;
}
