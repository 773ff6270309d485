/* Crafted ELF files for the tests: a minimal valid static ET_EXEC (its code
 * is exit_group(0), so it also runs natively), a static-pie variant, and a
 * table of mutations, each breaking one rule of elf_open() and naming the
 * message it must give after "elf: PATH: ". Shared by tests/unit/test_elf.c
 * and the end-to-end tests (./vmm run on each must exit 126 with it). */
#ifndef VMM_TESTS_BAD_ELVES_H
#define VMM_TESTS_BAD_ELVES_H

#include <elf.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Layout of the ET_EXEC base: headers and code in one R+X segment, data in an
 * R+W segment with bss after it, and a PT_GNU_STACK. */
#define BAD_ELF_CAP 0x4000
#define BAD_ELF_PH_SLOTS 24
#define BAD_ELF_LEN 0x2100ull
#define BAD_ELF_TEXT_VADDR 0x400000ull
#define BAD_ELF_TEXT_SIZE 0x1010ull /* filesz == memsz: headers + code */
#define BAD_ELF_CODE_OFF 0x1000ull
#define BAD_ELF_ENTRY (BAD_ELF_TEXT_VADDR + BAD_ELF_CODE_OFF)
#define BAD_ELF_DATA_OFF 0x2000ull
#define BAD_ELF_DATA_VADDR 0x602000ull
#define BAD_ELF_DATA_FILESZ 0x100ull
#define BAD_ELF_DATA_MEMSZ 0x2100ull
#define BAD_ELF_DATA_ALIGN 0x200000ull
#define BAD_ELF_INTERP_OFF 0x1800ull
/* The static-pie base: the same segments at vaddr 0 and 0x202000, after a
 * PT_PHDR, plus a PT_DYNAMIC holding DT_NULL at the start of the data. */
#define BAD_ELF_PIE_DATA_VADDR 0x202000ull
#define BAD_ELF_PIE_PHNUM 5

struct bad_elf {
	union {
		struct {
			Elf64_Ehdr eh;
			Elf64_Phdr ph[BAD_ELF_PH_SLOTS];
		};
		uint8_t bytes[BAD_ELF_CAP];
	};
	size_t len; /* bytes of the file: a prefix of bytes[] */
};

_Static_assert(offsetof(struct bad_elf, ph) == sizeof(Elf64_Ehdr), "phdrs follow the ehdr");

static inline Elf64_Phdr bad_elf_phdr(uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
				      uint64_t filesz, uint64_t memsz, uint64_t align)
{
	Elf64_Phdr p = {.p_type = type,
			.p_flags = flags,
			.p_offset = off,
			.p_vaddr = vaddr,
			.p_paddr = vaddr,
			.p_filesz = filesz,
			.p_memsz = memsz,
			.p_align = align};
	return p;
}

static inline void bad_elf_base(struct bad_elf *f)
{
	/* mov $231, %eax (exit_group); xor %edi, %edi; syscall */
	static const uint8_t code[] = {0xb8, 0xe7, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05};
	static const char data[] = "bad_elves data";

	memset(f, 0, sizeof(*f));
	memcpy(f->eh.e_ident, ELFMAG, SELFMAG);
	f->eh.e_ident[EI_CLASS] = ELFCLASS64;
	f->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f->eh.e_ident[EI_VERSION] = EV_CURRENT;
	f->eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
	f->eh.e_type = ET_EXEC;
	f->eh.e_machine = EM_X86_64;
	f->eh.e_version = EV_CURRENT;
	f->eh.e_entry = BAD_ELF_ENTRY;
	f->eh.e_phoff = sizeof(Elf64_Ehdr);
	f->eh.e_ehsize = sizeof(Elf64_Ehdr);
	f->eh.e_phentsize = sizeof(Elf64_Phdr);
	f->eh.e_phnum = 3;
	f->eh.e_shentsize = sizeof(Elf64_Shdr);
	f->ph[0] = bad_elf_phdr(PT_LOAD, PF_R | PF_X, 0, BAD_ELF_TEXT_VADDR, BAD_ELF_TEXT_SIZE,
				BAD_ELF_TEXT_SIZE, 0x1000);
	f->ph[1] = bad_elf_phdr(PT_LOAD, PF_R | PF_W, BAD_ELF_DATA_OFF, BAD_ELF_DATA_VADDR,
				BAD_ELF_DATA_FILESZ, BAD_ELF_DATA_MEMSZ, BAD_ELF_DATA_ALIGN);
	f->ph[2] = bad_elf_phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0x10);
	memcpy(f->bytes + BAD_ELF_CODE_OFF, code, sizeof(code));
	memcpy(f->bytes + BAD_ELF_DATA_OFF + 0x10, data, sizeof(data));
	f->len = BAD_ELF_LEN;
}

