/*
 * test_output_text.c - --format text as output_text.c writes it (SPEC
 * section 4): identical outputs gathered under one folded header with the
 * count, only the command line's calls gathered, failures folded once at
 * the end with their kind, plurals, everything a drone sent escaped, and
 * colour only when asked for.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "output.h"
#include "result.h"

#define RULE	"---------------"

struct ot {
	struct dx_out_opts oo;
	struct dx_out	*o;
	FILE		*f;
	char		*text;
	size_t		 len;
};

static void
ot_open(struct ot *t, size_t n, const size_t *own, bool color)
{
	struct dx_err err = { 0 };

	memset(t, 0, sizeof(*t));
	cr_assert_not_null(t->f = open_memstream(&t->text, &t->len));
	t->oo.format = DX_FMT_TEXT;
	t->oo.host_key_check = "strict";
	t->oo.ndrones = n;
	t->oo.stream = t->f;
	t->oo.own_calls = own;
	t->oo.color = color;
	cr_assert_not_null(t->o = dx_out_new(&t->oo, &err), "%s", err.msg);
}

/*
 * Drone index, its name, status and calls: each call is "stdout" text;
 * a failed drone gets kind and msg.
 */
static void
ot_drone(struct ot *t, size_t index, const char *name, enum dx_status st,
    enum dx_kind kind, const char *msg, const char *const *outs, size_t nouts)
{
	struct dx_err err = { 0 };
	struct dx_result res;
	struct dx_call_result *c;

	memset(&res, 0, sizeof(res));
	res.status = st;
	res.attempts = 1;
	for (size_t i = 0; i < nouts; i++) {
		cr_assert_not_null(c = dx_result_add_call(&res, "cmd", 1 << 20, &err));
		c->exit_status = 0;
		dx_buf_append(&c->out, outs[i], strlen(outs[i]));
	}
	if (kind != DX_OK)
		dx_err_set(&res.error, kind, "%s", msg);
	cr_assert_eq(dx_out_drone(t->o, index, name, "h", 22, "u", &res, &err), 0,
	    "%s", err.msg);
	dx_result_release(&res);
}

static void
ot_finish(struct ot *t, size_t ok, size_t failed, size_t skipped)
{
	struct dx_err err = { 0 };
	struct dx_summary sum = { ok + failed + skipped, ok, failed, skipped };

	cr_assert_eq(dx_out_finish(t->o, &sum, NULL, 1234, &err), 0, "%s", err.msg);
	dx_out_free(t->o);
	fclose(t->f);
}

static size_t
ot_count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

Test(output_text, identical_outputs_share_one_folded_header_with_the_count)
{
	static const char *names[] = { "web-01", "web-02", "web-03", "web-04",
	    "web-05", "web-06", "web-07" };
	const char *same[] = { "same\n" }, *other[] = { "other\n" };
	struct ot t;

	ot_open(&t, 7, NULL, false);
	/* Finishing order is not selection order. */
	for (int i = 6; i >= 0; i--)
		ot_drone(&t, (size_t)i, names[i], DX_ST_OK, DX_OK, NULL,
		    i == 5 ? other : same, 1);
	ot_finish(&t, 7, 0, 0);
	cr_expect_str_eq(t.text,
	    RULE "\nweb-[01-05,07] (6)\n" RULE "\nsame\n"
	    RULE "\nweb-06 (1)\n" RULE "\nother\n"
	    RULE " 7 drones: 7 ok (1.234 s)\n");
	free(t.text);
}

Test(output_text, a_drones_own_calls_are_not_gathered)
{
	const char *plain[] = { "run\n" }, *withown[] = { "inventory call\n", "run\n" };
	size_t own[] = { 0, 1 };
	struct ot t;

	ot_open(&t, 2, own, false);
	ot_drone(&t, 0, "a1", DX_ST_OK, DX_OK, NULL, plain, 1);
	ot_drone(&t, 1, "a2", DX_ST_OK, DX_OK, NULL, withown, 2);
	ot_finish(&t, 2, 0, 0);
	cr_expect(strstr(t.text, RULE "\na[1-2] (2)\n" RULE "\nrun\n") != NULL, "%s", t.text);
	cr_expect_null(strstr(t.text, "inventory call"), "%s", t.text);
	free(t.text);
}

