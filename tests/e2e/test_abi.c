/* End-to-end tests of the Linux ABI beyond memory: pipes and fds, files in
 * granted directories and the private /tmp, and signals. Each payload runs
 * natively and under ./vmm run, glibc and musl builds, and must print the
 * same and end with the same status. */
#include "e2e.h"
#include "unit.h"

/* Runs payload NAME-LIBC-static.elf natively (argv nat_pre... then args)
 * and in the guest (vmm run vmm_opts... payload args...), compares. */
static void same_as_native(const char *name, const char *const *vmm_opts, const char *const *args,
			   int want_status)
{
	static const char *const libcs[] = {"glibc", "musl"};

	for (size_t l = 0; l < 2; l++) {
		char elf[256], *nat[32], *gst[48];
		struct run_result n, g;
		int k = 0, j = 0;

		snprintf(elf, sizeof(elf), TPAY_DIR "%s-%s-static.elf", name, libcs[l]);
		nat[k++] = elf;
		gst[j++] = VMM_BIN;
		gst[j++] = "run";
		for (size_t i = 0; vmm_opts && vmm_opts[i]; i++)
			gst[j++] = (char *)vmm_opts[i];
		gst[j++] = elf;
		for (size_t i = 0; args && args[i]; i++)
			nat[k++] = gst[j++] = (char *)args[i];
		nat[k] = gst[j] = NULL;
		e2e_runv(&n, NULL, nat);
		e2e_runv(&g, NULL, gst);
		ck_assert_msg(n.status == want_status, "%s native: status %d, want %d\n%s", elf,
			      n.status, want_status, n.err);
		ck_assert_msg(g.status == want_status, "%s guest: status %d, want %d\n%s", elf,
			      g.status, want_status, g.err);
		ck_assert_msg(n.out_len == g.out_len && memcmp(n.out, g.out, n.out_len) == 0,
			      "%s: output differs\n--- native\n%s--- guest\n%s", elf, n.out, g.out);
		e2e_free(&n);
		e2e_free(&g);
	}
}

START_TEST(pipes_dup_poll_like_native)
{
	same_as_native("pipes", NULL, NULL, 0);
}
END_TEST

static Suite *abi_suite(void)
{
	Suite *s = suite_create("e2e_abi");
	TCase *tc = tcase_create("abi");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, pipes_dup_poll_like_native);
	suite_add_tcase(s, tc);
	return s;
}

E2E_MAIN(abi_suite, "e2e_abi")
