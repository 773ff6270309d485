/* KVM binary statistics (KVM_GET_STATS_FD on a VM or a vCPU fd): the
 * descriptors are parsed once at open; values are read later with one pread
 * of the whole data block, so a region edge costs one system call per fd. */
#ifndef VMM_KVM_STATS_H
#define VMM_KVM_STATS_H

#include <stddef.h>
#include <stdint.h>

/* KVM_STATS_TYPE_* (Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD"). */
enum kvm_stat_type {
	KVM_STAT_CUMULATIVE, /* only grows: a region reports the difference */
	KVM_STAT_INSTANT,    /* a level (pages_4k): a region reports the value */
	KVM_STAT_PEAK,	     /* the highest level seen: reported as the value */
	KVM_STAT_LINEAR_HIST,
	KVM_STAT_LOG_HIST,
	KVM_STAT_TYPE_UNKNOWN, /* a type newer than this code */
};

/* KVM_STATS_UNIT_*. */
enum kvm_stat_unit {
	KVM_STAT_UNIT_NONE,
	KVM_STAT_UNIT_BYTES,
	KVM_STAT_UNIT_SECONDS,
	KVM_STAT_UNIT_CYCLES,
	KVM_STAT_UNIT_BOOLEAN,
	KVM_STAT_UNIT_UNKNOWN,
};

struct kvm_stat {
	const char *name; /* points into kvm_stats.names */
	enum kvm_stat_type type;
	enum kvm_stat_unit unit;
	unsigned base;	 /* 10 or 2 (0: unknown base) */
	int exponent;	 /* value * base^exponent is in `unit` */
	uint32_t offset; /* bytes into the data block, a multiple of 8 */
	uint32_t size;	 /* number of u64 values: 1, or buckets of a histogram */
};

/* Longest name (header name_size) accepted; KVM uses 48. */
#define KVM_STATS_NAME_SIZE_MAX 256

struct kvm_stats {
	int fd;				  /* the stats fd (owned), -1 when closed */
	char what[16];			  /* "vm", "vcpu": names the fd in messages */
	char id[KVM_STATS_NAME_SIZE_MAX]; /* KVM's id string, e.g. "kvm-5201/vcpu-0" */
	size_t n;
	struct kvm_stat *stat;
	char *names;	      /* n names of name_size bytes each */
	uint64_t data_offset; /* of the data block in the stats fd */
	size_t data_words;    /* u64 words of the data block */
};

/* Gets the stats fd of a VM or vCPU fd (KVM_GET_STATS_FD) and parses it.
 * `what` names it in messages ("vm", "vcpu"). Errors: "kvm_stats: vm:
 * KVM_GET_STATS_FD: <errno text>" and the parse errors below. */
int kvm_stats_open(struct kvm_stats *s, int fd, const char *what);
/* Parses an already open stats fd (takes ownership, closed on error too):
 * what tests use with a fake blob. Every field is checked: "kvm_stats:
 * vcpu: header: name_size 0 not in 1..256", "...: desc[3]: name not
 * NUL-terminated", "...: desc[3] (exits): offset 0x1001 not 8-aligned". */
int kvm_stats_open_fd(struct kvm_stats *s, int stats_fd, const char *what);
void kvm_stats_close(struct kvm_stats *s);

/* NULL when there is no such statistic. */
const struct kvm_stat *kvm_stats_find(const struct kvm_stats *s, const char *name);
/* Reads the whole data block (data_words values) with one pread. */
int kvm_stats_read(const struct kvm_stats *s, uint64_t *data, size_t words);
/* The (first) value of a statistic in a block kvm_stats_read filled. */
static inline uint64_t kvm_stat_value(const struct kvm_stat *st, const uint64_t *data)
{
	return data[st->offset / 8];
}
/* Whether b has a's descriptors (names, types, offsets, sizes), so that
 * their data blocks can be combined word by word: 0, or -1 and "kvm_stats:
 * vcpu: desc[3] (exits) differs from kvm-1/vcpu-0's". */
int kvm_stats_same_layout(const struct kvm_stats *a, const struct kvm_stats *b);
/* Folds one data block into acc (both s->data_words long), statistic by
 * statistic, every u64 of it: a peak takes the maximum, everything else
 * adds (counts, levels, histogram buckets). From a zeroed acc, folding each
 * vCPU's block gives the VM-wide sum of per-vCPU statistics. */
void kvm_stats_fold(const struct kvm_stats *s, uint64_t *acc, const uint64_t *data);
/* Reads one statistic now: "kvm_stats: vm: no statistic pages_3m". */
int kvm_stats_get(const struct kvm_stats *s, const char *name, uint64_t *val);

const char *kvm_stat_type_name(enum kvm_stat_type t);
const char *kvm_stat_unit_name(enum kvm_stat_unit u);
/* A short unit for printing: "", "bytes", "ns", "us", "cycles", "bool", or
 * "s*10^-5"-like for unusual exponents; writes into buf. */
const char *kvm_stat_unit_str(const struct kvm_stat *st, char *buf, size_t len);

#endif
