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

static int loader_stack(struct mm *mm, const struct loader_args *a, const struct load_info *li,
			const struct elf_image *img, gva_t *sp_out)
{
	struct stack_builder b = {.mm = mm, .sp = MM_STACK_TOP};
	size_t envc = 0, nwords, i, w = 0;
	uint8_t random_bytes[16];
	gva_t execfn, platform, random_at, *argv_at, *envp_at;
	uint64_t *words;
	int ret = -1;

	while (a->envp && a->envp[envc])
		envc++;
	argv_at = calloc((size_t)a->argc + 1, sizeof(gva_t));
	envp_at = calloc(envc + 1, sizeof(gva_t));
	if (!argv_at || !envp_at) {
		err_set("loader: out of memory");
		goto out;
	}
	execfn = stack_push_string(&b, a->execfn);
	for (i = envc; i-- > 0;)
		envp_at[i] = stack_push_string(&b, a->envp[i]);
	for (i = (size_t)a->argc; i-- > 0;)
		argv_at[i] = stack_push_string(&b, a->argv[i]);
	platform = stack_push_string(&b, "x86_64");
	if (getrandom(random_bytes, sizeof(random_bytes), 0) != sizeof(random_bytes)) {
		err_set("loader: getrandom for AT_RANDOM failed");
		goto out;
	}
	random_at = stack_push_bytes(&b, random_bytes, sizeof(random_bytes));

	const uint64_t auxv[][2] = {
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
	    {AT_RANDOM, random_at},
	    {AT_EXECFN, execfn},
	    {AT_PLATFORM, platform},
	    {AT_HWCAP, a->hwcap},
	    {AT_HWCAP2, 0},
	    {AT_CLKTCK, 100},
	    {AT_NULL, 0},
	};
	nwords = 1 + (size_t)a->argc + 1 + envc + 1 + 2 * ARRAY_SIZE(auxv);
	words = calloc(nwords, sizeof(uint64_t));
	if (!words) {
		err_set("loader: out of memory");
		goto out;
	}
	words[w++] = (uint64_t)a->argc;
	for (i = 0; i < (size_t)a->argc; i++)
		words[w++] = argv_at[i];
	words[w++] = 0;
	for (i = 0; i < envc; i++)
		words[w++] = envp_at[i];
	words[w++] = 0;
	for (i = 0; i < ARRAY_SIZE(auxv); i++) {
		words[w++] = auxv[i][0];
		words[w++] = auxv[i][1];
	}
	/* The ABI wants rsp 16-byte aligned at entry, pointing at argc. */
	b.sp = align_down(b.sp - nwords * 8, 16);
	if (b.err == 0 && loader_copy(mm, b.sp, words, nwords * 8) == 0) {
		*sp_out = b.sp;
		ret = 0;
	}
	free(words);
out:
	free(argv_at);
	free(envp_at);
	return ret < 0 ? err_wrap("loader: initial stack (%d args, %zu env strings)", a->argc, envc)
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
	return loader_stack(mm, a, out, img, &out->sp);
}
