/* Sampling KVM's page-size gauges: one pread of the VM statistics block per
 * sample (about a microsecond), cheap next to the exit that precedes it. */
#include "kvm/kvm_pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

const char *const kvm_pages_stat_name[PS_COUNT] = {"pages_4k", "pages_2m", "pages_1g"};

static void kvm_pages_fail(struct kvm_pages *p, const char *why)
{
	p->known = false;
	snprintf(p->error, sizeof(p->error), "%s", why);
}

void kvm_pages_open(struct kvm_pages *p, int vm_fd)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->stats.fd = -1;
	if (kvm_stats_open(&p->stats, vm_fd, "vm") < 0) {
		kvm_pages_fail(p, err_msg());
		return;
	}
	for (i = 0; i < PS_COUNT; i++) {
		p->stat[i] = kvm_stats_find(&p->stats, kvm_pages_stat_name[i]);
		if (!p->stat[i]) {
			char why[96];
			snprintf(why, sizeof(why), "KVM has no VM statistic %s",
				 kvm_pages_stat_name[i]);
			kvm_pages_fail(p, why);
			return;
		}
	}
	p->data = calloc(p->stats.data_words ? p->stats.data_words : 1, sizeof(uint64_t));
	if (!p->data) {
		kvm_pages_fail(p, "out of memory");
		return;
	}
	p->known = true;
	kvm_pages_sample(p);
}

void kvm_pages_sample(struct kvm_pages *p)
{
	int i;

	if (!p->known)
		return;
	if (kvm_stats_read(&p->stats, p->data, p->stats.data_words) < 0) {
		kvm_pages_fail(p, err_msg());
		return;
	}
	for (i = 0; i < PS_COUNT; i++) {
		p->last[i] = kvm_stat_value(p->stat[i], p->data);
		if (p->last[i] > p->peak[i])
			p->peak[i] = p->last[i];
	}
	p->samples++;
}

void kvm_pages_close(struct kvm_pages *p)
{
	if (p->stats.fd >= 0)
		kvm_stats_close(&p->stats);
	free(p->data);
	p->data = NULL;
}
