/*
 * test_hostset.c - drone sets: expansion, globs and every parse error with
 * its column.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "hostset.h"

struct hs_case {
	const char	*spec;
	const char	*want;		/* expanded names joined by ' ' */
};

static const struct hs_case expand_cases[] = {
	{ "web-01", "web-01" },
	{ "web-[01-03]", "web-01 web-02 web-03" },
	{ "web-[01-03,25],db-1", "web-01 web-02 web-03 web-25 db-1" },
	{ "n[8-10]", "n8 n9 n10" },
	{ "n[008-010]", "n008 n009 n010" },
	{ "n[01-100/33]", "n01 n34 n67 n100" },
	{ "n[0-3]", "n0 n1 n2 n3" },
	{ "n[00-02]", "n00 n01 n02" },
	{ "n[5]", "n5" },
	{ "n[05]", "n05" },
	{ "[1-3]", "1 2 3" },
	{ "r[1-2]-n[1-3]", "r1-n1 r1-n2 r1-n3 r2-n1 r2-n2 r2-n3" },
	{ "r[1-2]n[1,3]x", "r1n1x r1n3x r2n1x r2n3x" },
	{ "n[1-10/2]", "n1 n3 n5 n7 n9" },
	{ "n[1-10/4],m", "n1 n5 n9 m" },
	{ "  a , b\t,c  ", "a b c" },
	{ "n[ 1 , 3 ]", "n1 n3" },
	{ "a,a", "a a" },
	{ "web-*", "web-*" },
	{ "web-[1-2]*", "web-1* web-2*" },
	{ "db?", "db?" },
	{ "a\\b", "a\\b" },
	{ "x[999999999999999998-999999999999999999]",
	  "x999999999999999998 x999999999999999999" },
};

static void
hs_join(const struct dx_hostset *set, char *out, size_t outsz)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < set->n; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%s",
		    i ? " " : "", set->names[i]);
}

Test(hostset, expands_ranges_keeping_zero_padding_and_order)
{
	struct dx_hostset set;
	struct dx_err err = { 0 };
	char got[1024];
	size_t i;

	for (i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]); i++) {
		const struct hs_case *c = &expand_cases[i];

		cr_assert_eq(dx_hostset_parse(&set, c->spec, &err), 0,
		    "'%s': %s", c->spec, err.msg);
		hs_join(&set, got, sizeof(got));
		cr_expect_str_eq(got, c->want, "'%s'", c->spec);
		dx_hostset_release(&set);
	}
}

struct hs_bad {
	const char	*spec;
	const char	*msg;		/* whole message, "column N: ..." */
};

static const struct hs_bad error_cases[] = {
	{ "", "column 1: empty drone set" },
	{ "   ", "column 1: empty drone set" },
	{ "a,,b", "column 3: empty element" },
	{ "a,", "column 3: empty element" },
	{ ",a", "column 1: empty element" },
	{ "a, ,b", "column 4: empty element" },
	{ "web-[01-03", "column 5: unclosed '['" },
	{ "a,web[1,2", "column 6: unclosed '['" },
	{ "web-01]", "column 7: unexpected ']'" },
	{ "web[1[2]]", "column 6: nested '['" },
	{ "web[]", "column 5: empty range" },
	{ "web[1,,2]", "column 7: empty range" },
	{ "web[1,]", "column 7: empty range" },
	{ "web[5-1]", "column 5: reversed range '5-1'" },
	{ "a,web[01-20,10-09]", "column 13: reversed range '10-09'" },
	{ "web[a]", "column 5: non-digit in range" },
	{ "web[1-b]", "column 7: non-digit in range" },
	{ "web[1x]", "column 6: non-digit in range" },
	{ "web[-3]", "column 5: non-digit in range" },
	{ "web[1-]", "column 7: missing end of range" },
	{ "web[1-3/]", "column 9: missing step" },
	{ "web[1-3/0]", "column 9: zero step" },
	{ "web[1-3/x]", "column 9: non-digit in range" },
	{ "web[1-2 3]", "column 8: non-digit in range" },
	{ "n[1-010]", "column 3: zero padding of '1' and '010' differs" },
	{ "n[1234567890123456789]", "column 3: number too big" },
	{ "n[1-1234567890123456789]", "column 5: number too big" },
	{ "n[0-1000000]", "column 3: range expands to more than 1000000 names" },
	{ "n[1-1000],m[1-1000]", NULL },
	{ "n[1-1000]x[1-1001]",
	  "column 1: element expands to more than 1000000 names" },
	{ "a,n[1-500000],m[1-500000]",
	  "column 15: set expands to more than 1000000 names" },
	{ "n[1-999999999999999999]",
	  "column 3: range expands to more than 1000000 names" },
	{ "a b", "column 2: whitespace in name" },
	{ "a,b\tc", "column 4: whitespace in name" },
};

