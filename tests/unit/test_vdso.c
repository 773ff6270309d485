/* The guest's vDSO: the embedded image checked as an ELF (what glibc and
 * musl look up, versions, no relocations), the TSC-to-clock arithmetic
 * the vDSO runs (guest/vvar.h) with vmm's refreshes (kernel/vclock.c), and
 * the mapping as sealed regions of the payload's address space. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <sys/mman.h>

#include "guest_fixture.h"
#include "kernel/vclock.h"
#include "kernel/vdso.h"
#include "unit.h"

/* ---- the image as an ELF ---- */

static const char *const exported[] = {
    "__vdso_clock_gettime",
    "__vdso_gettimeofday",
    "__vdso_time",
    "__vdso_getcpu",
    "__vdso_clock_getres",
    "clock_gettime",
    "gettimeofday",
    "time",
    "getcpu",
    "clock_getres",
};

static Elf *image_elf(void)
{
	Elf *e;

	ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
	e = elf_memory((char *)vdso_image_start, (size_t)(vdso_image_end - vdso_image_start));
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(elf_kind(e), ELF_K_ELF);
	return e;
}

static Elf_Scn *section_of_type(Elf *e, Elf64_Word type, GElf_Shdr *sh)
{
	Elf_Scn *s = NULL;

	while ((s = elf_nextscn(e, s)) != NULL) {
		ck_assert_ptr_nonnull(gelf_getshdr(s, sh));
		if (sh->sh_type == type)
			return s;
	}
	return NULL;
}

START_TEST(image_header_and_segments)
{
	Elf *e = image_elf();
	GElf_Ehdr eh;
	GElf_Phdr ph;
	size_t i, nph, loads = 0;
	bool dynamic = false;

	ck_assert_ptr_nonnull(gelf_getehdr(e, &eh));
	ck_assert_int_eq(eh.e_ident[EI_CLASS], ELFCLASS64);
	ck_assert_int_eq(eh.e_type, ET_DYN);
	ck_assert_int_eq(eh.e_machine, EM_X86_64);
	ck_assert_int_eq(elf_getphdrnum(e, &nph), 0);
	for (i = 0; i < nph; i++) {
		ck_assert_ptr_nonnull(gelf_getphdr(e, (int)i, &ph));
		if (ph.p_type == PT_DYNAMIC)
			dynamic = true;
		if (ph.p_type != PT_LOAD)
			continue;
		/* vmm copies the file as it is: one read+execute segment
		 * from the ELF header on, memory layout = file layout. */
		loads++;
		ck_assert_uint_eq(ph.p_vaddr, 0);
		ck_assert_uint_eq(ph.p_offset, 0);
		ck_assert_uint_eq(ph.p_filesz, ph.p_memsz);
		ck_assert_uint_eq(ph.p_flags, PF_R | PF_X);
		ck_assert_uint_le(ph.p_memsz, VDSO_MAX_SIZE);
	}
	ck_assert_uint_eq(loads, 1);
	ck_assert(dynamic);
	elf_end(e);
}
END_TEST

START_TEST(image_has_no_relocations)
{
	Elf *e = image_elf();
	Elf_Scn *s = NULL, *dyn;
	GElf_Shdr sh;
	GElf_Dyn d;
	Elf_Data *data;
	bool soname = false, hash = false, gnu_hash = false;
	size_t i;

	while ((s = elf_nextscn(e, s)) != NULL) {
		ck_assert_ptr_nonnull(gelf_getshdr(s, &sh));
		ck_assert_msg(sh.sh_type != SHT_REL && sh.sh_type != SHT_RELA,
			      "a relocation section is left");
	}
	dyn = section_of_type(e, SHT_DYNAMIC, &sh);
	ck_assert_ptr_nonnull(dyn);
	data = elf_getdata(dyn, NULL);
	for (i = 0; gelf_getdyn(data, (int)i, &d) && d.d_tag != DT_NULL; i++) {
		ck_assert_msg(d.d_tag != DT_REL && d.d_tag != DT_RELA && d.d_tag != DT_TEXTREL &&
				  d.d_tag != DT_JMPREL && d.d_tag != DT_NEEDED,
			      "dynamic tag %lld", (long long)d.d_tag);
		if (d.d_tag == DT_SONAME)
			soname =
			    strcmp(elf_strptr(e, sh.sh_link, d.d_un.d_val), "linux-vdso.so.1") == 0;
		hash |= d.d_tag == DT_HASH;	    /* musl reads this one */
		gnu_hash |= d.d_tag == DT_GNU_HASH; /* glibc prefers this */
	}
	ck_assert(soname && hash && gnu_hash);
	elf_end(e);
}
END_TEST

