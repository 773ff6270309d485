/* KVM binary statistics: parses the header and descriptors of a stats fd
 * (the kernel's layout is checked, not trusted: a wrong offset would read
 * another statistic) and reads values with pread. */
#include "kvm/kvm_stats.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/err.h"
#include "util/types.h"

/* Bounds far above what KVM uses (name_size 48, 45 vCPU statistics, a data
 * block of a few KiB) that keep a corrupt header from allocating gigabytes. */
#define STATS_NAME_SIZE_MAX ((unsigned)KVM_STATS_NAME_SIZE_MAX)
#define STATS_NUM_DESC_MAX 4096u
#define STATS_DATA_BYTES_MAX (1u << 20)

static enum kvm_stat_type stat_type(uint32_t flags)
{
	switch (flags & KVM_STATS_TYPE_MASK) {
	case KVM_STATS_TYPE_CUMULATIVE:
		return KVM_STAT_CUMULATIVE;
	case KVM_STATS_TYPE_INSTANT:
		return KVM_STAT_INSTANT;
	case KVM_STATS_TYPE_PEAK:
		return KVM_STAT_PEAK;
	case KVM_STATS_TYPE_LINEAR_HIST:
		return KVM_STAT_LINEAR_HIST;
	case KVM_STATS_TYPE_LOG_HIST:
		return KVM_STAT_LOG_HIST;
	default:
		return KVM_STAT_TYPE_UNKNOWN;
	}
}

static enum kvm_stat_unit stat_unit(uint32_t flags)
{
	switch (flags & KVM_STATS_UNIT_MASK) {
	case KVM_STATS_UNIT_NONE:
		return KVM_STAT_UNIT_NONE;
	case KVM_STATS_UNIT_BYTES:
		return KVM_STAT_UNIT_BYTES;
	case KVM_STATS_UNIT_SECONDS:
		return KVM_STAT_UNIT_SECONDS;
	case KVM_STATS_UNIT_CYCLES:
		return KVM_STAT_UNIT_CYCLES;
	case KVM_STATS_UNIT_BOOLEAN:
		return KVM_STAT_UNIT_BOOLEAN;
	default:
		return KVM_STAT_UNIT_UNKNOWN;
	}
}

static unsigned stat_base(uint32_t flags)
{
	switch (flags & KVM_STATS_BASE_MASK) {
	case KVM_STATS_BASE_POW10:
		return 10;
	case KVM_STATS_BASE_POW2:
		return 2;
	default:
		return 0;
	}
}

const char *kvm_stat_type_name(enum kvm_stat_type t)
{
	static const char *const names[] = {
	    [KVM_STAT_CUMULATIVE] = "cumulative",
	    [KVM_STAT_INSTANT] = "instant",
	    [KVM_STAT_PEAK] = "peak",
	    [KVM_STAT_LINEAR_HIST] = "linear-hist",
	    [KVM_STAT_LOG_HIST] = "log-hist",
	};
	return (size_t)t < ARRAY_SIZE(names) && names[t] ? names[t] : "unknown";
}

const char *kvm_stat_unit_name(enum kvm_stat_unit u)
{
	static const char *const names[] = {
	    [KVM_STAT_UNIT_NONE] = "none",	 [KVM_STAT_UNIT_BYTES] = "bytes",
	    [KVM_STAT_UNIT_SECONDS] = "seconds", [KVM_STAT_UNIT_CYCLES] = "cycles",
	    [KVM_STAT_UNIT_BOOLEAN] = "boolean",
	};
	return (size_t)u < ARRAY_SIZE(names) && names[u] ? names[u] : "unknown";
}