Test(hostset, reports_each_error_with_its_column)
{
	struct dx_hostset set;
	struct dx_err err;
	size_t i;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct hs_bad *c = &error_cases[i];

		memset(&err, 0, sizeof(err));
		if (c->msg == NULL) {
			/* A control case: large but legal. */
			cr_expect_eq(dx_hostset_parse(&set, c->spec, &err), 0,
			    "'%s': %s", c->spec, err.msg);
			dx_hostset_release(&set);
			continue;
		}
		cr_expect_eq(dx_hostset_parse(&set, c->spec, &err), -1,
		    "'%s' parsed", c->spec);
		cr_expect_eq(err.kind, DX_USAGE, "'%s'", c->spec);
		cr_expect_str_eq(err.msg, c->msg, "'%s'", c->spec);
		cr_expect_null(set.names);
		cr_expect_eq(set.n, 0);
		dx_hostset_release(&set);
	}
}

Test(hostset, expands_exactly_the_maximum)
{
	struct dx_hostset set;
	struct dx_err err = { 0 };

	cr_assert_eq(dx_hostset_parse(&set, "n[1-1000]-[1-1000]", &err), 0,
	    "%s", err.msg);
	cr_expect_eq(set.n, DX_HOSTSET_MAX);
	cr_expect_str_eq(set.names[0], "n1-1");
	cr_expect_str_eq(set.names[1000], "n2-1");
	cr_expect_str_eq(set.names[DX_HOSTSET_MAX - 1], "n1000-1000");
	dx_hostset_release(&set);
}

Test(hostset, refuses_a_huge_product_before_allocating)
{
	struct dx_hostset set;
	struct dx_err err = { 0 };

	/* 10^6 ^ 4 would overflow a naive product. */
	cr_expect_eq(dx_hostset_parse(&set,
	    "a[1-999999]b[1-999999]c[1-999999]d[1-999999]", &err), -1);
	cr_expect_str_eq(err.msg,
	    "column 1: element expands to more than 1000000 names");
}

Test(hostset, refuses_a_set_too_large_in_bytes)
{
	struct dx_hostset set;
	struct dx_err err = { 0 };
	static char spec[1200];

	/* 1000 names under the count limit, but each of ~1 KiB: fine. */
	memset(spec, 'x', 1000);
	strcpy(spec + 1000, "[1-1000]");
	cr_expect_eq(dx_hostset_parse(&set, spec, &err), 0, "%s", err.msg);
	dx_hostset_release(&set);
	/* 10^6 names of ~1 KiB would be a gigabyte. */
	strcpy(spec + 1000, "[1-1000000]");
	cr_expect_eq(dx_hostset_parse(&set, spec, &err), -1);
	cr_expect_str_eq(err.msg,
	    "column 1: set expands to more than 256 MiB of names");
}

struct hs_match {
	const char	*spec;
	const char	*name;
	bool		 want;
};