static inline void bad_elf_base_pie(struct bad_elf *f)
{
	bad_elf_base(f);
	f->eh.e_type = ET_DYN;
	f->eh.e_entry = BAD_ELF_CODE_OFF;
	f->eh.e_phnum = BAD_ELF_PIE_PHNUM;
	f->ph[0] = bad_elf_phdr(PT_PHDR, PF_R, sizeof(Elf64_Ehdr), sizeof(Elf64_Ehdr),
				BAD_ELF_PIE_PHNUM * sizeof(Elf64_Phdr),
				BAD_ELF_PIE_PHNUM * sizeof(Elf64_Phdr), 8);
	f->ph[1] =
	    bad_elf_phdr(PT_LOAD, PF_R | PF_X, 0, 0, BAD_ELF_TEXT_SIZE, BAD_ELF_TEXT_SIZE, 0x1000);
	f->ph[2] = bad_elf_phdr(PT_LOAD, PF_R | PF_W, BAD_ELF_DATA_OFF, BAD_ELF_PIE_DATA_VADDR,
				BAD_ELF_DATA_FILESZ, BAD_ELF_DATA_MEMSZ, BAD_ELF_DATA_ALIGN);
	/* The first 16 data bytes are zero: a lone DT_NULL entry. */
	f->ph[3] = bad_elf_phdr(PT_DYNAMIC, PF_R | PF_W, BAD_ELF_DATA_OFF, BAD_ELF_PIE_DATA_VADDR,
				sizeof(Elf64_Dyn), sizeof(Elf64_Dyn), 8);
	f->ph[4] = bad_elf_phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0x10);
}

/* Adds a PT_INTERP naming the glibc loader; keep_nul 0 drops its NUL. */
static inline void bad_elf_add_interp(struct bad_elf *f, int keep_nul)
{
	static const char interp[] = "/lib64/ld-linux-x86-64.so.2";

	memcpy(f->bytes + BAD_ELF_INTERP_OFF, interp, sizeof(interp));
	f->ph[f->eh.e_phnum++] = bad_elf_phdr(PT_INTERP, PF_R, BAD_ELF_INTERP_OFF, 0,
					      sizeof(interp) - (keep_nul ? 0 : 1),
					      sizeof(interp) - (keep_nul ? 0 : 1), 1);
}