const char *kvm_stat_unit_str(const struct kvm_stat *st, char *buf, size_t len)
{
	static const char *const si[] = {"s", "ms", "us", "ns"};

	switch (st->unit) {
	case KVM_STAT_UNIT_NONE:
		snprintf(buf, len, "%s", "");
		break;
	case KVM_STAT_UNIT_BYTES:
		snprintf(buf, len, "%s", "bytes");
		break;
	case KVM_STAT_UNIT_CYCLES:
		snprintf(buf, len, "%s", "cycles");
		break;
	case KVM_STAT_UNIT_BOOLEAN:
		snprintf(buf, len, "%s", "bool");
		break;
	case KVM_STAT_UNIT_SECONDS:
		if (st->base == 10 && st->exponent <= 0 && st->exponent % 3 == 0 &&
		    st->exponent >= -9)
			snprintf(buf, len, "%s", si[-st->exponent / 3]);
		else
			snprintf(buf, len, "s*%u^%d", st->base, st->exponent);
		return buf;
	default:
		snprintf(buf, len, "%s", "?");
		break;
	}
	/* A scaled count ("bytes" in KiB) must not print as plain bytes. */
	if (st->exponent != 0 && buf[0]) {
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "*%u^%d", st->base, st->exponent);
	}
	return buf;
}

/* One pread that must return exactly len bytes. */
static int pread_exact(const struct kvm_stats *s, void *buf, size_t len, uint64_t off,
		       const char *part)
{
	ssize_t got = pread(s->fd, buf, len, (off_t)off);

	if (got < 0)
		return err_set("kvm_stats: %s: read %s at 0x%llx: %s", s->what, part,
			       (unsigned long long)off, strerror(errno));
	if ((size_t)got != len)
		return err_set("kvm_stats: %s: read %s at 0x%llx: got %zd of %zu bytes", s->what,
			       part, (unsigned long long)off, got, len);
	return 0;
}

static int check_header(const struct kvm_stats *s, const struct kvm_stats_header *h)
{
	if (h->name_size == 0 || h->name_size > STATS_NAME_SIZE_MAX)
		return err_set("kvm_stats: %s: header: name_size %u not in 1..%u", s->what,
			       h->name_size, STATS_NAME_SIZE_MAX);
	if (h->num_desc > STATS_NUM_DESC_MAX)
		return err_set("kvm_stats: %s: header: num_desc %u > %u", s->what, h->num_desc,
			       STATS_NUM_DESC_MAX);
	return 0;
}

/* A name must end inside its name_size bytes and not be empty. */
static int check_name(const struct kvm_stats *s, const char *name, size_t size, const char *part)
{
	if (!memchr(name, '\0', size))
		return err_set("kvm_stats: %s: %s: name not NUL-terminated", s->what, part);
	if (!name[0])
		return err_set("kvm_stats: %s: %s: empty name", s->what, part);
	return 0;
}

/* The value range of one descriptor must lie inside a bounded data block. */
static int check_desc(const struct kvm_stats *s, size_t i, const struct kvm_stats_desc *d,
		      const char *name)
{
	uint64_t end = (uint64_t)d->offset + (uint64_t)d->size * 8;

	if (d->size == 0)
		return err_set("kvm_stats: %s: desc[%zu] (%s): size 0", s->what, i, name);
	if (d->offset % 8)
		return err_set("kvm_stats: %s: desc[%zu] (%s): offset 0x%x not 8-aligned", s->what,
			       i, name, d->offset);
	if (end > STATS_DATA_BYTES_MAX)
		return err_set("kvm_stats: %s: desc[%zu] (%s): values end at 0x%llx > 0x%x",
			       s->what, i, name, (unsigned long long)end, STATS_DATA_BYTES_MAX);
	return 0;
}

static int parse_descs(struct kvm_stats *s, const struct kvm_stats_header *h)
{
	size_t dsz = sizeof(struct kvm_stats_desc) + h->name_size;
	size_t total = dsz * h->num_desc, data_bytes = 0;
	char *raw = malloc(total ? total : 1);
	char part[32];

	s->stat = calloc(h->num_desc ? h->num_desc : 1, sizeof(*s->stat));
	s->names = malloc((size_t)h->name_size * (h->num_desc ? h->num_desc : 1));
	if (!raw || !s->stat || !s->names) {
		free(raw);
		return err_set("kvm_stats: %s: out of memory for %u descriptors", s->what,
			       h->num_desc);
	}
	if (total && pread_exact(s, raw, total, h->desc_offset, "descriptors")) {
		free(raw);
		return -1;
	}
	for (size_t i = 0; i < h->num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(raw + i * dsz);
		char *name = s->names + i * h->name_size;
		struct kvm_stat *st = &s->stat[i];

		memcpy(name, raw + i * dsz + sizeof(*d), h->name_size);
		snprintf(part, sizeof(part), "desc[%zu]", i);
		if (check_name(s, name, h->name_size, part) || check_desc(s, i, d, name)) {
			free(raw);
			return -1;
		}
		*st = (struct kvm_stat){
		    .name = name,
		    .type = stat_type(d->flags),
		    .unit = stat_unit(d->flags),
		    .base = stat_base(d->flags),
		    .exponent = d->exponent,
		    .offset = d->offset,
		    .size = d->size,
		};
		if (st->offset + (size_t)st->size * 8 > data_bytes)
			data_bytes = st->offset + (size_t)st->size * 8;
		s->n = i + 1;
	}
	free(raw);
	s->data_offset = h->data_offset;
	s->data_words = data_bytes / 8;
	return 0;
}