static const struct hs_match match_cases[] = {
	{ "web-[01-20,25],db-1", "web-07", true },
	{ "web-[01-20,25],db-1", "web-7", false },
	{ "web-[01-20,25],db-1", "web-21", false },
	{ "web-[01-20,25],db-1", "web-25", true },
	{ "web-[01-20,25],db-1", "db-1", true },
	{ "web-[01-20,25],db-1", "db-10", false },
	{ "web-*", "web-01", true },
	{ "web-*", "web-", true },
	{ "web-*", "db-01", false },
	{ "db?", "db1", true },
	{ "db?", "db10", false },
	{ "r[1-2]*", "r2-n9", true },
	{ "r[1-2]*", "r3-n9", false },
	/* Brackets never become glob classes: "[1-2]" is a range. */
	{ "n[1-2]?", "n[1-2]x", false },
	{ "a\\*", "a\\b", true },
	{ "a\\*", "a*", false },
};

Test(hostset, matches_names_and_globs)
{
	struct dx_hostset set;
	struct dx_err err = { 0 };
	size_t i;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct hs_match *c = &match_cases[i];

		cr_assert_eq(dx_hostset_parse(&set, c->spec, &err), 0, "%s",
		    err.msg);
		cr_expect_eq(dx_hostset_match(&set, c->name), c->want,
		    "'%s' ~ '%s'", c->spec, c->name);
		dx_hostset_release(&set);
	}
}

Test(hostset, tells_globs_from_names)
{
	cr_expect(dx_hostset_is_glob("web-*"));
	cr_expect(dx_hostset_is_glob("db?"));
	cr_expect_not(dx_hostset_is_glob("web-01"));
	cr_expect_not(dx_hostset_is_glob("web-[1-2]"));
}

Test(hostset, release_is_safe_twice)
{
	struct dx_hostset set;
	struct dx_err err = { 0 };

	cr_assert_eq(dx_hostset_parse(&set, "a,b", &err), 0);
	dx_hostset_release(&set);
	dx_hostset_release(&set);
	dx_hostset_release(NULL);
	cr_expect_eq(set.n, 0);
}

struct fold_case {
	const char	*names;		/* joined by ' ' */
	const char	*want;
};

static const struct fold_case fold_cases[] = {
	{ "", "" },
	{ "web-01", "web-01" },
	{ "web-01 web-02 web-03", "web-[01-03]" },
	{ "web-01 web-02 web-03 web-05 db-1", "db-1,web-[01-03,05]" },
	{ "web-05 web-01 web-03 web-02", "web-[01-03,05]" },
	{ "n8 n9 n10", "n[8-10]" },
	{ "n08 n09 n10 n7", "n[7,08-10]" },
	{ "n008 n009 n010", "n[008-010]" },
	{ "n098 n099 n100", "n[098-100]" },
	{ "n1 n01", "n[1,01]" },
	{ "n9 n10 n11 n2", "n[2,9-11]" },
	{ "rack1-n1 rack1-n2 rack2-n1", "rack1-n[1-2],rack2-n1" },
	{ "rack10-n1 rack2-n1 rack2-n2", "rack2-n[1-2],rack10-n1" },
	{ "n1x n2x n3", "n[1-2]x,n3" },
	{ "alpha beta", "alpha,beta" },
	{ "beta alpha gamma", "alpha,beta,gamma" },
	{ "a a b", "a,b" },
	{ "n1 n1 n2", "n[1-2]" },
	{ "7 8 9", "[7-9]" },
	{ "web web1 web2", "web,web[1-2]" },
	{ "odd[1] n2 n3", "n[2-3],odd[1]" },
	{ "x1234567890123456789 x1", "x1,x1234567890123456789" },
	{ "caf\xc3\xa9-1 caf\xc3\xa9-2", "caf\xc3\xa9-[1-2]" },
};

/* Splits a ' '-joined list into a names array (in place in buf). */
static size_t
fold_split(char *buf, const char **names, size_t max)
{
	size_t n = 0;

	for (char *tok = strtok(buf, " "); tok != NULL && n < max;
	    tok = strtok(NULL, " "))
		names[n++] = tok;
	return n;
}

Test(hostset, folds_names_into_ranges)
{
	for (size_t i = 0; i < sizeof(fold_cases) / sizeof(fold_cases[0]); i++) {
		char buf[256];
		const char *names[32];
		size_t n;
		char *got;

		snprintf(buf, sizeof(buf), "%s", fold_cases[i].names);
		n = fold_split(buf, names, 32);
		got = dx_hostset_fold(names, n);
		cr_assert_not_null(got);
		cr_expect_str_eq(got, fold_cases[i].want, "case %zu ('%s')", i,
		    fold_cases[i].names);
		free(got);
	}
}

