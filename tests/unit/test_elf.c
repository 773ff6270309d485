/* elf_open(): the crafted base images are accepted with every field right,
 * each mutation in bad_elves.h is refused with its own exact message, and
 * files that are not files (missing, a directory, a FIFO) fail cleanly. */
#include "bad_elves.h"
#include "kernel/elf.h"
#include "unit.h"
#include "util/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TMP_TEMPLATE "/tmp/vmm-test-elf-XXXXXX"
static char tmp_dir[sizeof(TMP_TEMPLATE)];

/* Once per TCase, in the parent: the forked tests inherit the name. */
static void tmp_setup(void)
{
	memcpy(tmp_dir, TMP_TEMPLATE, sizeof(TMP_TEMPLATE));
	ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

static void tmp_teardown(void)
{
	DIR *d = opendir(tmp_dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp_dir, e->d_name);
		if (unlink(path) != 0)
			rmdir(path);
	}
	closedir(d);
	rmdir(tmp_dir);
}

static const char *tmp_path(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
	return path;
}

static const char *write_elf(const struct bad_elf *f, const char *name)
{
	const char *path = tmp_path(name);

	ck_assert_int_eq(bad_elf_write(f, path), 0);
	return path;
}

static void expect_msg(const char *path, const char *what)
{
	char want[1024];

	snprintf(want, sizeof(want), "elf: %s: %s", path, what);
	ck_assert_str_eq(err_msg(), want);
}

static void expect_zeroed(const struct elf_image *img)
{
	static const struct elf_image zero;

	ck_assert_int_eq(memcmp(img, &zero, sizeof(zero)), 0);
}

static void expect_seg(const struct elf_segment *s, uint64_t vaddr, uint64_t memsz, uint64_t filesz,
		       uint64_t offset, uint64_t align, int prot)
{
	ck_assert_uint_eq(s->vaddr, vaddr);
	ck_assert_uint_eq(s->memsz, memsz);
	ck_assert_uint_eq(s->filesz, filesz);
	ck_assert_uint_eq(s->offset, offset);
	ck_assert_uint_eq(s->align, align);
	ck_assert_int_eq(s->prot, prot);
}

/* Opens f and insists that it is accepted. */
static void open_ok(struct elf_image *img, const struct bad_elf *f, const char *name)
{
	const char *path = write_elf(f, name);

	err_clear();
	ck_assert_msg(elf_open(img, path) == 0, "%s: %s", name, err_msg());
	ck_assert_str_eq(img->path, path);
	ck_assert_uint_eq(img->file_size, f->len);
	ck_assert_int_eq(memcmp(img->file, f->bytes, f->len), 0);
}

START_TEST(test_base_exec)
{
	struct elf_image img;
	struct bad_elf f;

	bad_elf_base(&f);
	open_ok(&img, &f, "base");
	ck_assert(!img.pie);
	ck_assert_uint_eq(img.entry, BAD_ELF_ENTRY);
	/* No PT_PHDR: the table at e_phoff 0x40 is mapped by the text segment. */
	ck_assert_uint_eq(img.phdr_vaddr, BAD_ELF_TEXT_VADDR + 0x40);
	ck_assert_uint_eq(img.phnum, 3);
	ck_assert_uint_eq(img.phentsize, sizeof(Elf64_Phdr));
	ck_assert_uint_eq(img.max_align, BAD_ELF_DATA_ALIGN);
	ck_assert_uint_eq(img.nsegs, 2);
	expect_seg(&img.segs[0], BAD_ELF_TEXT_VADDR, BAD_ELF_TEXT_SIZE, BAD_ELF_TEXT_SIZE, 0,
		   0x1000, PROT_READ | PROT_EXEC);
	expect_seg(&img.segs[1], BAD_ELF_DATA_VADDR, BAD_ELF_DATA_MEMSZ, BAD_ELF_DATA_FILESZ,
		   BAD_ELF_DATA_OFF, BAD_ELF_DATA_ALIGN, PROT_READ | PROT_WRITE);
	elf_close(&img);
	expect_zeroed(&img);
	elf_close(&img); /* a second close is harmless */
}
END_TEST

START_TEST(test_base_pie)
{
	struct elf_image img;
	struct bad_elf f;

	bad_elf_base_pie(&f);
	open_ok(&img, &f, "pie");
	ck_assert(img.pie);
	ck_assert_uint_eq(img.entry, BAD_ELF_CODE_OFF);
	ck_assert_uint_eq(img.phdr_vaddr, 0x40); /* from PT_PHDR */
	ck_assert_uint_eq(img.phnum, BAD_ELF_PIE_PHNUM);
	ck_assert_uint_eq(img.max_align, BAD_ELF_DATA_ALIGN);
	ck_assert_uint_eq(img.nsegs, 2);
	expect_seg(&img.segs[0], 0, BAD_ELF_TEXT_SIZE, BAD_ELF_TEXT_SIZE, 0, 0x1000,
		   PROT_READ | PROT_EXEC);
	expect_seg(&img.segs[1], BAD_ELF_PIE_DATA_VADDR, BAD_ELF_DATA_MEMSZ, BAD_ELF_DATA_FILESZ,
		   BAD_ELF_DATA_OFF, BAD_ELF_DATA_ALIGN, PROT_READ | PROT_WRITE);
	elf_close(&img);
	expect_zeroed(&img);
}
END_TEST

