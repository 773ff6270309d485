/* ELF segments into guest memory and the initial stack. Segments were
 * validated by elf.c; here every address is only offset by the load bias.
 * Two segments may share a page (their bytes do not overlap): that page
 * gets the later segment's permissions, as Linux's MAP_FIXED mapping of
 * the later one would (and never the W+X union). */
#include "kernel/loader.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "kernel/vdso.h"
#include "util/err.h"

struct fill_ctx {
	const uint8_t *src;
};

/* The VMM writes segment bytes even into pages the payload may not write. */
static long fill_piece(void *ctx, void *host, size_t n)
{
	struct fill_ctx *c = ctx;

	memcpy(host, c->src, n);
	c->src += n;
	return 0;
}

static int loader_copy(struct mm *mm, gva_t dst, const void *src, uint64_t len)
{
	struct fill_ctx c = {.src = src};

	if (uaccess_each(mm->pt, dst, len, PT_READ, fill_piece, &c) < 0)
		return err_set("loader: cannot write 0x%llx bytes at 0x%llx",
			       (unsigned long long)len, (unsigned long long)dst);
	return 0;
}

static int loader_segment(struct mm *mm, const struct elf_image *img, const struct elf_segment *s,
			  uint64_t bias, gva_t *mapped_end)
{
	gva_t start = align_down(s->vaddr + bias, SZ_4K);
	gva_t end = align_up(s->vaddr + bias + s->memsz, SZ_4K);
	if (start < *mapped_end) {
		/* The first page already belongs to the previous segment. */
		if (mm_sys_mprotect(mm, start, SZ_4K, (uint64_t)s->prot) < 0)
			return err_set("loader: segment at 0x%llx: cannot share its first page",
				       (unsigned long long)start);
		start += SZ_4K;
	}
	if (end > start && mm_map_fixed(mm, start, end - start, s->prot, VMA_ELF) < 0)
		return -1;
	if (end > *mapped_end)
		*mapped_end = end;
	return loader_copy(mm, s->vaddr + bias, img->file + s->offset, s->filesz);
}

/* A string table and pointer array builder that grows down from the top. */
struct stack_builder {
	struct mm *mm;
	gva_t sp;
	int err;
};

static gva_t stack_push_bytes(struct stack_builder *b, const void *data, size_t len)
{
	b->sp -= len;
	if (loader_copy(b->mm, b->sp, data, len) < 0)
		b->err = -1;
	return b->sp;
}

static gva_t stack_push_string(struct stack_builder *b, const char *s)
{
	return stack_push_bytes(b, s, strlen(s) + 1);
}

/* Where the strings that argv, envp and the auxiliary vector point at
 * landed on the stack. */
struct stack_strings {
	gva_t execfn, platform, random;
	gva_t *argv, *envp; /* argc and envc entries (calloc'd) */
	size_t envc;
};

/* Pushes the strings, the last environment string highest as Linux does. */
static int stack_push_strings(struct stack_builder *b, const struct loader_args *a,
			      struct stack_strings *s)
{
	uint8_t random_bytes[16];
	size_t i;

	while (a->envp && a->envp[s->envc])
		s->envc++;
	s->argv = calloc((size_t)a->argc + 1, sizeof(gva_t));
	s->envp = calloc(s->envc + 1, sizeof(gva_t));
	if (!s->argv || !s->envp)
		return err_set("loader: out of memory");
	s->execfn = stack_push_string(b, a->execfn);
	for (i = s->envc; i-- > 0;)
		s->envp[i] = stack_push_string(b, a->envp[i]);
	for (i = (size_t)a->argc; i-- > 0;)
		s->argv[i] = stack_push_string(b, a->argv[i]);
	s->platform = stack_push_string(b, "x86_64");
	if (getrandom(random_bytes, sizeof(random_bytes), 0) != sizeof(random_bytes))
		return err_set("loader: getrandom for AT_RANDOM failed");
	s->random = stack_push_bytes(b, random_bytes, sizeof(random_bytes));
	return 0;
}

#define AUXV_COUNT 20

