/* kvm_stats: a fake stats blob in a memfd (header, id, descriptors, data)
 * checks the parser field by field without KVM; a real VM and vCPU check
 * that the statistics the report relies on exist here. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/kvm_stats.h"
#include "unit.h"
#include "util/err.h"
#include "util/types.h"

#define NAME_SIZE 48
#define ID_OFF 24u
#define DESC_OFF (ID_OFF + NAME_SIZE)
#define DESC_SIZE (sizeof(struct kvm_stats_desc) + NAME_SIZE)

struct fake_desc {
	const char *name;
	uint32_t flags;
	int16_t exponent;
	uint16_t size;
	uint32_t offset;
};

static const struct fake_desc good_descs[] = {
    {"exits", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE, 0, 1, 0},
    {"pages_4k", KVM_STATS_TYPE_INSTANT, 0, 1, 8},
    {"max_mmu_rmap_size", KVM_STATS_TYPE_PEAK, 0, 1, 16},
    {"halt_wait_ns", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS, -9, 1, 24},
    {"halt_wait_hist", KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS, -9, 4, 32},
    {"guest_mode", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN, 0, 1, 64},
};
#define GOOD_N ARRAY_SIZE(good_descs)
#define GOOD_WORDS 9

static uint64_t data_value(size_t word)
{
	return 1000 + word * 7;
}

/* Writes a blob shaped like the kernel's into a memfd; `mangle` may break it. */
static int fake_fd(const struct fake_desc *d, size_t n, uint32_t name_size_hdr, size_t data_words,
		   size_t truncate_at)
{
	uint32_t data_off = DESC_OFF + (uint32_t)(n * DESC_SIZE);
	size_t len = data_off + data_words * 8;
	char *blob = calloc(1, len);
	struct kvm_stats_header h = {
	    .flags = 0,
	    .name_size = name_size_hdr,
	    .num_desc = (uint32_t)n,
	    .id_offset = ID_OFF,
	    .desc_offset = DESC_OFF,
	    .data_offset = data_off,
	};
	int fd = memfd_create("fake-stats", 0);

	ck_assert_ptr_nonnull(blob);
	ck_assert_int_ge(fd, 0);
	memcpy(blob, &h, sizeof(h));
	snprintf(blob + ID_OFF, NAME_SIZE, "kvm-1/vcpu-0");
	for (size_t i = 0; i < n; i++) {
		struct kvm_stats_desc kd = {
		    .flags = d[i].flags,
		    .exponent = d[i].exponent,
		    .size = d[i].size,
		    .offset = d[i].offset,
		};
		char *at = blob + DESC_OFF + i * DESC_SIZE;

		memcpy(at, &kd, sizeof(kd));
		/* strncpy: a NAME_SIZE-long name must stay unterminated for the test. */
		strncpy(at + sizeof(kd), d[i].name, NAME_SIZE);
	}
	for (size_t w = 0; w < data_words; w++) {
		uint64_t v = data_value(w);
		memcpy(blob + data_off + w * 8, &v, 8);
	}
	if (truncate_at && truncate_at < len)
		len = truncate_at;
	ck_assert_int_eq(write(fd, blob, len), (ssize_t)len);
	free(blob);
	return fd;
}

START_TEST(parses_fake_blob)
{
	struct kvm_stats s;
	const struct kvm_stat *st;
	uint64_t data[GOOD_WORDS], v;
	char unit[32];

	ck_assert_int_eq(
	    kvm_stats_open_fd(&s, fake_fd(good_descs, GOOD_N, NAME_SIZE, GOOD_WORDS, 0), "vcpu"),
	    0);
	ck_assert_str_eq(s.id, "kvm-1/vcpu-0");
	ck_assert_uint_eq(s.n, GOOD_N);
	ck_assert_uint_eq(s.data_words, GOOD_WORDS);

	st = kvm_stats_find(&s, "exits");
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(st->type, KVM_STAT_CUMULATIVE);
	ck_assert_int_eq(st->unit, KVM_STAT_UNIT_NONE);
	st = kvm_stats_find(&s, "pages_4k");
	ck_assert_int_eq(st->type, KVM_STAT_INSTANT);
	ck_assert_int_eq(kvm_stats_find(&s, "max_mmu_rmap_size")->type, KVM_STAT_PEAK);
	st = kvm_stats_find(&s, "halt_wait_ns");
	ck_assert_int_eq(st->unit, KVM_STAT_UNIT_SECONDS);
	ck_assert_int_eq(st->exponent, -9);
	ck_assert_uint_eq(st->base, 10);
	ck_assert_str_eq(kvm_stat_unit_str(st, unit, sizeof(unit)), "ns");
	st = kvm_stats_find(&s, "halt_wait_hist");
	ck_assert_int_eq(st->type, KVM_STAT_LOG_HIST);
	ck_assert_uint_eq(st->size, 4);
	st = kvm_stats_find(&s, "guest_mode");
	ck_assert_str_eq(kvm_stat_unit_name(st->unit), "boolean");
	ck_assert_ptr_null(kvm_stats_find(&s, "exit"));

	ck_assert_int_eq(kvm_stats_read(&s, data, GOOD_WORDS), 0);
	ck_assert_uint_eq(kvm_stat_value(kvm_stats_find(&s, "pages_4k"), data), data_value(1));
	ck_assert_uint_eq(kvm_stat_value(kvm_stats_find(&s, "halt_wait_ns"), data), data_value(3));
	ck_assert_int_eq(kvm_stats_get(&s, "guest_mode", &v), 0);
	ck_assert_uint_eq(v, data_value(8));
	kvm_stats_close(&s);
}
END_TEST

