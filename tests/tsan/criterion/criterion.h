/*
 * tests/tsan/criterion/criterion.h - a tiny stand-in for criterion, used
 * only to run tests/unit/test_queue.c under ThreadSanitizer.
 *
 * Criterion 2.4's BoxFort arena cannot be mapped beside TSan's shadow
 * memory (criterion issue #274: "Could not initialize inheritable arena"),
 * so under TSan the same test file is compiled against this header instead:
 * every Test() registers itself and main() runs them in one process, in
 * order; a failed assertion aborts with its location.  Only what
 * test_queue.c uses is provided.
 */
#ifndef DX_TSAN_CRITERION_H
#define DX_TSAN_CRITERION_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shim_test {
	const char	*name;
	void		(*fn)(void);
};

static struct shim_test shim_tests[256];
static int shim_ntests;

static void
shim_register(const char *name, void (*fn)(void))
{
	if (shim_ntests == (int)(sizeof(shim_tests) / sizeof(shim_tests[0]))) {
		fprintf(stderr, "shim: too many tests\n");
		abort();
	}
	shim_tests[shim_ntests].name = name;
	shim_tests[shim_ntests++].fn = fn;
}

static void
shim_fail(const char *file, int line, const char *cond)
{
	fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, cond);
	abort();
}

#define Test(suite, name, ...)						\
	static void suite##_##name(void);				\
	__attribute__((constructor)) static void			\
	shim_reg_##suite##_##name(void)					\
	{								\
		shim_register(#suite "::" #name, suite##_##name);	\
	}								\
	static void suite##_##name(void)

#define cr_assert(c, ...)	do { if (!(c)) shim_fail(__FILE__, __LINE__, #c); } while (0)
#define cr_expect(c, ...)	cr_assert(c)
#define cr_assert_not(c, ...)	cr_assert(!(c))
#define cr_assert_eq(a, b, ...)	cr_assert((a) == (b))
#define cr_assert_neq(a, b, ...) cr_assert((a) != (b))
#define cr_assert_lt(a, b, ...)	cr_assert((a) < (b))
#define cr_assert_leq(a, b, ...) cr_assert((a) <= (b))
#define cr_assert_gt(a, b, ...)	cr_assert((a) > (b))
#define cr_assert_geq(a, b, ...) cr_assert((a) >= (b))
#define cr_assert_null(a, ...)	cr_assert((a) == NULL)
#define cr_assert_not_null(a, ...) cr_assert((a) != NULL)
#define cr_assert_str_eq(a, b, ...) cr_assert(strcmp((a), (b)) == 0)
#define cr_skip_test(...)						\
	do { fprintf(stderr, "skip: " __VA_ARGS__); fputc('\n', stderr); return; } while (0)
#define cr_log_info(...)						\
	do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } while (0)

int
main(void)
{
	for (int i = 0; i < shim_ntests; i++) {
		fprintf(stderr, "run %s\n", shim_tests[i].name);
		shim_tests[i].fn();
	}
	fprintf(stderr, "tsan: %d passed, 0 failed\n", shim_ntests);
	return 0;
}

#endif