/* What a static binary's libc reads from the auxiliary vector. */
static void stack_auxv(uint64_t auxv[AUXV_COUNT][2], const struct loader_args *a,
		       const struct load_info *li, const struct elf_image *img,
		       const struct stack_strings *s)
{
	const uint64_t v[AUXV_COUNT][2] = {
	    /* First, as Linux's ARCH_DLINFO puts it; AT_IGNORE without one. */
	    {li->vdso ? AT_SYSINFO_EHDR : AT_IGNORE, li->vdso},
	    {AT_PHDR, li->phdr},
	    {AT_PHENT, img->phentsize},
	    {AT_PHNUM, img->phnum},
	    {AT_PAGESZ, SZ_4K},
	    {AT_BASE, 0},
	    {AT_FLAGS, 0},
	    {AT_ENTRY, li->entry},
	    {AT_UID, getuid()},
	    {AT_EUID, geteuid()},
	    {AT_GID, getgid()},
	    {AT_EGID, getegid()},
	    {AT_SECURE, 0},
	    {AT_RANDOM, s->random},
	    {AT_EXECFN, s->execfn},
	    {AT_PLATFORM, s->platform},
	    {AT_HWCAP, a->hwcap},
	    {AT_HWCAP2, 0},
	    {AT_CLKTCK, 100},
	    {AT_NULL, 0},
	};

	memcpy(auxv, v, sizeof(v));
}

/* The block rsp points at: argc, argv[], NULL, envp[], NULL, auxv pairs.
 * NULL with err set when out of memory. */
static uint64_t *stack_words(const struct loader_args *a, const struct stack_strings *s,
			     const uint64_t auxv[AUXV_COUNT][2], size_t *nwords)
{
	size_t i, w = 0, n = 1 + (size_t)a->argc + 1 + s->envc + 1 + 2 * AUXV_COUNT;
	uint64_t *words = calloc(n, sizeof(uint64_t));

	if (!words) {
		err_set("loader: out of memory");
		return NULL;
	}
	words[w++] = (uint64_t)a->argc;
	for (i = 0; i < (size_t)a->argc; i++)
		words[w++] = s->argv[i];
	words[w++] = 0;
	for (i = 0; i < s->envc; i++)
		words[w++] = s->envp[i];
	words[w++] = 0;
	for (i = 0; i < AUXV_COUNT; i++) {
		words[w++] = auxv[i][0];
		words[w++] = auxv[i][1];
	}
	*nwords = n;
	return words;
}

static int loader_stack(struct mm *mm, const struct loader_args *a, const struct load_info *li,
			const struct elf_image *img, gva_t *sp_out)
{
	struct stack_builder b = {.mm = mm, .sp = MM_STACK_TOP};
	struct stack_strings s = {0};
	uint64_t auxv[AUXV_COUNT][2], *words = NULL;
	size_t nwords = 0;
	int ret = -1;

	if (stack_push_strings(&b, a, &s) == 0) {
		stack_auxv(auxv, a, li, img, &s);
		words = stack_words(a, &s, auxv, &nwords);
	}
	if (words) {
		/* The ABI wants rsp 16-byte aligned at entry, pointing at argc. */
		b.sp = align_down(b.sp - nwords * 8, 16);
		if (b.err == 0 && loader_copy(mm, b.sp, words, nwords * 8) == 0) {
			*sp_out = b.sp;
			ret = 0;
		}
	}
	free(words);
	free(s.argv);
	free(s.envp);
	return ret < 0
		   ? err_wrap("loader: initial stack (%d args, %zu env strings)", a->argc, s.envc)
		   : 0;
}

int loader_load(struct mm *mm, const struct elf_image *img, const struct loader_args *a,
		struct load_info *out)
{
	uint64_t bias = img->pie ? align_up(LOADER_PIE_BASE, img->max_align) : 0;
	gva_t mapped_end = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < img->nsegs; i++)
		if (loader_segment(mm, img, &img->segs[i], bias, &mapped_end) < 0)
			return err_wrap("loader: %s: phdr segment %zu", img->path, i);
	out->bias = bias;
	out->entry = img->entry + bias;
	out->phdr = img->phdr_vaddr ? img->phdr_vaddr + bias : 0;
	out->brk = mapped_end;
	mm_set_brk(mm, mapped_end);
	if (mm_map_fixed(mm, MM_STACK_TOP - MM_STACK_SIZE, MM_STACK_SIZE, PROT_READ | PROT_WRITE,
			 VMA_STACK) < 0)
		return err_wrap("loader: stack");
	/* After the ELF, as Linux's arch_setup_additional_pages. */
	if (a->vdso) {
		if (vdso_map(mm, &out->vvar) < 0)
			return err_wrap("loader: %s", img->path);
		out->vdso = VDSO_VA;
	}
	return loader_stack(mm, a, out, img, &out->sp);
}