/* The mutations, one rule each. */
static inline void bad_elf_m_empty(struct bad_elf *f)
{
	f->len = 0;
}
static inline void bad_elf_m_magic(struct bad_elf *f)
{
	f->bytes[EI_MAG1] = 'X';
}
static inline void bad_elf_m_short_ehdr(struct bad_elf *f)
{
	f->len = 40;
}
static inline void bad_elf_m_class32(struct bad_elf *f)
{
	f->eh.e_ident[EI_CLASS] = ELFCLASS32;
}
static inline void bad_elf_m_i386(struct bad_elf *f)
{
	f->eh.e_ident[EI_CLASS] = ELFCLASS32;
	f->eh.e_machine = EM_386;
}
static inline void bad_elf_m_riscv(struct bad_elf *f)
{
	f->eh.e_machine = EM_RISCV;
}
static inline void bad_elf_m_i386_short(struct bad_elf *f)
{
	bad_elf_m_i386(f);
	f->len = 52; /* sizeof(Elf32_Ehdr): less than a 64-bit header */
}
static inline void bad_elf_m_msb(struct bad_elf *f)
{
	f->eh.e_ident[EI_DATA] = ELFDATA2MSB;
}
static inline void bad_elf_m_ident_version(struct bad_elf *f)
{
	f->eh.e_ident[EI_VERSION] = 0;
}
static inline void bad_elf_m_version(struct bad_elf *f)
{
	f->eh.e_version = 2;
}
static inline void bad_elf_m_aarch64(struct bad_elf *f)
{
	f->eh.e_machine = EM_AARCH64;
}
static inline void bad_elf_m_rel(struct bad_elf *f)
{
	f->eh.e_type = ET_REL;
}
static inline void bad_elf_m_core(struct bad_elf *f)
{
	f->eh.e_type = ET_CORE;
}
static inline void bad_elf_m_type_none(struct bad_elf *f)
{
	f->eh.e_type = ET_NONE;
}
static inline void bad_elf_m_phentsize(struct bad_elf *f)
{
	f->eh.e_phentsize = 32;
}
static inline void bad_elf_m_phnum0(struct bad_elf *f)
{
	f->eh.e_phnum = 0;
}
static inline void bad_elf_m_phnum65(struct bad_elf *f)
{
	f->eh.e_phnum = 65;
}
static inline void bad_elf_m_phoff_out(struct bad_elf *f)
{
	f->eh.e_phoff = BAD_ELF_LEN - 8;
}
static inline void bad_elf_m_phoff_wrap(struct bad_elf *f)
{
	f->eh.e_phoff = UINT64_MAX - 8;
}
static inline void bad_elf_m_phdr_cut(struct bad_elf *f)
{
	f->len = sizeof(Elf64_Ehdr) + 100;
}
static inline void bad_elf_m_interp(struct bad_elf *f)
{
	bad_elf_add_interp(f, 1);
}
static inline void bad_elf_m_interp_nonul(struct bad_elf *f)
{
	bad_elf_add_interp(f, 0);
}
static inline void bad_elf_m_filesz(struct bad_elf *f)
{
	f->ph[1].p_filesz = 0x3000;
}
static inline void bad_elf_m_offset_wrap(struct bad_elf *f)
{
	f->ph[1].p_offset = UINT64_MAX - 0x10;
}
static inline void bad_elf_m_file_out(struct bad_elf *f)
{
	f->ph[1].p_filesz = 0x200;
}
static inline void bad_elf_m_vaddr_wrap(struct bad_elf *f)
{
	f->ph[1].p_vaddr = UINT64_MAX - 0x1fff;
}
static inline void bad_elf_m_align_pow2(struct bad_elf *f)
{
	f->ph[1].p_align = 0x3000;
}
static inline void bad_elf_m_align_huge(struct bad_elf *f)
{
	f->ph[1].p_align = 1ull << 31;
}
static inline void bad_elf_m_align_skew(struct bad_elf *f)
{
	f->ph[1].p_vaddr = 0x603000;
}

static inline void bad_elf_m_page_skew(struct bad_elf *f)
{
	f->ph[1].p_align = 0x10; /* congruent mod 16, not mod 4096 */
	f->ph[1].p_vaddr = BAD_ELF_DATA_VADDR + 0x10;
}

static inline void bad_elf_m_wx(struct bad_elf *f)
{
	f->ph[1].p_flags |= PF_X;
}

static inline void bad_elf_m_user_top(struct bad_elf *f)
{
	f->ph[1].p_align = 0x1000;
	f->ph[1].p_vaddr = 0x7fffffffe000;
}

static inline void bad_elf_m_min_addr(struct bad_elf *f)
{
	f->ph[0].p_vaddr = 0x1000;
}

static inline void bad_elf_m_many_loads(struct bad_elf *f)
{
	/* Two loads in the base, 15 more here: the 17th is phdr[17]. */
	for (unsigned k = 0; k < 15; k++)
		f->ph[f->eh.e_phnum++] =
		    bad_elf_phdr(PT_LOAD, PF_R, 0, 0x700000 + k * 0x1000ull, 0, 0x1000, 0x1000);
}