/* The name of version index ndx in .gnu.version_d. */
static const char *version_name(Elf *e, unsigned ndx)
{
	GElf_Shdr sh;
	Elf_Scn *s = section_of_type(e, SHT_GNU_verdef, &sh);
	Elf_Data *data = s ? elf_getdata(s, NULL) : NULL;
	size_t off = 0;
	GElf_Verdef vd;
	GElf_Verdaux va;

	while (data && gelf_getverdef(data, (int)off, &vd)) {
		if (vd.vd_ndx == ndx && gelf_getverdaux(data, (int)(off + vd.vd_aux), &va))
			return elf_strptr(e, sh.sh_link, va.vda_name);
		if (!vd.vd_next)
			break;
		off += vd.vd_next;
	}
	return NULL;
}

START_TEST(image_exports_linux_symbols)
{
	Elf *e = image_elf();
	GElf_Shdr sh, vsh;
	Elf_Scn *dynsym = section_of_type(e, SHT_DYNSYM, &sh);
	Elf_Data *syms, *vers;
	size_t i, j, n, found = 0;

	ck_assert_ptr_nonnull(dynsym);
	syms = elf_getdata(dynsym, NULL);
	vers = elf_getdata(section_of_type(e, SHT_GNU_versym, &vsh), NULL);
	ck_assert_ptr_nonnull(vers);
	n = sh.sh_size / sh.sh_entsize;
	for (i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Versym v;
		const char *name, *ver;
		bool known = false;

		ck_assert_ptr_nonnull(gelf_getsym(syms, (int)i, &sym));
		ck_assert_ptr_nonnull(gelf_getversym(vers, (int)i, &v));
		name = elf_strptr(e, sh.sh_link, sym.st_name);
		ver = version_name(e, v & 0x7fff);
		if (sym.st_shndx == SHN_ABS && strcmp(name, "LINUX_2.6") == 0)
			continue; /* the version's own symbol */
		for (j = 0; j < sizeof(exported) / sizeof(exported[0]); j++)
			known |= strcmp(name, exported[j]) == 0;
		ck_assert_msg(known, "unexpected symbol %s", name);
		ck_assert_int_eq(GELF_ST_TYPE(sym.st_info), STT_FUNC);
		ck_assert_uint_ne(sym.st_shndx, SHN_UNDEF);
		ck_assert_ptr_nonnull(ver);
		ck_assert_str_eq(ver, "LINUX_2.6");
		/* Linux: the __vdso_ names global, the plain ones weak. */
		ck_assert_int_eq(GELF_ST_BIND(sym.st_info),
				 strncmp(name, "__vdso_", 7) == 0 ? STB_GLOBAL : STB_WEAK);
		found++;
	}
	ck_assert_uint_eq(found, sizeof(exported) / sizeof(exported[0]));
	elf_end(e);
}
END_TEST

/* ---- the clock arithmetic ---- */

#define KHZ 2000000u /* 2 GHz: 2 ticks per ns */
#define MS_TICKS (KHZ * 1ull)
#define REAL0 1700000000000000000ull

static struct vvar_data page;
static struct vclock vc;

static const struct vclock_tsc good_tsc = {.usable = true, .khz = KHZ};

/* The host's clocks at tsc if they ran at exactly rate_ppm off nominal:
 * MONOTONIC from 1 s, the others at fixed distances. */
static struct vclock_sample host_at(uint64_t tsc, int64_t rate_ppm)
{
	uint64_t ns = tsc / 2 + (uint64_t)((int64_t)(tsc / 2) * rate_ppm / 1000000);
	struct vclock_sample s = {.tsc = tsc};

	s.ns[VVAR_MONOTONIC] = 1000000000ull + ns;
	s.ns[VVAR_REALTIME] = REAL0 + ns;
	s.ns[VVAR_MONOTONIC_RAW] = 900000000ull + ns;
	s.ns[VVAR_BOOTTIME] = 2000000000ull + ns;
	return s;
}

static void clock_setup(void)
{
	struct vclock_sample s = host_at(0, 0);

	memset(&page, 0, sizeof(page));
	vclock_init(&vc, &page, &good_tsc, &s, 1, 4000000, 0);
}