int kvm_stats_open_fd(struct kvm_stats *s, int stats_fd, const char *what)
{
	struct kvm_stats_header h;
	char id[STATS_NAME_SIZE_MAX];

	memset(s, 0, sizeof(*s));
	s->fd = stats_fd;
	snprintf(s->what, sizeof(s->what), "%s", what);
	if (pread_exact(s, &h, sizeof(h), 0, "header") || check_header(s, &h) ||
	    pread_exact(s, id, h.name_size, h.id_offset, "id") ||
	    check_name(s, id, h.name_size, "id") || parse_descs(s, &h)) {
		kvm_stats_close(s);
		return -1;
	}
	snprintf(s->id, sizeof(s->id), "%s", id);
	return 0;
}

int kvm_stats_open(struct kvm_stats *s, int fd, const char *what)
{
	int stats_fd = ioctl(fd, KVM_GET_STATS_FD, NULL);

	if (stats_fd < 0) {
		memset(s, 0, sizeof(*s));
		s->fd = -1;
		return err_set("kvm_stats: %s: KVM_GET_STATS_FD: %s", what, strerror(errno));
	}
	return kvm_stats_open_fd(s, stats_fd, what);
}

void kvm_stats_close(struct kvm_stats *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->stat);
	free(s->names);
	s->fd = -1;
	s->stat = NULL;
	s->names = NULL;
	s->n = 0;
	s->data_words = 0;
}

const struct kvm_stat *kvm_stats_find(const struct kvm_stats *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->stat[i].name, name))
			return &s->stat[i];
	return NULL;
}

int kvm_stats_read(const struct kvm_stats *s, uint64_t *data, size_t words)
{
	if (words < s->data_words)
		return err_set("kvm_stats: %s: read: buffer of %zu words < %zu", s->what, words,
			       s->data_words);
	if (!s->data_words)
		return 0;
	return pread_exact(s, data, s->data_words * 8, s->data_offset, "data");
}

int kvm_stats_get(const struct kvm_stats *s, const char *name, uint64_t *val)
{
	const struct kvm_stat *st = kvm_stats_find(s, name);

	if (!st)
		return err_set("kvm_stats: %s: no statistic %s", s->what, name);
	return pread_exact(s, val, sizeof(*val), s->data_offset + st->offset, name);
}

int kvm_stats_same_layout(const struct kvm_stats *a, const struct kvm_stats *b)
{
	if (a->n != b->n || a->data_words != b->data_words)
		return err_set("kvm_stats: %s: %zu statistics in %zu words, %s has %zu in %zu",
			       b->what, b->n, b->data_words, a->id, a->n, a->data_words);
	for (size_t i = 0; i < a->n; i++) {
		const struct kvm_stat *x = &a->stat[i], *y = &b->stat[i];

		if (strcmp(x->name, y->name) || x->type != y->type || x->offset != y->offset ||
		    x->size != y->size)
			return err_set("kvm_stats: %s: desc[%zu] (%s) differs from %s's", b->what,
				       i, y->name, a->id);
	}
	return 0;
}

void kvm_stats_fold(const struct kvm_stats *s, uint64_t *acc, const uint64_t *data)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct kvm_stat *st = &s->stat[i];

		for (size_t w = st->offset / 8; w < st->offset / 8 + st->size; w++)
			if (st->type != KVM_STAT_PEAK)
				acc[w] += data[w];
			else if (data[w] > acc[w])
				acc[w] = data[w];
	}
}
