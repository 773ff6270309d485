/* Reads a static ELF64 x86-64 executable into a private read-only copy and
 * distrusts every header field the loader will use, as Solo5's hvt loader
 * does, plus what Linux's binfmt_elf demands, so that what passes here also
 * runs natively. Nothing is copied into the guest here (that is loader.c). */
#include "kernel/elf.h"

#include "util/err.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Linux refuses a program header table larger than a page (binfmt_elf.c
 * load_elf_phdrs: 73 entries); real static binaries have about a dozen. */
#define ELF_MAX_PHNUM 64u
/* Linux's default vm.mmap_min_addr: an ET_EXEC below it cannot run natively. */
#define ELF_MMAP_MIN_ADDR 0x10000ull
/* Linux maps segments in 4 KiB pages whatever p_align says, so it needs
 * p_vaddr and p_offset congruent modulo the page (binfmt_elf.c elf_map). */
#define ELF_PAGE SZ_4K
/* A static-pie whose segments span more than this is corrupt, not big. */
#define ELF_PIE_MAX_SPAN (1ull << 40)
/* The largest page either translation dimension has: a larger p_align buys
 * nothing, and would make the loader's bias arithmetic overflow-prone. */
#define ELF_MAX_ALIGN SZ_1G
/* Longest PT_INTERP string quoted in a message. */
#define ELF_INTERP_MAX 255u

#define ELF_STATIC_HINT "link it statically (gcc -static or musl-gcc -static)"

/* State of one validation: aligned copies of the headers (libelf hands out
 * pointers into the file, misaligned when e_phoff is), and for each accepted
 * segment the index of its program header, for messages. */
struct elf_check {
	struct elf_image *img;
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	unsigned seg_phdr[ELF_MAX_SEGMENTS];
	Elf64_Ehdr ehdr;
	Elf64_Phdr phdr[ELF_MAX_PHNUM];
};

__attribute__((format(printf, 2, 3))) static int elf_reject(const struct elf_image *img,
							    const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	err_set("elf: %s: %s", img->path, what);
	return ELF_ERR_INVALID;
}

/* A private copy rather than a MAP_PRIVATE file mapping: a file truncated or
 * rewritten while the VMM runs can then neither SIGBUS the loader nor change
 * bytes after they were validated. */