/* PT_PHDR wins over the e_phoff computation, and must be file-backed. */
START_TEST(test_pt_phdr_used)
{
	struct elf_image img;
	struct bad_elf f;

	bad_elf_base(&f);
	f.ph[f.eh.e_phnum++] = bad_elf_phdr(PT_PHDR, PF_R, 0x40, BAD_ELF_TEXT_VADDR + 0x40,
					    4 * sizeof(Elf64_Phdr), 4 * sizeof(Elf64_Phdr), 8);
	open_ok(&img, &f, "pt-phdr");
	ck_assert_uint_eq(img.phdr_vaddr, BAD_ELF_TEXT_VADDR + 0x40);
	elf_close(&img);
	/* In the data segment's bss: loaded, but not the program headers. */
	f.ph[3].p_vaddr = BAD_ELF_DATA_VADDR + BAD_ELF_DATA_FILESZ;
	ck_assert_int_eq(elf_open(&img, write_elf(&f, "pt-phdr-bss")), ELF_ERR_INVALID);
	expect_msg(tmp_path("pt-phdr-bss"),
		   "PT_PHDR p_vaddr 0x602100 (0xe0 bytes) is not inside a PT_LOAD segment's file "
		   "bytes");
}
END_TEST

START_TEST(test_phdrs_not_loaded)
{
	struct elf_image img;
	struct bad_elf f;

	bad_elf_base(&f);
	/* Move the table to 0x1800: in the file, in no segment's file range. */
	memcpy(f.bytes + 0x1800, f.ph, 3 * sizeof(Elf64_Phdr));
	f.eh.e_phoff = 0x1800;
	open_ok(&img, &f, "phdrs-not-loaded");
	ck_assert_uint_eq(img.phdr_vaddr, 0);
	ck_assert_uint_eq(img.nsegs, 2);
	elf_close(&img);
	/* A misaligned table is legal; libelf then points into the file
	 * misaligned, which elf.c must not dereference as Elf64_Phdr. */
	memcpy(f.bytes + 0x1804, f.ph, 3 * sizeof(Elf64_Phdr));
	f.eh.e_phoff = 0x1804;
	open_ok(&img, &f, "phdrs-misaligned");
	ck_assert_uint_eq(img.nsegs, 2);
	expect_seg(&img.segs[1], BAD_ELF_DATA_VADDR, BAD_ELF_DATA_MEMSZ, BAD_ELF_DATA_FILESZ,
		   BAD_ELF_DATA_OFF, BAD_ELF_DATA_ALIGN, PROT_READ | PROT_WRITE);
	elf_close(&img);
}
END_TEST

/* Linux maps nothing for a PT_LOAD with p_memsz 0, whatever its fields say. */
START_TEST(test_empty_load_skipped)
{
	struct elf_image img;
	struct bad_elf f;

	bad_elf_base(&f);
	f.ph[2] = bad_elf_phdr(PT_LOAD, PF_R | PF_W | PF_X, 0x123456, 0x10, 0, 0, 3);
	open_ok(&img, &f, "empty-load");
	ck_assert_uint_eq(img.nsegs, 2);
	ck_assert_uint_eq(img.segs[1].vaddr, BAD_ELF_DATA_VADDR);
	elf_close(&img);
}
END_TEST

START_TEST(test_align_0_and_1)
{
	struct elf_image img;
	struct bad_elf f;

	bad_elf_base(&f);
	f.ph[0].p_align = 0;
	f.ph[1].p_align = 1;
	open_ok(&img, &f, "align-0-1");
	ck_assert_uint_eq(img.segs[0].align, 1);
	ck_assert_uint_eq(img.segs[1].align, 1);
	ck_assert_uint_eq(img.max_align, 0x1000); /* never below the page */
	elf_close(&img);
}
END_TEST