START_TEST(clock_converts_ticks)
{
	clock_setup();
	ck_assert_uint_eq(page.clock_mode, VVAR_CLOCK_TSC);
	ck_assert_uint_eq(page.seq % 2, 0);
	ck_assert_uint_eq(vvar_ns(&page, VVAR_MONOTONIC, 0), 1000000000ull);
	/* 1 ms of ticks is 1 ms, to the ns (the mult's rounding). */
	ck_assert_uint_eq(vvar_ns(&page, VVAR_MONOTONIC, MS_TICKS) - 1000000000ull, 1000000);
	ck_assert_uint_eq(vvar_ns(&page, VVAR_REALTIME, 2000 * MS_TICKS), REAL0 + 2000000000ull);
	/* A TSC behind cycle_last reads as cycle_last. */
	page.cycle_last = 100;
	ck_assert_uint_eq(vvar_ns(&page, VVAR_MONOTONIC, 50), vvar_ns(&page, VVAR_MONOTONIC, 100));
	/* An hour without refresh does not overflow. */
	page.cycle_last = 0;
	ck_assert_uint_eq(vvar_ns(&page, VVAR_BOOTTIME, 3600000ull * MS_TICKS),
			  2000000000ull + 3600000000000ull);
}
END_TEST

START_TEST(clock_unusable_tsc_falls_back)
{
	struct vclock_tsc bad = {.usable = false, .khz = KHZ};
	struct vclock_sample s = host_at(0, 0), later = host_at(10 * MS_TICKS, 0);

	vclock_init(&vc, &page, &bad, &s, 1, 4000000, 0);
	ck_assert_uint_eq(page.clock_mode, VVAR_CLOCK_NONE);
	vclock_update(&vc, &later);
	ck_assert_uint_eq(vc.refreshes, 0);
	bad = (struct vclock_tsc){.usable = true, .khz = 0}; /* no frequency from KVM */
	vclock_init(&vc, &page, &bad, &s, 1, 4000000, 0);
	ck_assert_uint_eq(page.clock_mode, VVAR_CLOCK_NONE);
}
END_TEST

START_TEST(clock_follows_a_host_ahead)
{
	struct vclock_sample s;

	clock_setup();
	/* The host ran 100 ppm fast for 10 ms: the guest steps forward. */
	s = host_at(10 * MS_TICKS, 100);
	vclock_update(&vc, &s);
	ck_assert_uint_eq(page.seq % 2, 0);
	ck_assert_uint_eq(page.cycle_last, s.tsc);
	for (int b = 0; b < VVAR_NBASES; b++)
		ck_assert_uint_eq(page.base_ns[b], s.ns[b]);
}
END_TEST

START_TEST(clock_never_steps_back)
{
	struct vclock_sample s;
	uint64_t before[VVAR_NBASES], mult0;

	clock_setup();
	mult0 = page.mult;
	/* The host ran 100 ppm slow: the guest is 1 us ahead at 10 ms. */
	s = host_at(10 * MS_TICKS, -100);
	for (int b = 0; b < VVAR_NBASES; b++)
		before[b] = vvar_ns(&page, (enum vvar_base)b, s.tsc);
	vclock_update(&vc, &s);
	for (int b = 0; b < VVAR_NBASES; b++)
		ck_assert_uint_eq(vvar_ns(&page, (enum vvar_base)b, s.tsc), before[b]);
	/* ... and runs slower until the host catches up. */
	ck_assert_uint_lt(page.mult, mult0);
}
END_TEST

START_TEST(clock_realtime_follows_a_step_back)
{
	struct vclock_sample s;

	clock_setup();
	s = host_at(10 * MS_TICKS, 0);
	s.ns[VVAR_REALTIME] -= 5000000000ull; /* settimeofday 5 s back */
	vclock_update(&vc, &s);
	ck_assert_uint_eq(page.base_ns[VVAR_REALTIME], s.ns[VVAR_REALTIME]);
	/* 200 ns back is sampling noise: REALTIME holds its value. */
	s = host_at(20 * MS_TICKS, 0);
	s.ns[VVAR_REALTIME] -= 5000000000ull + 200;
	vclock_update(&vc, &s);
	ck_assert_uint_eq(page.base_ns[VVAR_REALTIME], s.ns[VVAR_REALTIME] + 200);
}
END_TEST

/* A run of 3 s refreshed every ms by a host 300 ppm fast with +-100 ns of
 * sampling noise: every clock stays monotonic at every tick, stays within
 * 2 us of the host, and the rate fitted after 1 s is the host's. */