static inline void bad_elf_m_unsorted(struct bad_elf *f)
{
	f->ph[1].p_vaddr = 0x202000;
}
static inline void bad_elf_m_overlap(struct bad_elf *f)
{
	f->ph[0].p_memsz = 0x203000;
}
static inline void bad_elf_m_entry_out(struct bad_elf *f)
{
	f->eh.e_entry = 0x500000;
}
static inline void bad_elf_m_entry_data(struct bad_elf *f)
{
	f->eh.e_entry = BAD_ELF_DATA_VADDR;
}

static inline void bad_elf_m_no_load(struct bad_elf *f)
{
	f->ph[0].p_type = PT_NULL;
	f->ph[1].p_type = PT_NOTE;
}

static inline void bad_elf_m_pie_span(struct bad_elf *f)
{
	bad_elf_base_pie(f);
	f->ph[2].p_vaddr += 1ull << 40; /* still congruent mod p_align */
}

static inline void bad_elf_m_phdr_out(struct bad_elf *f)
{
	f->ph[f->eh.e_phnum++] = bad_elf_phdr(PT_PHDR, PF_R, 0x40, 0x500000, 0xe0, 0xe0, 8);
}

struct bad_elf_case {
	const char *name;
	void (*mutate)(struct bad_elf *f);
	const char *expect; /* elf_open's message after "elf: PATH: " */
};