/* Two segments may share a page as long as they share no byte. */
START_TEST(test_shared_page)
{
	struct elf_image img;
	struct bad_elf f;

	bad_elf_base(&f);
	f.ph[1] = bad_elf_phdr(PT_LOAD, PF_R | PF_W, 0x1100, BAD_ELF_TEXT_VADDR + 0x1100, 0x100,
			       0x2000, 0x1000);
	open_ok(&img, &f, "shared-page");
	ck_assert_uint_eq(img.nsegs, 2);
	ck_assert_uint_eq(img.segs[1].vaddr, BAD_ELF_TEXT_VADDR + 0x1100);
	elf_close(&img);
	/* One byte more and the data starts inside the text segment. */
	f.ph[0].p_memsz = 0x1101;
	ck_assert_int_eq(elf_open(&img, write_elf(&f, "shared-byte")), ELF_ERR_INVALID);
	expect_msg(tmp_path("shared-byte"),
		   "phdr[1]: [0x401100, 0x403100) overlaps phdr[0] [0x400000, 0x401101)");
}
END_TEST

/* The edges of the address checks are inclusive where Linux's are. */
START_TEST(test_address_edges)
{
	struct elf_image img;
	struct bad_elf f;

	bad_elf_base(&f);
	f.ph[0].p_vaddr = 0x10000; /* == vm.mmap_min_addr */
	f.eh.e_entry = 0x10000 + BAD_ELF_CODE_OFF;
	f.ph[1].p_vaddr = USER_TOP - 0x2000; /* ends exactly at USER_TOP */
	f.ph[1].p_memsz = 0x2000;
	f.ph[1].p_align = 0x1000;
	open_ok(&img, &f, "edges");
	ck_assert_uint_eq(img.segs[0].vaddr, 0x10000);
	ck_assert_uint_eq(img.segs[1].vaddr + img.segs[1].memsz, USER_TOP);
	elf_close(&img);
	/* The last byte of the executable segment is still an entry. */
	f.eh.e_entry = 0x10000 + BAD_ELF_TEXT_SIZE - 1;
	open_ok(&img, &f, "entry-last-byte");
	elf_close(&img);
	f.eh.e_entry = 0x10000 + BAD_ELF_TEXT_SIZE;
	ck_assert_int_eq(elf_open(&img, write_elf(&f, "entry-end")), ELF_ERR_INVALID);
	expect_msg(tmp_path("entry-end"),
		   "e_entry 0x11010 is not inside an executable PT_LOAD segment");
}
END_TEST

/* Each case of the shared table, by index. */
START_TEST(test_bad_elf)
{
	struct elf_image img;
	struct bad_elf f;
	const char *path;
	int rc;

	bad_elf_build((size_t)_i, &f);
	path = write_elf(&f, bad_elf_name((size_t)_i));
	err_clear();
	memset(&img, 0xa5, sizeof(img)); /* elf_open must not trust what it is given */
	rc = elf_open(&img, path);
	ck_assert_msg(rc == ELF_ERR_INVALID, "%s: accepted (rc %d)", bad_elf_name((size_t)_i), rc);
	expect_msg(path, bad_elf_expect((size_t)_i));
	expect_zeroed(&img);
	elf_close(&img); /* safe on a failed image */
}
END_TEST

START_TEST(test_bad_elf_names_unique)
{
	size_t n = bad_elf_count();

	ck_assert_uint_gt(n, 30);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			ck_assert_str_ne(bad_elf_name(i), bad_elf_name(j));
}
END_TEST

/* The interpreter is quoted only when it is safe text inside the file. */
START_TEST(test_interp_unquoted)
{
	static const char *const what =
	    "dynamically linked (PT_INTERP): link it statically (gcc -static or musl-gcc -static)";
	struct elf_image img;
	struct bad_elf f;

	bad_elf_base(&f);
	bad_elf_add_interp(&f, 1);
	f.ph[3].p_offset = BAD_ELF_LEN - 4; /* runs past the end of the file */
	ck_assert_int_eq(elf_open(&img, write_elf(&f, "interp-outside")), ELF_ERR_INVALID);
	expect_msg(tmp_path("interp-outside"), what);
	f.ph[3].p_offset = UINT64_MAX - 8; /* wraps */
	ck_assert_int_eq(elf_open(&img, write_elf(&f, "interp-wraps")), ELF_ERR_INVALID);
	expect_msg(tmp_path("interp-wraps"), what);
	f.ph[3].p_offset = BAD_ELF_INTERP_OFF;
	f.bytes[BAD_ELF_INTERP_OFF + 3] = '\033'; /* a terminal escape */
	ck_assert_int_eq(elf_open(&img, write_elf(&f, "interp-escape")), ELF_ERR_INVALID);
	expect_msg(tmp_path("interp-escape"), what);
}
END_TEST