Test(hostset, a_fold_parses_back_to_the_same_names)
{
	for (size_t i = 1; i < sizeof(fold_cases) / sizeof(fold_cases[0]); i++) {
		char buf[256], back[1024];
		const char *names[32];
		struct dx_hostset set;
		struct dx_err err = { 0 };
		size_t n;
		char *got;

		if (strchr(fold_cases[i].names, '[') != NULL)
			continue;	/* a literal bracket does not parse back */
		snprintf(buf, sizeof(buf), "%s", fold_cases[i].names);
		n = fold_split(buf, names, 32);
		got = dx_hostset_fold(names, n);
		cr_assert_not_null(got);
		cr_assert_eq(dx_hostset_parse(&set, got, &err), 0, "case %zu '%s': %s",
		    i, got, err.msg);
		hs_join(&set, back, sizeof(back));
		/* The parse of the fold, re-folded, is the fold itself. */
		free(got);
		got = dx_hostset_fold((const char *const *)set.names, set.n);
		cr_assert_not_null(got);
		cr_expect_str_eq(got, fold_cases[i].want, "case %zu: '%s'", i, back);
		/* And it holds every input name. */
		for (size_t k = 0; k < n; k++)
			cr_expect(dx_hostset_match(&set, names[k]), "case %zu lost '%s'",
			    i, names[k]);
		free(got);
		dx_hostset_release(&set);
	}
}

Test(hostset, a_thousand_names_fold_to_one_short_element)
{
	static char store[1000][16];
	const char *names[1000];
	char *got;

	for (int i = 0; i < 1000; i++) {
		/* Out of order on purpose: the fold sorts. */
		snprintf(store[i], sizeof(store[i]), "web-%04d", (i * 7) % 1000 + 1);
		names[i] = store[i];
	}
	got = dx_hostset_fold(names, 1000);
	cr_assert_not_null(got);
	cr_expect_str_eq(got, "web-[0001-1000]");
	free(got);
}

Test(hostset, fold_max_keeps_whole_elements_and_counts_the_rest)
{
	const char *names[] = { "alpha", "beta", "gamma", "n1", "n2", "n3", "zeta" };
	size_t omitted = 99;
	char *got;

	got = dx_hostset_fold_max(names, 7, 12, &omitted);
	cr_assert_not_null(got);
	cr_expect_str_eq(got, "alpha,beta");
	cr_expect_eq(omitted, 5, "omitted %zu", omitted);
	free(got);

	got = dx_hostset_fold_max(names, 7, 3, &omitted);
	cr_expect_str_eq(got, "alpha", "the first element is always kept");
	cr_expect_eq(omitted, 6);
	free(got);

	got = dx_hostset_fold_max(names, 7, 0, &omitted);
	cr_expect_str_eq(got, "alpha,beta,gamma,n[1-3],zeta");
	cr_expect_eq(omitted, 0);
	free(got);
}

Test(hostset, fold_max_cuts_inside_a_bracket_and_counts_the_rest)
{
	static char store[100][8];
	const char *names[100];
	size_t omitted = 0;
	struct dx_hostset set;
	struct dx_err err = { 0 };
	char *got;

	/* Every other number: nothing joins into a range. */
	for (int i = 0; i < 100; i++) {
		snprintf(store[i], sizeof(store[i]), "n%03d", 2 * i + 1);
		names[i] = store[i];
	}
	got = dx_hostset_fold_max(names, 100, 30, &omitted);
	cr_assert_not_null(got);
	cr_expect_str_eq(got, "n[001,003,005,007,009,011,013]");
	cr_expect_eq(omitted, 93);
	/* What is shown still parses. */
	cr_expect_eq(dx_hostset_parse(&set, got, &err), 0, "%s", err.msg);
	cr_expect_eq(set.n, 7);
	dx_hostset_release(&set);
	free(got);
}