static int elf_read_fd(struct elf_image *img, int fd)
{
	struct stat st;
	size_t size, done = 0;
	void *p;

	if (fstat(fd, &st) != 0)
		return elf_reject(img, "%s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return elf_reject(img, "%s", strerror(EISDIR));
	if (!S_ISREG(st.st_mode))
		return elf_reject(img, "not a regular file");
	if (st.st_size == 0)
		return elf_reject(img, "empty file");
	size = (size_t)st.st_size;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return elf_reject(img, "mmap 0x%zx bytes: %s", size, strerror(errno));
	img->file = p; /* from here on elf_close() unmaps it */
	img->file_size = size;
	while (done < size) {
		ssize_t n = pread(fd, (uint8_t *)p + done, size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return elf_reject(img, "read: %s", strerror(errno));
		if (n == 0)
			return elf_reject(img, "file shrank while reading: %zu of %zu bytes", done,
					  size);
		done += (size_t)n;
	}
	if (mprotect(p, size, PROT_READ) != 0)
		return elf_reject(img, "mprotect: %s", strerror(errno));
	return 0;
}

static int elf_read(struct elf_image *img)
{
	/* O_NONBLOCK: opening a FIFO must fail later, not hang here. */
	int fd = open(img->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int rc;

	if (fd < 0 && errno == ENOENT) {
		/* Spelled out: the caller maps this to exit 127 like a shell. */
		err_set("elf: %s: No such file or directory", img->path);
		return ELF_ERR_NOENT;
	}
	if (fd < 0)
		return elf_reject(img, "%s", strerror(errno));
	rc = elf_read_fd(img, fd);
	close(fd);
	return rc;
}

/* Machines a payload built for something else most likely names, as
 * people say them (uname -m style). */
static const char *elf_arch_name(unsigned machine)
{
	static const struct {
		unsigned machine;
		const char *name;
	} names[] = {
	    {EM_386, "i386"},	 {EM_X86_64, "x86-64"}, {EM_AARCH64, "aarch64"}, {EM_ARM, "arm"},
	    {EM_RISCV, "riscv"}, {EM_PPC, "powerpc"},	{EM_PPC64, "ppc64"},	 {EM_S390, "s390"},
	    {EM_MIPS, "mips"},	 {EM_SPARC, "sparc"},	{EM_SPARCV9, "sparc64"}, {EM_IA_64, "ia64"},
	    {258, "loongarch"}, /* EM_LOONGARCH, missing from older elf.h */
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].machine == machine)
			return names[i].name;
	return NULL;
}

/* e_type and e_machine sit at the same offsets (16, 18) in 32- and 64-bit
 * headers: read them in the file's byte order to say what the file is
 * before checking it as an x86-64 program. */
static int elf_check_kind(const struct elf_image *img)
{
	const uint8_t *id = img->file;
	bool msb = id[EI_DATA] == ELFDATA2MSB;
	unsigned type = msb ? (unsigned)id[16] << 8 | id[17] : (unsigned)id[17] << 8 | id[16];
	unsigned machine = msb ? (unsigned)id[18] << 8 | id[19] : (unsigned)id[19] << 8 | id[18];
	const char *arch = elf_arch_name(machine);

	if (type == ET_CORE)
		return elf_reject(img, "is a core dump (ET_CORE), not a program");
	if (id[EI_CLASS] == ELFCLASS32) {
		if (machine == EM_X86_64)
			return elf_reject(img, "is a 32-bit x32-ABI program; vmm runs x86-64 "
					       "programs only");
		if (arch)
			return elf_reject(
			    img, "is a 32-bit %s program; vmm runs x86-64 programs only", arch);
		return elf_reject(img,
				  "is a 32-bit program (e_machine %u); vmm runs x86-64 "
				  "programs only",
				  machine);
	}
	if (id[EI_CLASS] == ELFCLASS64 && arch && machine != EM_X86_64)
		return elf_reject(img,
				  "is a program for %s (e_machine %u); vmm runs x86-64 "
				  "programs only",
				  arch, machine);
	return 0;
}

/* The search path when PATH is unset. */
#define ELF_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

int elf_find_in_path(const char *name, const char *path_env, char *out, size_t len)
{
	const char *dir = path_env ? path_env : ELF_DEFAULT_PATH;
	struct stat st;

	if (strchr(name, '/') || !*name) {
		if ((size_t)snprintf(out, len, "%s", name) < len)
			return 0;
		err_set("elf: %.60s...: path too long", name);
		return ELF_ERR_INVALID;
	}
	for (;;) {
		size_t n = strcspn(dir, ":");

		if ((size_t)snprintf(out, len, "%.*s%s%s", (int)n, dir, n ? "/" : "", name) < len &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		if (!dir[n])
			break;
		dir += n + 1;
	}
	err_set("elf: %s: not found in PATH (%.200s); give a path with a '/' for a file here", name,
		path_env ? path_env : "unset: " ELF_DEFAULT_PATH);
	return ELF_ERR_NOENT;
}

/* Checked on the raw bytes before libelf sees them: libelf happily converts
 * 32-bit and big-endian files, and says only "not ELF" for a bad magic. */
static int elf_check_ident(const struct elf_image *img)
{
	const uint8_t *id = img->file;

	if (img->file_size < SELFMAG || memcmp(id, ELFMAG, SELFMAG) != 0)
		return elf_reject(img, "not an ELF file (bad magic)");
	/* Enough for e_type and e_machine, which both header sizes have. */
	if (img->file_size >= 20 && elf_check_kind(img))
		return ELF_ERR_INVALID;
	if (img->file_size < sizeof(Elf64_Ehdr))
		return elf_reject(img, "truncated ELF header: %zu bytes < %zu", img->file_size,
				  sizeof(Elf64_Ehdr));
	if (id[EI_CLASS] != ELFCLASS64)
		return elf_reject(img, "EI_CLASS %u is not ELFCLASS64", id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return elf_reject(img, "EI_DATA %u is not ELFDATA2LSB (little endian)",
				  id[EI_DATA]);
	if (id[EI_VERSION] != EV_CURRENT)
		return elf_reject(img, "EI_VERSION %u is not EV_CURRENT", id[EI_VERSION]);
	return 0;
}

static const char *elf_machine_name(unsigned machine)
{
	static const struct {
		unsigned machine;
		const char *name;
	} names[] = {
	    {EM_NONE, "EM_NONE"},     {EM_SPARC, "EM_SPARC"},	  {EM_386, "EM_386"},
	    {EM_MIPS, "EM_MIPS"},     {EM_PPC, "EM_PPC"},	  {EM_PPC64, "EM_PPC64"},
	    {EM_S390, "EM_S390"},     {EM_ARM, "EM_ARM"},	  {EM_IA_64, "EM_IA_64"},
	    {EM_X86_64, "EM_X86_64"}, {EM_AARCH64, "EM_AARCH64"}, {EM_RISCV, "EM_RISCV"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].machine == machine)
			return names[i].name;
	return "unknown";
}

static int elf_check_type(const struct elf_image *img, const Elf64_Ehdr *eh)
{
	switch (eh->e_type) {
	case ET_EXEC:
	case ET_DYN:
		return 0;
	case ET_REL:
		return elf_reject(img, "e_type ET_REL: relocatable object files cannot run "
				       "(link it into an executable)");
	case ET_CORE:
		return elf_reject(img, "e_type ET_CORE: core dumps cannot run");
	default:
		return elf_reject(img, "e_type 0x%x is not ET_EXEC or ET_DYN", eh->e_type);
	}
}

static int elf_check_phdr_table(const struct elf_image *img, const Elf64_Ehdr *eh)
{
	uint64_t size, end;

	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return elf_reject(img, "e_phentsize %u != sizeof(Elf64_Phdr) %zu", eh->e_phentsize,
				  sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0)
		return elf_reject(img, "e_phnum 0: no program headers");
	/* Also refuses PN_XNUM (0xffff), the escape to a count in section 0. */
	if (eh->e_phnum > ELF_MAX_PHNUM)
		return elf_reject(img, "e_phnum %u > %u", eh->e_phnum, ELF_MAX_PHNUM);
	size = (uint64_t)eh->e_phnum * eh->e_phentsize; /* <= 64 * 56 */
	if (__builtin_add_overflow(eh->e_phoff, size, &end))
		return elf_reject(img, "e_phoff 0x%" PRIx64 " + 0x%" PRIx64 " bytes overflows",
				  eh->e_phoff, size);
	if (end > img->file_size)
		return elf_reject(img,
				  "program header table [0x%" PRIx64 ", 0x%" PRIx64
				  ") lies outside the file (0x%zx bytes)",
				  eh->e_phoff, end, img->file_size);
	return 0;
}

static int elf_check_ehdr(const struct elf_image *img, const Elf64_Ehdr *eh)
{
	if (eh->e_version != EV_CURRENT)
		return elf_reject(img, "e_version %u is not EV_CURRENT", eh->e_version);
	if (eh->e_machine != EM_X86_64)
		return elf_reject(img, "e_machine %u (%s) is not EM_X86_64", eh->e_machine,
				  elf_machine_name(eh->e_machine));
	if (elf_check_type(img, eh) != 0)
		return ELF_ERR_INVALID;
	return elf_check_phdr_table(img, eh);
}

/* The interpreter's name is file-controlled text headed for a terminal:
 * quote it only when it is short, printable and NUL-terminated in the file. */
static const char *elf_interp_name(const struct elf_image *img, const Elf64_Phdr *p)
{
	const char *s;
	uint64_t end;
	size_t len;

	if (__builtin_add_overflow(p->p_offset, p->p_filesz, &end) || end > img->file_size)
		return NULL;
	s = (const char *)img->file + p->p_offset;
	len = strnlen(s, p->p_filesz);
	if (len == 0 || len == p->p_filesz || len > ELF_INTERP_MAX)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return NULL;
	return s;
}

/* Checked before the segments: a dynamically linked program is otherwise
 * well formed, and how to rebuild it is the useful message. */
static int elf_check_interp(const struct elf_check *c)
{
	for (unsigned i = 0; i < c->eh->e_phnum; i++) {
		const Elf64_Phdr *p = &c->ph[i];
		const char *name;

		if (p->p_type != PT_INTERP)
			continue;
		name = elf_interp_name(c->img, p);
		if (name)
			return elf_reject(
			    c->img, "dynamically linked (PT_INTERP %s): " ELF_STATIC_HINT, name);
		return elf_reject(c->img, "dynamically linked (PT_INTERP): " ELF_STATIC_HINT);
	}
	return 0;
}

/* The loader copies p_filesz bytes from p_offset: they must be in the file. */
static int elf_check_load_file(const struct elf_image *img, unsigned i, const Elf64_Phdr *p)
{
	uint64_t end;

	if (__builtin_add_overflow(p->p_offset, p->p_filesz, &end))
		return elf_reject(
		    img, "phdr[%u]: p_offset 0x%" PRIx64 " + p_filesz 0x%" PRIx64 " overflows", i,
		    p->p_offset, p->p_filesz);
	if (end > img->file_size)
		return elf_reject(img,
				  "phdr[%u]: file bytes [0x%" PRIx64 ", 0x%" PRIx64
				  ") lie outside the file (0x%zx bytes)",
				  i, p->p_offset, end, img->file_size);
	return 0;
}

/* The whole segment lives in the canonical user half, and an ET_EXEC where
 * Linux would map it too (an ET_DYN's p_vaddr is relative to its bias). */
static int elf_check_load_addr(const struct elf_check *c, unsigned i, const Elf64_Phdr *p)
{
	uint64_t end;

	if (__builtin_add_overflow(p->p_vaddr, p->p_memsz, &end))
		return elf_reject(
		    c->img, "phdr[%u]: p_vaddr 0x%" PRIx64 " + p_memsz 0x%" PRIx64 " overflows", i,
		    p->p_vaddr, p->p_memsz);
	if (end > USER_TOP)
		return elf_reject(c->img,
				  "phdr[%u]: [0x%" PRIx64 ", 0x%" PRIx64
				  ") reaches above the user half (0x%llx)",
				  i, p->p_vaddr, end, USER_TOP);
	if (c->eh->e_type == ET_EXEC && p->p_vaddr < ELF_MMAP_MIN_ADDR)
		return elf_reject(
		    c->img, "phdr[%u]: p_vaddr 0x%" PRIx64 " is below vm.mmap_min_addr 0x%llx", i,
		    p->p_vaddr, ELF_MMAP_MIN_ADDR);
	return 0;
}

/* ELF asks p_vaddr == p_offset modulo p_align; Linux asks it modulo the page
 * even when p_align is smaller. Unsigned wrap-around keeps the difference
 * right modulo any power of two. */
static int elf_check_load_align(const struct elf_image *img, unsigned i, const Elf64_Phdr *p)
{
	uint64_t a = p->p_align, skew = p->p_vaddr - p->p_offset;

	if (a > 1 && (a & (a - 1)) != 0)
		return elf_reject(img, "phdr[%u]: p_align 0x%" PRIx64 " is not a power of two", i,
				  a);
	if (a > ELF_MAX_ALIGN)
		return elf_reject(img, "phdr[%u]: p_align 0x%" PRIx64 " > 1 GiB", i, a);
	if (a > 1 && (skew & (a - 1)) != 0)
		return elf_reject(img,
				  "phdr[%u]: p_vaddr 0x%" PRIx64 " and p_offset 0x%" PRIx64
				  " differ mod p_align 0x%" PRIx64,
				  i, p->p_vaddr, p->p_offset, a);
	if ((skew & (ELF_PAGE - 1)) != 0)
		return elf_reject(img,
				  "phdr[%u]: p_vaddr 0x%" PRIx64 " and p_offset 0x%" PRIx64
				  " differ mod the 4 KiB page",
				  i, p->p_vaddr, p->p_offset);
	return 0;
}

/* ELF requires ascending p_vaddr; the loader and the page-table builder rely
 * on it. Sharing a page is fine, sharing a byte is not. */
static int elf_check_load_order(const struct elf_check *c, unsigned i, const Elf64_Phdr *p)
{
	const struct elf_image *img = c->img;
	const struct elf_segment *prev;
	unsigned j;

	if (img->nsegs == 0)
		return 0;
	prev = &img->segs[img->nsegs - 1];
	j = c->seg_phdr[img->nsegs - 1];
	if (p->p_vaddr < prev->vaddr)
		return elf_reject(img,
				  "phdr[%u]: p_vaddr 0x%" PRIx64 " < p_vaddr 0x%" PRIx64
				  " of phdr[%u] (PT_LOAD segments must be sorted)",
				  i, p->p_vaddr, prev->vaddr, j);
	if (p->p_vaddr < prev->vaddr + prev->memsz)
		return elf_reject(img,
				  "phdr[%u]: [0x%" PRIx64 ", 0x%" PRIx64
				  ") overlaps phdr[%u] [0x%" PRIx64 ", 0x%" PRIx64 ")",
				  i, p->p_vaddr, p->p_vaddr + p->p_memsz, j, prev->vaddr,
				  prev->vaddr + prev->memsz);
	return 0;
}

static int elf_check_load(const struct elf_check *c, unsigned i, const Elf64_Phdr *p)
{
	if (elf_check_load_file(c->img, i, p) != 0 || elf_check_load_addr(c, i, p) != 0 ||
	    elf_check_load_align(c->img, i, p) != 0)
		return ELF_ERR_INVALID;
	/* A page both writable and executable would let the payload write code;
	 * no sane linker output has one. */
	if ((p->p_flags & (PF_W | PF_X)) == (PF_W | PF_X))
		return elf_reject(c->img,
				  "phdr[%u]: segment is writable and executable (W+X refused)", i);
	return elf_check_load_order(c, i, p);
}

static void elf_add_segment(struct elf_check *c, unsigned i, const Elf64_Phdr *p)
{
	struct elf_image *img = c->img;
	struct elf_segment *s = &img->segs[img->nsegs];

	assert(img->nsegs < ELF_MAX_SEGMENTS);
	s->vaddr = p->p_vaddr;
	s->memsz = p->p_memsz;
	s->filesz = p->p_filesz;
	s->offset = p->p_offset;
	s->align = p->p_align ? p->p_align : 1;
	s->prot = ((p->p_flags & PF_R) ? PROT_READ : 0) | ((p->p_flags & PF_W) ? PROT_WRITE : 0) |
		  ((p->p_flags & PF_X) ? PROT_EXEC : 0);
	if (s->align > img->max_align)
		img->max_align = s->align;
	c->seg_phdr[img->nsegs++] = i;
}

/* A PT_LOAD with p_memsz 0 (hence p_filesz 0) is skipped, as Linux maps
 * nothing for it; it takes no slot and no part in the order check. */
static int elf_collect_loads(struct elf_check *c)
{
	struct elf_image *img = c->img;

	img->max_align = ELF_PAGE;
	for (unsigned i = 0; i < c->eh->e_phnum; i++) {
		const Elf64_Phdr *p = &c->ph[i];

		if (p->p_type != PT_LOAD)
			continue;
		if (p->p_filesz > p->p_memsz)
			return elf_reject(img,
					  "phdr[%u]: p_filesz 0x%" PRIx64 " > p_memsz 0x%" PRIx64,
					  i, p->p_filesz, p->p_memsz);
		if (p->p_memsz == 0)
			continue;
		if (img->nsegs == ELF_MAX_SEGMENTS)
			return elf_reject(img, "phdr[%u]: more than %d PT_LOAD segments", i,
					  ELF_MAX_SEGMENTS);
		if (elf_check_load(c, i, p) != 0)
			return ELF_ERR_INVALID;
		elf_add_segment(c, i, p);
	}
	if (img->nsegs == 0)
		return elf_reject(img, "no PT_LOAD segment");
	return 0;
}

/* Segments are sorted and disjoint, so the last one ends highest. */
static int elf_check_pie_span(const struct elf_check *c)
{
	const struct elf_image *img = c->img;
	const struct elf_segment *first = &img->segs[0], *last = &img->segs[img->nsegs - 1];
	uint64_t span = last->vaddr + last->memsz - align_down(first->vaddr, ELF_PAGE);

	if (c->eh->e_type == ET_DYN && span > ELF_PIE_MAX_SPAN)
		return elf_reject(img, "ET_DYN image spans 0x%" PRIx64 " bytes > 1 TiB", span);
	return 0;
}

static int elf_check_entry(const struct elf_check *c)
{
	const struct elf_image *img = c->img;
	uint64_t entry = c->eh->e_entry;

	for (size_t i = 0; i < img->nsegs; i++) {
		const struct elf_segment *s = &img->segs[i];

		if ((s->prot & PROT_EXEC) && entry >= s->vaddr && entry - s->vaddr < s->memsz)
			return 0;
	}
	return elf_reject(img, "e_entry 0x%" PRIx64 " is not inside an executable PT_LOAD segment",
			  entry);
}

/* True when [vaddr, vaddr + size) lies in the file-backed part of a segment. */
static bool elf_file_backed(const struct elf_image *img, uint64_t vaddr, uint64_t size)
{
	for (size_t i = 0; i < img->nsegs; i++) {
		const struct elf_segment *s = &img->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr <= s->filesz &&
		    size <= s->filesz - (vaddr - s->vaddr))
			return true;
	}
	return false;
}

/* AT_PHDR for the payload's libc: PT_PHDR when present (then it must really
 * be loaded), else where a segment maps e_phoff, as Linux computes it. */
static int elf_find_phdr_vaddr(const struct elf_check *c)
{
	struct elf_image *img = c->img;
	uint64_t size = (uint64_t)c->eh->e_phnum * c->eh->e_phentsize, off = c->eh->e_phoff;

	for (unsigned i = 0; i < c->eh->e_phnum; i++) {
		const Elf64_Phdr *p = &c->ph[i];

		if (p->p_type != PT_PHDR)
			continue;
		if (!elf_file_backed(img, p->p_vaddr, size))
			return elf_reject(img,
					  "PT_PHDR p_vaddr 0x%" PRIx64 " (0x%" PRIx64
					  " bytes) is not inside a PT_LOAD segment's file bytes",
					  p->p_vaddr, size);
		img->phdr_vaddr = p->p_vaddr;
		return 0;
	}
	for (size_t i = 0; i < img->nsegs; i++) {
		const struct elf_segment *s = &img->segs[i];

		/* off + size and offset + filesz were checked against the file size. */
		if (s->offset <= off && off + size <= s->offset + s->filesz) {
			img->phdr_vaddr = s->vaddr + (off - s->offset);
			return 0;
		}
	}
	img->phdr_vaddr = 0;
	return 0;
}

/* GElf_Ehdr/GElf_Phdr are Elf64_Ehdr/Elf64_Phdr: gelf copies into ours. */
static int elf_copy_headers(struct elf_check *c, Elf *e)
{
	if (elf_kind(e) != ELF_K_ELF)
		return elf_reject(c->img, "libelf: not an ELF object");
	if (!gelf_getehdr(e, &c->ehdr))
		return elf_reject(c->img, "libelf: gelf_getehdr: %s", elf_errmsg(-1));
	c->eh = &c->ehdr;
	if (elf_check_ehdr(c->img, c->eh) != 0)
		return ELF_ERR_INVALID;
	for (unsigned i = 0; i < c->eh->e_phnum; i++)
		if (!gelf_getphdr(e, (int)i, &c->phdr[i]))
			return elf_reject(c->img, "libelf: gelf_getphdr(%u): %s", i,
					  elf_errmsg(-1));
	c->ph = c->phdr;
	return 0;
}

static int elf_check_headers(struct elf_image *img, Elf *e)
{
	struct elf_check c = {.img = img};

	if (elf_copy_headers(&c, e) != 0)
		return ELF_ERR_INVALID;
	if (elf_check_interp(&c) != 0 || elf_collect_loads(&c) != 0 ||
	    elf_check_pie_span(&c) != 0 || elf_check_entry(&c) != 0 || elf_find_phdr_vaddr(&c) != 0)
		return ELF_ERR_INVALID;
	img->pie = c.eh->e_type == ET_DYN;
	img->entry = c.eh->e_entry;
	img->phnum = c.eh->e_phnum;
	img->phentsize = c.eh->e_phentsize;
	return 0;
}

static int elf_validate(struct elf_image *img)
{
	Elf *e;
	int rc;

	if (elf_check_ident(img) != 0)
		return ELF_ERR_INVALID;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return elf_reject(img, "libelf: elf_version: %s", elf_errmsg(-1));
	/* libelf only reads here (no elf_update): the mapping is read-only. */
	e = elf_memory((char *)img->file, img->file_size);
	if (!e)
		return elf_reject(img, "libelf: elf_memory: %s", elf_errmsg(-1));
	rc = elf_check_headers(img, e);
	elf_end(e);
	return rc;
}

int elf_open(struct elf_image *img, const char *path)
{
	int rc;

	memset(img, 0, sizeof(*img));
	img->path = path;
	rc = elf_read(img);
	if (rc == 0)
		rc = elf_validate(img);
	if (rc != 0)
		elf_close(img);
	return rc;
}

void elf_close(struct elf_image *img)
{
	if (img->file) {
		int rc = munmap((void *)img->file, img->file_size);

		assert(rc == 0); /* our own mapping, exactly as mapped */
		(void)rc;
	}
	memset(img, 0, sizeof(*img));
}