/* The test binary itself is dynamically linked. */
START_TEST(test_proc_self_exe)
{
	static const char *const head = "elf: /proc/self/exe: dynamically linked (PT_INTERP /";
	static const char *const tail = "): link it statically (gcc -static or musl-gcc -static)";
	struct elf_image img;
	const char *msg;

	ck_assert_int_eq(elf_open(&img, "/proc/self/exe"), ELF_ERR_INVALID);
	msg = err_msg();
	ck_assert_msg(strncmp(msg, head, strlen(head)) == 0, "%s", msg);
	ck_assert_msg(strlen(msg) > strlen(tail) &&
			  strcmp(msg + strlen(msg) - strlen(tail), tail) == 0,
		      "%s", msg);
	expect_zeroed(&img);
}
END_TEST

START_TEST(test_missing_file)
{
	struct elf_image img;
	const char *path = tmp_path("does-not-exist");

	ck_assert_int_eq(elf_open(&img, path), ELF_ERR_NOENT);
	expect_msg(path, "No such file or directory");
	expect_zeroed(&img);
}
END_TEST

START_TEST(test_not_a_file)
{
	struct elf_image img;
	struct bad_elf f;
	const char *path = tmp_path("dir");
	char sub[600];

	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(elf_open(&img, path), ELF_ERR_INVALID);
	expect_msg(path, "Is a directory");
	expect_zeroed(&img);

	path = tmp_path("fifo");
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	ck_assert_int_eq(elf_open(&img, path), ELF_ERR_INVALID); /* and does not hang */
	expect_msg(path, "not a regular file");

	bad_elf_base(&f);
	snprintf(sub, sizeof(sub), "%s/x", write_elf(&f, "plain"));
	ck_assert_int_eq(elf_open(&img, sub), ELF_ERR_INVALID);
	expect_msg(sub, "Not a directory");
}
END_TEST

START_TEST(test_close_zeroed)
{
	struct elf_image img;

	memset(&img, 0, sizeof(img));
	elf_close(&img);
	elf_close(&img);
	expect_zeroed(&img);
}
END_TEST

/* The bases are real programs: Linux runs them to exit_group(0). This is what
 * makes "accepted here" mean "runs natively" for the layouts the tests use. */
static void run_natively(const struct bad_elf *f, const char *name)
{
	const char *path = write_elf(f, name);
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(path, path, (char *)NULL);
		_exit(errno == EACCES ? 77 : 126); /* 77: /tmp is mounted noexec */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		return;
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

START_TEST(test_bases_run_natively)
{
	struct bad_elf f;

	bad_elf_base(&f);
	run_natively(&f, "native-exec");
	bad_elf_base_pie(&f);
	run_natively(&f, "native-pie");
}
END_TEST

/* env(1)'s lookup: names without '/' come from PATH, executable regular
 * files only, first directory first; names with '/' are taken as given. */
START_TEST(test_path_lookup)
{
	char out[512], path_env[600], want[600];
	int fd;

	fd = open(tmp_path("noexec"), O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	fd = open(tmp_path("prog"), O_CREAT | O_WRONLY, 0755);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(want, sizeof(want), "%s", tmp_path("prog"));
	snprintf(path_env, sizeof(path_env), "/nonexistent::%s", tmp_dir);
	ck_assert_int_eq(elf_find_in_path("prog", path_env, out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(elf_find_in_path("noexec", path_env, out, sizeof(out)), ELF_ERR_NOENT);
	ck_assert_int_eq(elf_find_in_path("nothere", "/nonexistent", out, sizeof(out)),
			 ELF_ERR_NOENT);
	ck_assert_str_eq(err_msg(), "elf: nothere: not found in PATH (/nonexistent); give a path "
				    "with a '/' for a file here");
	ck_assert_int_eq(elf_find_in_path("./x/y", "/nonexistent", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "./x/y");
	ck_assert_int_eq(elf_find_in_path("x/yz/w", NULL, out, 4), ELF_ERR_INVALID);
}
END_TEST

static Suite *elf_suite(void)
{
	Suite *s = suite_create("elf");
	TCase *ok = UNIT_TCASE(s, "accepted", test_base_exec, test_base_pie, test_pt_phdr_used,
			       test_phdrs_not_loaded, test_empty_load_skipped, test_align_0_and_1,
			       test_shared_page, test_address_edges, test_bases_run_natively);
	TCase *bad = UNIT_TCASE(s, "refused", test_bad_elf_names_unique, test_interp_unquoted,
				test_proc_self_exe);
	TCase *files = UNIT_TCASE(s, "files", test_missing_file, test_not_a_file, test_close_zeroed,
				  test_path_lookup);

	tcase_add_loop_test(bad, test_bad_elf, 0, (int)bad_elf_count());
	tcase_add_unchecked_fixture(ok, tmp_setup, tmp_teardown);
	tcase_add_unchecked_fixture(bad, tmp_setup, tmp_teardown);
	tcase_add_unchecked_fixture(files, tmp_setup, tmp_teardown);
	return s;
}

UNIT_MAIN(elf_suite)