Test(output_text, without_command_line_calls_the_inventory_calls_are_shown)
{
	const char *outs[] = { "inventory call\n" };
	struct ot t;

	ot_open(&t, 1, NULL, false);
	ot_drone(&t, 0, "a1", DX_ST_OK, DX_OK, NULL, outs, 1);
	ot_finish(&t, 1, 0, 0);
	cr_expect(strstr(t.text, "a1 (1)\n" RULE "\ninventory call\n") != NULL, "%s", t.text);
	free(t.text);
}

Test(output_text, failures_come_once_at_the_end_folded_by_kind_and_message)
{
	const char *outs[] = { "up\n" };
	struct ot t;

	ot_open(&t, 6, NULL, false);
	ot_drone(&t, 0, "n1", DX_ST_OK, DX_OK, NULL, outs, 1);
	ot_drone(&t, 1, "n2", DX_ST_FAILED, DX_CONNECT_REFUSED, "refused", NULL, 0);
	ot_drone(&t, 2, "n3", DX_ST_FAILED, DX_CONNECT_REFUSED, "refused", NULL, 0);
	ot_drone(&t, 3, "n4", DX_ST_FAILED, DX_AUTH, "no key accepted", NULL, 0);
	ot_drone(&t, 4, "n5", DX_ST_FAILED, DX_CONNECT_REFUSED, "refused", NULL, 0);
	ot_drone(&t, 5, "n6", DX_ST_SKIPPED, DX_MAX_FAILURES, "3 drones failed", NULL, 0);
	ot_finish(&t, 1, 4, 1);
	cr_expect_str_eq(t.text,
	    RULE "\nn1 (1)\n" RULE "\nup\n"
	    RULE " not ok: 5 drones\n"
	    "n[2-3,5] (3) failed: connect_refused: refused\n"
	    "n4 (1) failed: auth: no key accepted\n"
	    "n6 (1) skipped: max_failures: 3 drones failed\n"
	    RULE " 6 drones: 1 ok, 4 failed, 1 skipped (1.234 s)\n");
	cr_expect_eq(ot_count(t.text, ": refused\n"), 1, "%s", t.text);
	free(t.text);
}

Test(output_text, one_drone_is_singular)
{
	struct ot t;

	ot_open(&t, 1, NULL, false);
	ot_drone(&t, 0, "solo", DX_ST_FAILED, DX_AUTH, "no key accepted", NULL, 0);
	ot_finish(&t, 0, 1, 0);
	cr_expect(strstr(t.text, RULE " not ok: 1 drone\n") != NULL, "%s", t.text);
	cr_expect(strstr(t.text, RULE " 1 drone: 0 ok, 1 failed (") != NULL, "%s", t.text);
	cr_expect_null(strstr(t.text, "1 drones"), "%s", t.text);
	free(t.text);
}

Test(output_text, control_bytes_and_escapes_from_a_drone_are_shown_escaped)
{
	const char *outs[] = {
	    "\x1b[31mred\x1b[0m\r\a\xff \xc2\x9b \xe2\x80\xae! \x1b]0;title\x07\x7f\n"
	    "tab\tkept, h\xc3\xa9llo kept\n" };
	struct ot t;

	ot_open(&t, 1, NULL, false);
	ot_drone(&t, 0, "evil\x1b[2J", DX_ST_FAILED, DX_NONZERO_EXIT,
	    "bad \x1b[1mthing\x1b[0m\r", outs, 1);
	ot_finish(&t, 0, 1, 0);
	cr_expect(strstr(t.text,
	    "\\x1b[31mred\\x1b[0m\\r\\a\\xff \\u009b \\u202e! \\x1b]0;title\\a\\x7f\n"
	    "tab\tkept, h\xc3\xa9llo kept\n") != NULL, "%s", t.text);
	cr_expect(strstr(t.text, "evil\\x1b[2J (1)") != NULL, "%s", t.text);
	cr_expect(strstr(t.text, "bad \\x1b[1mthing\\x1b[0m\\r") != NULL, "%s", t.text);
	/* Nothing raw: no ESC, CR, BEL, DEL, C1 or invalid byte anywhere. */
	for (size_t i = 0; i < t.len; i++) {
		unsigned char c = (unsigned char)t.text[i];

		cr_assert(c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f),
		    "raw byte 0x%02x at %zu: %s", c, i, t.text);
		cr_assert(!(c == 0xc2 && (unsigned char)t.text[i + 1] < 0xa0),
		    "raw C1 control at %zu", i);
		cr_assert(c != 0xff, "raw 0xff at %zu", i);
	}
	free(t.text);
}