START_TEST(clock_tracks_a_drifting_host)
{
	uint64_t prev[VVAR_NBASES] = {0}, worst = 0;
	unsigned seed = 1;

	clock_setup();
	for (uint64_t ms = 1; ms <= 3000; ms++) {
		uint64_t tsc = ms * MS_TICKS;
		struct vclock_sample s = host_at(tsc, 300);

		for (uint64_t t = tsc - MS_TICKS; t <= tsc; t += MS_TICKS / 8)
			for (int b = 0; b < VVAR_NBASES; b++) {
				uint64_t v = vvar_ns(&page, (enum vvar_base)b, t);

				REQUIRE(v >= prev[b]);
				prev[b] = v;
			}
		seed = seed * 1103515245 + 12345;
		s.ns[VVAR_MONOTONIC] += (uint64_t)((int64_t)((seed >> 16) % 201) - 100);
		vclock_update(&vc, &s);
		if (ms > 1000) {
			struct vclock_sample exact = host_at(tsc, 300);
			uint64_t v = vvar_ns(&page, VVAR_MONOTONIC, tsc);
			uint64_t dev = v > exact.ns[VVAR_MONOTONIC] ? v - exact.ns[VVAR_MONOTONIC]
								    : exact.ns[VVAR_MONOTONIC] - v;

			worst = dev > worst ? dev : worst;
		}
	}
	ck_assert_uint_lt(worst, 2000);
	ck_assert_uint_eq(vc.refreshes, 3000);
	/* nominal 0.5 ns per tick << 32, 300 ppm faster, within 20 ppm */
	ck_assert_uint_gt(page.mult, (1ull << 31) + (1ull << 31) / 1000000 * 280);
	ck_assert_uint_lt(page.mult, (1ull << 31) + (1ull << 31) / 1000000 * 320);
}
END_TEST

/* ---- the mapping ---- */

static struct guest_mem mem;
static struct frames fr;
static struct page_tables pt;
static struct mm mm;

static void mm_setup(void)
{
	guest_fixture_up(&mem, &fr, &pt, &mm, 64 * MB);
}

static void mm_teardown(void)
{
	guest_fixture_down(&mem, &fr, &pt, &mm);
}

static uint8_t *guest_byte(gva_t va, enum pt_access acc)
{
	gpa_t gpa;

	if (pt_translate(&pt, va, acc, &gpa) < 0)
		return NULL;
	return mem_ptr(&mem, gpa, 1);
}

START_TEST(map_is_sealed_and_read_only)
{
	struct vvar_data *data = NULL;
	long a;

	ck_assert_int_eq(vdso_map(&mm, &data), 0);
	ck_assert_ptr_nonnull(data);
	/* The image is there, executable, not writable. */
	ck_assert_ptr_nonnull(guest_byte(VDSO_VA, PT_EXEC));
	ck_assert_ptr_null(guest_byte(VDSO_VA, PT_WRITE));
	ck_assert_int_eq(memcmp(guest_byte(VDSO_VA, PT_READ), vdso_image_start, 64), 0);
	/* The data page: the host pointer vmm writes is what the guest reads. */
	ck_assert_ptr_eq(guest_byte(VDSO_VVAR_VA, PT_READ), (uint8_t *)data);
	ck_assert_ptr_null(guest_byte(VDSO_VVAR_VA, PT_WRITE));
	ck_assert_ptr_null(guest_byte(VDSO_VVAR_VA, PT_EXEC));
	/* The payload cannot move, unmap or reprotect them ... */
	ck_assert_int_eq(mm_sys_munmap(&mm, VDSO_VVAR_VA, SZ_4K), -EPERM);
	ck_assert_int_eq(mm_sys_mprotect(&mm, VDSO_VA, SZ_4K, PROT_READ | PROT_WRITE), -EPERM);
	ck_assert_int_eq(mm_sys_mmap(&mm, VDSO_VA, SZ_4K, PROT_READ,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, (uint64_t)-1, 0),
			 -EPERM);
	/* ... and a hint there lands elsewhere. */
	a = mm_sys_mmap(&mm, VDSO_VVAR_VA, SZ_4K, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			(uint64_t)-1, 0);
	ck_assert(a > 0 && (uint64_t)a + SZ_4K <= VDSO_VVAR_VA);
	/* A second one cannot overlap the first. */
	ck_assert_int_eq(vdso_map(&mm, &data), -1);
}
END_TEST

static Suite *vdso_suite(void)
{
	Suite *s = suite_create("vdso");

	UNIT_TCASE(s, "image", image_header_and_segments, image_has_no_relocations,
		   image_exports_linux_symbols);
	UNIT_TCASE(s, "clock", clock_converts_ticks, clock_unusable_tsc_falls_back,
		   clock_follows_a_host_ahead, clock_never_steps_back,
		   clock_realtime_follows_a_step_back, clock_tracks_a_drifting_host);
	tcase_add_checked_fixture(UNIT_TCASE(s, "map", map_is_sealed_and_read_only), mm_setup,
				  mm_teardown);
	return s;
}

UNIT_MAIN(vdso_suite)