static inline const struct bad_elf_case *bad_elf_case(size_t i, size_t *count)
{
#define STATIC_HINT "link it statically (gcc -static or musl-gcc -static)"
	static const struct bad_elf_case cases[] = {
	    {"empty", bad_elf_m_empty, "empty file"},
	    {"bad-magic", bad_elf_m_magic, "not an ELF file (bad magic)"},
	    {"short-ehdr", bad_elf_m_short_ehdr, "truncated ELF header: 40 bytes < 64"},
	    {"class32", bad_elf_m_class32,
	     "is a 32-bit x32-ABI program; vmm runs x86-64 programs only"},
	    {"i386", bad_elf_m_i386, "is a 32-bit i386 program; vmm runs x86-64 programs only"},
	    {"i386-short", bad_elf_m_i386_short,
	     "is a 32-bit i386 program; vmm runs x86-64 programs only"},
	    {"riscv", bad_elf_m_riscv,
	     "is a program for riscv (e_machine 243); vmm runs x86-64 programs only"},
	    {"big-endian", bad_elf_m_msb, "EI_DATA 2 is not ELFDATA2LSB (little endian)"},
	    {"ident-version", bad_elf_m_ident_version, "EI_VERSION 0 is not EV_CURRENT"},
	    {"e-version", bad_elf_m_version, "e_version 2 is not EV_CURRENT"},
	    {"aarch64", bad_elf_m_aarch64,
	     "is a program for aarch64 (e_machine 183); vmm runs x86-64 programs only"},
	    {"et-rel", bad_elf_m_rel,
	     "e_type ET_REL: relocatable object files cannot run (link it into an executable)"},
	    {"et-core", bad_elf_m_core, "is a core dump (ET_CORE), not a program"},
	    {"et-none", bad_elf_m_type_none, "e_type 0x0 is not ET_EXEC or ET_DYN"},
	    {"phentsize", bad_elf_m_phentsize, "e_phentsize 32 != sizeof(Elf64_Phdr) 56"},
	    {"phnum-0", bad_elf_m_phnum0, "e_phnum 0: no program headers"},
	    {"phnum-65", bad_elf_m_phnum65, "e_phnum 65 > 64"},
	    {"phoff-outside", bad_elf_m_phoff_out,
	     "program header table [0x20f8, 0x21a0) lies outside the file (0x2100 bytes)"},
	    {"phoff-overflow", bad_elf_m_phoff_wrap,
	     "e_phoff 0xfffffffffffffff7 + 0xa8 bytes overflows"},
	    {"phdr-truncated", bad_elf_m_phdr_cut,
	     "program header table [0x40, 0xe8) lies outside the file (0xa4 bytes)"},
	    {"interp", bad_elf_m_interp,
	     "dynamically linked (PT_INTERP /lib64/ld-linux-x86-64.so.2): " STATIC_HINT},
	    {"interp-no-nul", bad_elf_m_interp_nonul,
	     "dynamically linked (PT_INTERP): " STATIC_HINT},
	    {"filesz-gt-memsz", bad_elf_m_filesz, "phdr[1]: p_filesz 0x3000 > p_memsz 0x2100"},
	    {"offset-overflow", bad_elf_m_offset_wrap,
	     "phdr[1]: p_offset 0xffffffffffffffef + p_filesz 0x100 overflows"},
	    {"file-bytes-outside", bad_elf_m_file_out,
	     "phdr[1]: file bytes [0x2000, 0x2200) lie outside the file (0x2100 bytes)"},
	    {"vaddr-overflow", bad_elf_m_vaddr_wrap,
	     "phdr[1]: p_vaddr 0xffffffffffffe000 + p_memsz 0x2100 overflows"},
	    {"align-not-pow2", bad_elf_m_align_pow2,
	     "phdr[1]: p_align 0x3000 is not a power of two"},
	    {"align-huge", bad_elf_m_align_huge, "phdr[1]: p_align 0x80000000 > 1 GiB"},
	    {"align-skew", bad_elf_m_align_skew,
	     "phdr[1]: p_vaddr 0x603000 and p_offset 0x2000 differ mod p_align 0x200000"},
	    {"page-skew", bad_elf_m_page_skew,
	     "phdr[1]: p_vaddr 0x602010 and p_offset 0x2000 differ mod the 4 KiB page"},
	    {"w+x", bad_elf_m_wx, "phdr[1]: segment is writable and executable (W+X refused)"},
	    {"above-user-top", bad_elf_m_user_top,
	     "phdr[1]: [0x7fffffffe000, 0x800000000100) reaches above the user half "
	     "(0x7ffffffff000)"},
	    {"below-mmap-min-addr", bad_elf_m_min_addr,
	     "phdr[0]: p_vaddr 0x1000 is below vm.mmap_min_addr 0x10000"},
	    {"too-many-loads", bad_elf_m_many_loads, "phdr[17]: more than 16 PT_LOAD segments"},
	    {"unsorted", bad_elf_m_unsorted,
	     "phdr[1]: p_vaddr 0x202000 < p_vaddr 0x400000 of phdr[0] (PT_LOAD segments must "
	     "be sorted)"},
	    {"overlap", bad_elf_m_overlap,
	     "phdr[1]: [0x602000, 0x604100) overlaps phdr[0] [0x400000, 0x603000)"},
	    {"entry-outside", bad_elf_m_entry_out,
	     "e_entry 0x500000 is not inside an executable PT_LOAD segment"},
	    {"entry-in-data", bad_elf_m_entry_data,
	     "e_entry 0x602000 is not inside an executable PT_LOAD segment"},
	    {"no-load", bad_elf_m_no_load, "no PT_LOAD segment"},
	    {"pie-span", bad_elf_m_pie_span, "ET_DYN image spans 0x10000204100 bytes > 1 TiB"},
	    {"phdr-not-loaded", bad_elf_m_phdr_out,
	     "PT_PHDR p_vaddr 0x500000 (0xe0 bytes) is not inside a PT_LOAD segment's file "
	     "bytes"},
	};
#undef STATIC_HINT
	if (count)
		*count = sizeof(cases) / sizeof(cases[0]);
	return i < sizeof(cases) / sizeof(cases[0]) ? &cases[i] : NULL;
}

static inline size_t bad_elf_count(void)
{
	size_t n;

	bad_elf_case(0, &n);
	return n;
}

static inline const char *bad_elf_name(size_t i)
{
	return bad_elf_case(i, NULL)->name;
}
static inline const char *bad_elf_expect(size_t i)
{
	return bad_elf_case(i, NULL)->expect;
}

/* The ET_EXEC base with mutation i applied (some start from the pie base). */
static inline void bad_elf_build(size_t i, struct bad_elf *f)
{
	bad_elf_base(f);
	bad_elf_case(i, NULL)->mutate(f);
}

/* Writes f as an executable file at path: 0, or -1 with errno set. */
static inline int bad_elf_write(const struct bad_elf *f, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < f->len) {
		ssize_t n = write(fd, f->bytes + done, f->len - done);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	if (fchmod(fd, 0755) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

#endif