Test(output_text, malformed_utf8_is_escaped_byte_by_byte_and_good_utf8_kept)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "over \xc0\xaf\n", "over \\xc0\\xaf\n" },
		{ "surrogate \xed\xa0\x80\n", "surrogate \\xed\\xa0\\x80\n" },
		{ "cut \xe2\x9c\n", "cut \\xe2\\x9c\n" },
		{ "lone \x80 cont\n", "lone \\x80 cont\n" },
		{ "emoji \xf0\x9f\x98\x80 ok\n", "emoji \xf0\x9f\x98\x80 ok\n" },
		{ "lrm \xe2\x80\x8e kept, isolate \xe2\x81\xa6\n",
		    "lrm \xe2\x80\x8e kept, isolate \\u2066\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *outs[] = { cases[i].in };
		struct ot t;

		ot_open(&t, 1, NULL, false);
		ot_drone(&t, 0, "u", DX_ST_OK, DX_OK, NULL, outs, 1);
		ot_finish(&t, 1, 0, 0);
		cr_expect(strstr(t.text, cases[i].want) != NULL, "case %zu: %s", i, t.text);
		free(t.text);
	}
}

Test(output_text, a_binary_stream_is_summarised)
{
	char bin[200];
	const char *outs[] = { bin };
	struct ot t;

	memset(bin, 0x01, sizeof(bin) - 1);
	bin[sizeof(bin) - 1] = '\0';
	ot_open(&t, 1, NULL, false);
	ot_drone(&t, 0, "b", DX_ST_OK, DX_OK, NULL, outs, 1);
	ot_finish(&t, 1, 0, 0);
	cr_expect(strstr(t.text, "[199 bytes of binary stdout]\n") != NULL, "%s", t.text);
	free(t.text);
}

Test(output_text, colour_only_when_asked_for)
{
	const char *outs[] = { "x\n" };
	struct ot t;

	ot_open(&t, 2, NULL, true);
	ot_drone(&t, 0, "c1", DX_ST_OK, DX_OK, NULL, outs, 1);
	ot_drone(&t, 1, "c2", DX_ST_FAILED, DX_AUTH, "no", NULL, 0);
	ot_finish(&t, 1, 1, 0);
	cr_expect(strstr(t.text, "\033[1mc1 (1)\033[0m\n") != NULL, "%s", t.text);
	cr_expect(strstr(t.text, "\033[31mc2 (1) failed: auth: no\033[0m\n") != NULL,
	    "%s", t.text);
	free(t.text);

	ot_open(&t, 2, NULL, false);
	ot_drone(&t, 0, "c1", DX_ST_OK, DX_OK, NULL, outs, 1);
	ot_drone(&t, 1, "c2", DX_ST_FAILED, DX_AUTH, "no", NULL, 0);
	ot_finish(&t, 1, 1, 0);
	cr_expect_null(strchr(t.text, '\033'), "%s", t.text);
	free(t.text);
}

/*
 * 20,000 drones in 10,000 distinct outputs of a kilobyte (each printed by
 * two drones, 10,000 apart): gathering hashes, so it takes well under a
 * second; comparing each output with every other would take minutes.
 * The bound is generous for a loaded machine.
 */
Test(output_text, gathering_ten_thousands_of_drones_is_not_quadratic, .timeout = 120)
{
	enum { N = 20000, PAD = 1000 };
	static char body[PAD + 32];
	char name[32];
	struct timespec a, b;
	struct ot t;
	double s;

	memset(body, 'a', PAD);
	clock_gettime(CLOCK_MONOTONIC, &a);
	ot_open(&t, N, NULL, false);
	for (int i = 0; i < N; i++) {
		const char *outs[] = { body };

		snprintf(body + PAD, 32, "%05d\n", i % (N / 2));
		snprintf(name, sizeof(name), "n%05d", i);
		ot_drone(&t, (size_t)i, name, DX_ST_OK, DX_OK, NULL, outs, 1);
	}
	ot_finish(&t, N, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	cr_expect_lt(s, 5.0, "took %.2f s", s);
	cr_expect_eq(ot_count(t.text, " (2)\n"), N / 2, "%.300s", t.text);
	cr_expect(strstr(t.text, RULE "\nn[00000,10000] (2)\n" RULE "\n") != NULL,
	    "%.300s", t.text);
	cr_expect(strstr(t.text, RULE "\nn[09999,19999] (2)\n") != NULL, "%.300s", t.text);
	free(t.text);
}
