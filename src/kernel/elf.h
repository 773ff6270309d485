/* ELF64 x86-64 static executables: parse and distrust every field before the
 * loader (loader.c) copies anything into the guest. Uses libelf. */

/* With -Isrc this file also answers `#include <elf.h>` as <libelf.h> writes
 * it, shadowing the system header: pass that on first (its own guard makes the
 * repeat harmless). So every includer gets the system Elf64_* definitions. */
#ifdef __clang__
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winclude-next-absolute-path"
#endif
#include_next <elf.h>
#ifdef __clang__
#pragma clang diagnostic pop
#endif

#ifndef VMM_ELF_H
#define VMM_ELF_H

#include "util/types.h"

#define ELF_MAX_SEGMENTS 16

/* Return values of elf_open besides 0: they decide the exit status. */
#define ELF_ERR_INVALID (-1) /* malformed or unsupported: exit 126 */
#define ELF_ERR_NOENT (-2)   /* the file does not exist: exit 127 */

struct elf_segment {
	gva_t vaddr; /* p_vaddr, before any load bias */
	uint64_t memsz;
	uint64_t filesz;
	uint64_t offset; /* p_offset in the file */
	uint64_t align;	 /* p_align (1 when 0 in the file) */
	int prot;	 /* PROT_READ/PROT_WRITE/PROT_EXEC from p_flags */
};

struct elf_image {
	const char *path;
	const uint8_t *file; /* whole file: a private read-only copy, mmap()ed */
	size_t file_size;
	bool pie;	  /* ET_DYN (static-pie): needs a load bias */
	gva_t entry;	  /* e_entry, before bias */
	gva_t phdr_vaddr; /* vaddr of the program headers (for AT_PHDR), 0 if not loaded */
	uint16_t phnum, phentsize;
	uint64_t max_align; /* largest p_align of the PT_LOAD segments */
	size_t nsegs;	    /* PT_LOAD segments, sorted by vaddr */
	struct elf_segment segs[ELF_MAX_SEGMENTS];
};

/* Opens and validates path. 0 on success; ELF_ERR_NOENT when it does not
 * exist; ELF_ERR_INVALID otherwise. Every rejection sets its own message
 * "elf: PATH: ...", e.g.
 *   "elf: p.elf: phdr[2]: p_filesz 0x3000 > p_memsz 0x2000",
 *   "elf: p.elf: dynamically linked (PT_INTERP /lib64/ld-linux-x86-64.so.2):
 *    link it statically (gcc -static or musl-gcc -static)".
 * img->path keeps the pointer: path must outlive the image. On failure img is
 * left zeroed (elf_close on it is a no-op). */
int elf_open(struct elf_image *img, const char *path);
/* env(1)'s lookup of a program name: a name with a '/' is used as it is;
 * one without is searched in the ':'-separated directories of path_env
 * (NULL: "/usr/local/bin:/usr/bin:/bin"; an empty entry is the current
 * directory), and the first regular file there that we may execute wins.
 * 0 with the path in out; ELF_ERR_NOENT with "elf: NAME: not found in
 * PATH (...)" (exit 127, as env says it); ELF_ERR_INVALID when it does
 * not fit in out. */
int elf_find_in_path(const char *name, const char *path_env, char *out, size_t len);
/* Unmaps the file and zeroes img; safe on a zeroed, failed or closed image. */
void elf_close(struct elf_image *img);

#endif
