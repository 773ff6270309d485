/* Shared by the Check unit and end-to-end tests: the suite main(), sizes,
 * a cheap assertion for hot loops (REQUIRE), a reproducible random
 * generator, /proc and /sys numbers, and must-exist JSON lookups.
 * A file whose tests form one test case ends with
 *	UNIT_SUITE_MAIN("name", setup, teardown, timeout_s, test_a, test_b, ...)
 * (setup and teardown may be NULL, timeout_s 0 for Check's default); one
 * with several test cases builds them with UNIT_TCASE() in its own suite
 * function and ends with UNIT_MAIN(that_function). The KVM-free guest
 * fixture is in guest_fixture.h. */
#ifndef VMM_TESTS_UNIT_H
#define VMM_TESTS_UNIT_H

#include <check.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define KB (1ull << 10)
#define MB (1ull << 20)
#ifndef ARRAY_SIZE /* the same as util/types.h's, for the e2e tests */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* For hot loops: ck_assert records every passing check, which costs
 * seconds over a million iterations under ASan. */
#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!(c))                                                                          \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c);                         \
	} while (0)

/* xorshift64: the same sequence on every run for a given seed, so a
 * randomized test that fails fails again. *state must not be 0. */
static inline uint64_t unit_rand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* The number a /proc or /sys file (a hugetlb pool, say) starts with; false
 * when it cannot be read. */
static inline bool unit_read_u64(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%" SCNu64, v) == 1;
	fclose(f);
	return ok;
}

/* Writes v to such a file; false when the kernel refused it. */
static inline bool unit_write_u64(const char *path, uint64_t v)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%" PRIu64 "\n", v) > 0;
	return fclose(f) == 0 && ok;
}

/* The member of JSON object o at the path of keys that follows, ended by
 * NULL; every key must be there:
 *	unit_json_path(root, "kvm_pages", "pages_2m", NULL) */
__attribute__((sentinel)) static inline json_object *unit_json_path(json_object *o, ...)
{
	const char *key, *missing = NULL;
	va_list ap;

	va_start(ap, o);
	while (!missing && (key = va_arg(ap, const char *)) != NULL)
		if (!json_object_object_get_ex(o, key, &o))
			missing = key;
	va_end(ap);
	ck_assert_msg(!missing, "no key %s in JSON", missing);
	return o;
}

/* A new test case `name` in suite s holding the tests of the NULL-ended
 * list; fixtures and a timeout may be added to the result afterwards. */
static inline TCase *unit_tcase(Suite *s, const char *name, const TTest *const *tests)
{
	TCase *tc = tcase_create(name);

	for (; *tests; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
	return tc;
}

/* TCase *tc = UNIT_TCASE(s, "core", test_a, test_b, ...); */
#define UNIT_TCASE(s, name, ...) unit_tcase((s), (name), (const TTest *const[]){__VA_ARGS__, NULL})

/* Runs every test of s and frees it: the exit status of a test binary. */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* The suite `name` of one test case (named after it too) holding the tests
 * of the NULL-ended list, with a checked fixture when setup or teardown is
 * not NULL and, when timeout_s is not 0, that timeout instead of Check's. */
static inline Suite *unit_suite(const char *name, void (*setup)(void), void (*teardown)(void),
				double timeout_s, const TTest *const *tests)
{
	Suite *s = suite_create(name);
	TCase *tc = unit_tcase(s, name, tests);

	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	if (timeout_s > 0)
		tcase_set_timeout(tc, timeout_s);
	return s;
}

/* main() of a test binary whose suite is built by suite_fn(). */
#define UNIT_MAIN(suite_fn)                                                                        \
	int main(void)                                                                             \
	{                                                                                          \
		return unit_run(suite_fn());                                                       \
	}

/* main() of a test binary of one suite with one test case: see unit_suite()
 * for the arguments; the tests follow them. */
#define UNIT_SUITE_MAIN(name, setup, teardown, timeout_s, ...)                                     \
	int main(void)                                                                             \
	{                                                                                          \
		return unit_run(unit_suite((name), (setup), (teardown), (timeout_s),               \
					   (const TTest *const[]){__VA_ARGS__, NULL}));            \
	}

#endif
