/* The vCPU object: the one checked ioctl names the vCPU and the ioctl, the
 * register cache writes only what is dirty and reads only what is stale,
 * and the kick and the timer make KVM_RUN return. The first tests need no
 * /dev/kvm (an fd of -1 makes every ioctl fail); the last use a real one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kvm/kvm.h"
#include "kvm/vcpu.h"
#include "unit.h"
#include "util/err.h"

static struct vcpu no_kvm_vcpu(int index)
{
	return (struct vcpu){.index = index, .fd = -1};
}

START_TEST(ioctl_error_names_vcpu_and_ioctl)
{
	struct vcpu v = no_kvm_vcpu(3);
	struct kvm_regs r;

	ck_assert_int_eq(vcpu_ioctl(&v, KVM_GET_REGS, &r), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_str_eq(err_msg(), "vcpu 3: KVM_GET_REGS: Bad file descriptor");
	ck_assert_int_eq(vcpu_get_sregs(&v, &(struct kvm_sregs){0}), -1);
	ck_assert_str_eq(err_msg(), "vcpu 3: KVM_GET_SREGS: Bad file descriptor");
}
END_TEST

START_TEST(cache_reads_what_was_set_and_writes_it_later)
{
	struct vcpu v = no_kvm_vcpu(0);
	struct kvm_regs r = {.rip = 0x401000, .rax = 42};
	struct kvm_sregs s = {.cr3 = 0x19000};

	/* Set, then get: served from the cache, no ioctl (it would fail). */
	vcpu_set_regs(&v, &r);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(vcpu_get_regs(&v, &r), 0);
	ck_assert_uint_eq(r.rip, 0x401000);
	ck_assert_uint_eq(r.rax, 42);
	vcpu_set_sregs(&v, &s);
	/* The write happens at the flush: sregs first, and it stays dirty. */
	err_clear();
	ck_assert_int_eq(vcpu_flush(&v), -1);
	ck_assert_str_eq(err_msg(), "vcpu 0: KVM_SET_SREGS: Bad file descriptor");
	ck_assert(v.sregs_state.dirty && v.regs_state.dirty);
	/* vcpu_run writes before it enters, so it fails the same way. */
	ck_assert_int_eq(vcpu_run(&v), -1);
	ck_assert_str_eq(err_msg(), "vcpu 0: KVM_SET_SREGS: Bad file descriptor");
}
END_TEST

START_TEST(nothing_dirty_writes_nothing)
{
	struct vcpu v = no_kvm_vcpu(1);

	ck_assert_int_eq(vcpu_flush(&v), 0);
	ck_assert_int_eq(vcpu_run(&v), -1);
	ck_assert_str_eq(err_msg(), "vcpu 1: KVM_RUN: Bad file descriptor");
}
END_TEST

/* A real vCPU of a VM without memory: it never runs guest code, but
 * KVM_RUN with immediate_exit returns EINTR before it would. */
static bool real_vcpu(struct kvm *k, struct vcpu *v, const char *test)
{
	if (kvm_open(k) < 0 || kvm_create_vm(k) < 0) {
		printf("SKIP %s: %s\n", test, err_msg());
		kvm_close(k);
		return false;
	}
	ck_assert_msg(vcpu_create(v, k, 0) == 0, "%s", err_msg());
	return true;
}

START_TEST(real_kick_and_state)
{
	struct kvm k;
	struct vcpu v;
	struct kvm_regs r;
	struct kvm_sregs s;

	if (!real_vcpu(&k, &v, "real_kick_and_state"))
		return;
	ck_assert_int_eq(vcpu_get_regs(&v, &r), 0);
	ck_assert_int_eq(vcpu_get_sregs(&v, &s), 0);
	r.rip = 0x1234;
	r.rbx = 0x5678;
	vcpu_set_regs(&v, &r);
	ck_assert(!vcpu_should_stop(&v));
	ck_assert_int_eq(vcpu_request_stop(&v), 0);
	ck_assert(vcpu_should_stop(&v));
	ck_assert_int_eq(v.run->immediate_exit, 1);
	/* The registers are written, then KVM_RUN returns at once. */
	ck_assert_int_eq(vcpu_run(&v), VCPU_RUN_INTR);
	ck_assert_int_eq(v.run->immediate_exit, 0);
	ck_assert(!v.regs_state.dirty && !v.regs_state.valid);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(vcpu_get_regs(&v, &r), 0);
	ck_assert_uint_eq(r.rip, 0x1234);
	ck_assert_uint_eq(r.rbx, 0x5678);
	vcpu_destroy(&v);
	ck_assert_int_eq(v.fd, -1);
	kvm_close(&k);
}
END_TEST

START_TEST(real_timeout)
{
	struct kvm k;
	struct vcpu v;
	struct timespec t = {.tv_nsec = 1000000};

	if (!real_vcpu(&k, &v, "real_timeout"))
		return;
	ck_assert_int_eq(vcpu_arm_timeout(&v, 0.001), 0);
	/* The timer's signal reaches this thread within a few ms. */
	for (int i = 0; i < 5000 && !__atomic_load_n(&v.timed_out, __ATOMIC_ACQUIRE); i++)
		nanosleep(&t, NULL);
	ck_assert(v.timed_out && vcpu_should_stop(&v));
	ck_assert(!v.stop_requested);
	ck_assert_int_eq(v.run->immediate_exit, 1);
	ck_assert_int_eq(vcpu_run(&v), VCPU_RUN_INTR);
	vcpu_destroy(&v);
	kvm_close(&k);
}
END_TEST

static Suite *vcpu_suite(void)
{
	Suite *s = suite_create("vcpu");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, ioctl_error_names_vcpu_and_ioctl);
	tcase_add_test(tc, cache_reads_what_was_set_and_writes_it_later);
	tcase_add_test(tc, nothing_dirty_writes_nothing);
	tcase_add_test(tc, real_kick_and_state);
	tcase_add_test(tc, real_timeout);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(vcpu_suite)