START_TEST(unknown_name_and_small_buffer)
{
	struct kvm_stats s;
	uint64_t v, data[2];

	ck_assert_int_eq(
	    kvm_stats_open_fd(&s, fake_fd(good_descs, GOOD_N, NAME_SIZE, GOOD_WORDS, 0), "vm"), 0);
	ck_assert_int_eq(kvm_stats_get(&s, "pages_3m", &v), -1);
	ck_assert_str_eq(err_msg(), "kvm_stats: vm: no statistic pages_3m");
	ck_assert_int_eq(kvm_stats_read(&s, data, 2), -1);
	ck_assert_str_eq(err_msg(), "kvm_stats: vm: read: buffer of 2 words < 9");
	kvm_stats_close(&s);
}
END_TEST

START_TEST(rejects_bad_name_size)
{
	struct kvm_stats s;

	ck_assert_int_eq(kvm_stats_open_fd(&s, fake_fd(good_descs, GOOD_N, 0, GOOD_WORDS, 0), "vm"),
			 -1);
	ck_assert_str_eq(err_msg(), "kvm_stats: vm: header: name_size 0 not in 1..256");
	ck_assert_int_eq(s.fd, -1);
}
END_TEST

START_TEST(rejects_unterminated_name)
{
	struct fake_desc d[] = {
	    good_descs[0],
	    {"a_name_that_fills_all_forty_eight_bytes_of_room!", 0, 0, 1, 8},
	};
	struct kvm_stats s;

	ck_assert_uint_eq(strlen(d[1].name), NAME_SIZE);
	ck_assert_int_eq(kvm_stats_open_fd(&s, fake_fd(d, 2, NAME_SIZE, 2, 0), "vcpu"), -1);
	ck_assert_str_eq(err_msg(), "kvm_stats: vcpu: desc[1]: name not NUL-terminated");
}
END_TEST

START_TEST(rejects_bad_offsets)
{
	struct fake_desc misaligned[] = {{"exits", 0, 0, 1, 9}};
	struct fake_desc far[] = {{"exits", 0, 0, 2, 0xffff0000u}};
	struct fake_desc empty[] = {{"exits", 0, 0, 0, 0}};
	struct kvm_stats s;

	ck_assert_int_eq(kvm_stats_open_fd(&s, fake_fd(misaligned, 1, NAME_SIZE, 2, 0), "vm"), -1);
	ck_assert_str_eq(err_msg(), "kvm_stats: vm: desc[0] (exits): offset 0x9 not 8-aligned");
	ck_assert_int_eq(kvm_stats_open_fd(&s, fake_fd(far, 1, NAME_SIZE, 2, 0), "vm"), -1);
	ck_assert_str_eq(err_msg(),
			 "kvm_stats: vm: desc[0] (exits): values end at 0xffff0010 > 0x100000");
	ck_assert_int_eq(kvm_stats_open_fd(&s, fake_fd(empty, 1, NAME_SIZE, 2, 0), "vm"), -1);
	ck_assert_str_eq(err_msg(), "kvm_stats: vm: desc[0] (exits): size 0");
}
END_TEST

START_TEST(rejects_truncated_blob)
{
	struct kvm_stats s;
	char want[128];

	/* Cut in the middle of the third descriptor. */
	ck_assert_int_eq(kvm_stats_open_fd(&s,
					   fake_fd(good_descs, GOOD_N, NAME_SIZE, GOOD_WORDS,
						   DESC_OFF + 2 * DESC_SIZE + 10),
					   "vm"),
			 -1);
	snprintf(want, sizeof(want),
		 "kvm_stats: vm: read descriptors at 0x%x: got %zu of %zu bytes", DESC_OFF,
		 2 * DESC_SIZE + 10, GOOD_N * DESC_SIZE);
	ck_assert_str_eq(err_msg(), want);
}
END_TEST

/* Two vCPUs' blocks fold into one: counts, levels and every histogram
 * bucket add, a peak is the higher of the two. */
