/*
 * test_utf8.c - UTF-8 validity, character-boundary cuts, scrubbing, and
 * error messages that stay valid UTF-8 when their buffer cuts them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dronex.h"
#include "utf8.h"

/* "é" is c3 a9, "✓" e2 9c 93, U+1F680 f0 9f 9a 80. */
struct cut_case {
	const char	*s;
	size_t		 max;
	size_t		 want;
};

Test(utf8, cut_never_splits_a_character)
{
	static const struct cut_case cases[] = {
		{ "abc", 10, 3 },		/* shorter than max: whole */
		{ "abc", 3, 3 },
		{ "abc", 2, 2 },
		{ "a\xc3\xa9", 2, 1 },		/* inside é */
		{ "a\xc3\xa9", 3, 3 },
		{ "a\xc3\xa9z", 3, 3 },		/* right after é */
		{ "\xe2\x9c\x93x", 1, 0 },	/* inside ✓, first byte */
		{ "\xe2\x9c\x93x", 2, 0 },
		{ "\xe2\x9c\x93x", 3, 3 },
		{ "a\xf0\x9f\x9a\x80", 4, 1 },	/* inside U+1F680 */
		{ "a\xf0\x9f\x9a\x80", 5, 5 },
		{ "ab", 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(dx_utf8_cut(cases[i].s, strlen(cases[i].s), cases[i].max),
		    cases[i].want, "case %zu: got %zu", i,
		    dx_utf8_cut(cases[i].s, strlen(cases[i].s), cases[i].max));
}

Test(utf8, cut_leaves_invalid_bytes_to_the_caller)
{
	/* Five continuation bytes: no lead byte to back up to, cut at max. */
	cr_expect_eq(dx_utf8_cut("\x80\x80\x80\x80\x80\x80", 6, 5), 5);
	cr_expect_eq(dx_utf8_cut("\xff\xff\xff", 3, 2), 2);
}

struct trim_case {
	const char	*s;
	size_t		 want;
};

Test(utf8, trim_partial_drops_only_an_incomplete_last_character)
{
	static const struct trim_case cases[] = {
		{ "", 0 },
		{ "abc", 3 },
		{ "a\xc3", 1 },			/* é cut after its lead byte */
		{ "a\xc3\xa9", 3 },		/* complete */
		{ "a\xe2\x9c", 1 },		/* ✓ cut after 2 of 3 */
		{ "a\xe2", 1 },
		{ "a\xf0\x9f\x9a", 1 },		/* 3 of 4 */
		{ "a\xf0\x9f\x9a\x80", 5 },
		{ "a\x80", 2 },			/* a stray byte is not a cut: kept */
		{ "a\xff", 2 },
		{ "\x80\x80\x80\x80", 4 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(dx_utf8_trim_partial(cases[i].s, strlen(cases[i].s)),
		    cases[i].want, "case %zu", i);
}

struct scrub_case {
	const char	*in;
	const char	*want;
};

Test(utf8, scrub_replaces_each_bad_byte_and_keeps_good_characters)
{
	static const struct scrub_case cases[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "caf\xe9", "caf?" },
		{ "\xff\xfe", "??" },
		{ "a\xc3(b", "a?(b" },			/* cut-short sequence */
		{ "\xc0\xaf", "??" },			/* overlong */
		{ "\xed\xa0\x80!", "??" "?!" },		/* surrogate */
		{ "ok \xe2\x9c\x93 \xe2\x9c", "ok \xe2\x9c\x93 ??" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		dx_utf8_scrub(buf);
		cr_expect_str_eq(buf, cases[i].want, "case %zu", i);
		cr_expect(dx_utf8_valid(buf, strlen(buf)), "case %zu", i);
	}
}

Test(utf8, valid_agrees_with_scrub)
{
	static const char *const in[] = { "x", "\xc3\xa9", "\xc3", "\xe2\x9c\x93",
	    "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xe0\xa0\x80", "\xe0\x9f\xbf" };

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char buf[16];

		snprintf(buf, sizeof(buf), "%s", in[i]);
		dx_utf8_scrub(buf);
		cr_expect_eq(dx_utf8_valid(in[i], strlen(in[i])),
		    strcmp(buf, in[i]) == 0, "case %zu", i);
	}
}

Test(utf8, err_set_cuts_a_long_message_on_a_character_boundary)
{
	struct dx_err err;
	char msg[400];
	size_t len;

	/*
	 * 254 ASCII bytes then "é": the 256-byte buffer holds 255 bytes of
	 * text, so vsnprintf() keeps only the lead byte of "é".
	 */
	memset(msg, 'a', 254);
	strcpy(msg + 254, "\xc3\xa9 and more");
	dx_err_set(&err, DX_CHANNEL, "%s", msg);
	len = strlen(err.msg);
	cr_expect_eq(len, 254, "kept %zu bytes", len);
	cr_expect(dx_utf8_valid(err.msg, len));
	cr_expect_eq(err.kind, DX_CHANNEL);

	/* Three-byte "✓" straddling the cut: 253 + e2 9c | 93. */
	memset(msg, 'b', 253);
	strcpy(msg + 253, "\xe2\x9c\x93");
	dx_err_set(&err, DX_CHANNEL, "%s", msg);
	cr_expect_eq(strlen(err.msg), 253);
	cr_expect(dx_utf8_valid(err.msg, strlen(err.msg)));

	/* A character that ends exactly at the cut is kept. */
	memset(msg, 'c', 253);
	strcpy(msg + 253, "\xc3\xa9xyz");
	dx_err_set(&err, DX_CHANNEL, "%s", msg);
	cr_expect_eq(strlen(err.msg), 255);
	cr_expect_eq((unsigned char)err.msg[254], 0xa9);
}

Test(utf8, err_set_scrubs_bytes_quoted_from_a_server)
{
	struct dx_err err;

	dx_err_set(&err, DX_NONZERO_EXIT, "call 1 'caf%s' exited with status 1", "\xe9");
	cr_expect_str_eq(err.msg, "call 1 'caf?' exited with status 1");
	cr_expect(dx_utf8_valid(err.msg, strlen(err.msg)));
}