START_TEST(folds_vcpus)
{
	struct kvm_stats s;
	uint64_t a[GOOD_WORDS], b[GOOD_WORDS], acc[GOOD_WORDS] = {0};

	ck_assert_int_eq(
	    kvm_stats_open_fd(&s, fake_fd(good_descs, GOOD_N, NAME_SIZE, GOOD_WORDS, 0), "vcpu"),
	    0);
	for (size_t w = 0; w < GOOD_WORDS; w++) {
		a[w] = 10 * (w + 1);
		b[w] = 100 + w;
	}
	a[2] = 500; /* max_mmu_rmap_size: a's peak is the higher */
	kvm_stats_fold(&s, acc, a);
	kvm_stats_fold(&s, acc, b);
	ck_assert_uint_eq(kvm_stat_value(kvm_stats_find(&s, "exits"), acc), 10 + 100);
	ck_assert_uint_eq(kvm_stat_value(kvm_stats_find(&s, "pages_4k"), acc), 20 + 101);
	ck_assert_uint_eq(kvm_stat_value(kvm_stats_find(&s, "max_mmu_rmap_size"), acc), 500);
	for (size_t w = 4; w < 8; w++) /* halt_wait_hist's four buckets */
		ck_assert_uint_eq(acc[w], 10 * (w + 1) + 100 + w);
	ck_assert_uint_eq(acc[8], 90 + 108);
	b[2] = 501;
	kvm_stats_fold(&s, acc, b);
	ck_assert_uint_eq(acc[2], 501);
	ck_assert_uint_eq(acc[0], 10 + 100 + 100);
	kvm_stats_close(&s);
}
END_TEST

/* Blocks are only combined where the descriptors match. */
START_TEST(same_layout_or_error)
{
	struct kvm_stats s0, s1;
	struct fake_desc moved[GOOD_N];

	ck_assert_int_eq(
	    kvm_stats_open_fd(&s0, fake_fd(good_descs, GOOD_N, NAME_SIZE, GOOD_WORDS, 0), "vcpu"),
	    0);
	ck_assert_int_eq(
	    kvm_stats_open_fd(&s1, fake_fd(good_descs, GOOD_N, NAME_SIZE, GOOD_WORDS, 0), "vcpu"),
	    0);
	ck_assert_int_eq(kvm_stats_same_layout(&s0, &s1), 0);
	kvm_stats_close(&s1);

	ck_assert_int_eq(
	    kvm_stats_open_fd(&s1, fake_fd(good_descs, GOOD_N - 1, NAME_SIZE, GOOD_WORDS, 0),
			      "vcpu"),
	    0);
	ck_assert_int_eq(kvm_stats_same_layout(&s0, &s1), -1);
	ck_assert_str_eq(err_msg(),
			 "kvm_stats: vcpu: 5 statistics in 8 words, kvm-1/vcpu-0 has 6 in 9");
	kvm_stats_close(&s1);

	memcpy(moved, good_descs, sizeof(moved));
	moved[1].flags = KVM_STATS_TYPE_PEAK; /* pages_4k: another type */
	ck_assert_int_eq(
	    kvm_stats_open_fd(&s1, fake_fd(moved, GOOD_N, NAME_SIZE, GOOD_WORDS, 0), "vcpu"), 0);
	ck_assert_int_eq(kvm_stats_same_layout(&s0, &s1), -1);
	ck_assert_str_eq(err_msg(),
			 "kvm_stats: vcpu: desc[1] (pages_4k) differs from kvm-1/vcpu-0's");
	kvm_stats_close(&s1);
	kvm_stats_close(&s0);
}
END_TEST

/* The real thing: statistics the report and the default counter set use. */
START_TEST(real_vm_and_vcpu)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, vcpu;
	struct kvm_stats s;
	const struct kvm_stat *st;
	uint64_t v;

	if (kvm < 0) {
		printf("SKIP real_vm_and_vcpu: /dev/kvm: %s\n", strerror(errno));
		return;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) <= 0) {
		printf("SKIP real_vm_and_vcpu: KVM_CREATE_VM or KVM_CAP_BINARY_STATS_FD: %s\n",
		       strerror(errno));
		close(kvm);
		return;
	}
	ck_assert_int_eq(kvm_stats_open(&s, vm, "vm"), 0);
	st = kvm_stats_find(&s, "pages_4k");
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(st->type, KVM_STAT_INSTANT);
	ck_assert_ptr_nonnull(kvm_stats_find(&s, "pages_2m"));
	ck_assert_int_eq(kvm_stats_get(&s, "pages_4k", &v), 0);
	ck_assert_uint_eq(v, 0); /* no memory, no vCPU: nothing mapped yet */
	kvm_stats_close(&s);

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	ck_assert_int_ge(vcpu, 0);
	ck_assert_int_eq(kvm_stats_open(&s, vcpu, "vcpu"), 0);
	st = kvm_stats_find(&s, "exits");
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(st->type, KVM_STAT_CUMULATIVE);
	ck_assert_ptr_nonnull(strstr(s.id, "vcpu-0"));
	kvm_stats_close(&s);

	ck_assert_int_eq(kvm_stats_open(&s, kvm, "sys"), -1);
	ck_assert_ptr_nonnull(strstr(err_msg(), "kvm_stats: sys: KVM_GET_STATS_FD: "));
	close(vcpu);
	close(vm);
	close(kvm);
}
END_TEST

UNIT_SUITE_MAIN("kvm_stats", NULL, NULL, 0, parses_fake_blob, unknown_name_and_small_buffer,
		rejects_bad_name_size, rejects_unterminated_name, rejects_bad_offsets,
		rejects_truncated_blob, folds_vcpus, same_layout_or_error, real_vm_and_vcpu)
