/*
 * test_output.c - what a call printed reaches the results intact (SPEC 3,
 * 4): output beyond --max-output is cut at exactly that many bytes and
 * marked truncated; bytes that are not UTF-8 travel as base64; UTF-8 text
 * stays text.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

/* Runs one drone with the given dronex options and remote command. */
static void
out_run(struct dxh_run *r, const char *opt1, const char *opt2, const char *command)
{
	json_t *inv;
	char *path;
	const char *argv[8];
	size_t n = 0;
	struct dxh_opts o = { .timeout = 40 };

	inv = dxh_inv_new(1);
	path = dxh_inv_write(inv);
	argv[n++] = "exec";
	argv[n++] = "-i";
	argv[n++] = path;
	if (opt1 != NULL)
		argv[n++] = opt1;
	if (opt2 != NULL)
		argv[n++] = opt2;
	argv[n++] = "--";
	argv[n++] = command;
	argv[n] = NULL;
	dxh_run_argv(r, argv, &o);
	json_decref(inv);
	free(path);
}

static bool
out_all(const char *s, size_t len, char ch)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ch)
			return false;
	return true;
}

Test(output, five_mib_is_cut_at_max_output_and_marked_truncated, .timeout = 40)
{
	struct dxh_run r;
	json_t *c, *so;

	out_run(&r, "--max-output", "1048576", "head -c 5242880 /dev/zero | tr '\\0' a");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok", "%.500s", r.out);
	c = dxh_call(&r, "d-001", 0);
	so = json_object_get(c, "stdout");
	cr_assert(json_is_string(so), "no text stdout");
	cr_expect_eq(json_string_length(so), 1048576, "stdout holds %zu bytes",
	    json_string_length(so));
	cr_expect(out_all(json_string_value(so), json_string_length(so), 'a'));
	cr_expect(json_is_true(json_object_get(c, "truncated")));
	cr_expect_eq(json_integer_value(json_object_get(c, "exit_status")), 0);
	dxh_run_free(&r);
}

Test(output, the_default_max_output_is_one_mib, .timeout = 40)
{
	struct dxh_run r;
	json_t *c;

	out_run(&r, NULL, NULL, "head -c 2000000 /dev/zero | tr '\\0' b");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	c = dxh_call(&r, "d-001", 0);
	cr_expect_eq(json_string_length(json_object_get(c, "stdout")), 1048576);
	cr_expect(json_is_true(json_object_get(c, "truncated")));
	dxh_run_free(&r);
}

Test(output, a_small_max_output_cuts_exactly, .timeout = 30)
{
	struct dxh_run r;
	json_t *c;

	out_run(&r, "--max-output", "10", "echo 0123456789abcdef");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	c = dxh_call(&r, "d-001", 0);
	cr_expect_str_eq(json_string_value(json_object_get(c, "stdout")), "0123456789");
	cr_expect(json_is_true(json_object_get(c, "truncated")));
	dxh_run_free(&r);
}

Test(output, output_at_the_limit_is_not_truncated, .timeout = 30)
{
	struct dxh_run r;
	json_t *c;

	out_run(&r, "--max-output", "10", "printf 0123456789");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	c = dxh_call(&r, "d-001", 0);
	cr_expect_str_eq(json_string_value(json_object_get(c, "stdout")), "0123456789");
	cr_expect(json_is_false(json_object_get(c, "truncated")), "%s", r.out);
	dxh_run_free(&r);
}

Test(output, stderr_is_cut_at_max_output_too, .timeout = 30)
{
	struct dxh_run r;
	json_t *c;

	out_run(&r, "--max-output", "100", "head -c 5000 /dev/zero | tr '\\0' e >&2; echo fine");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	c = dxh_call(&r, "d-001", 0);
	cr_expect_eq(json_string_length(json_object_get(c, "stderr")), 100, "%.500s", r.out);
	cr_expect_str_eq(json_string_value(json_object_get(c, "stdout")), "fine\n");
	cr_expect(json_is_true(json_object_get(c, "truncated")));
	dxh_run_free(&r);
}

Test(output, binary_stdout_travels_as_base64, .timeout = 30)
{
	static const unsigned char want[] = { 0xff, 0xfe, 0x00, 'a', 'b', 'c' };
	struct dxh_run r;
	json_t *c;
	const char *b64;
	unsigned char *got;
	size_t len;

	out_run(&r, NULL, NULL, "printf '\\377\\376\\000abc'");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	c = dxh_call(&r, "d-001", 0);
	cr_expect_null(json_object_get(c, "stdout"), "text stdout beside stdout_base64");
	b64 = json_string_value(json_object_get(c, "stdout_base64"));
	cr_assert_not_null(b64, "no stdout_base64: %s", r.out);
	got = dxh_base64_decode(b64, &len);
	cr_assert_not_null(got, "stdout_base64 is not base64: '%s'", b64);
	cr_expect_eq(len, sizeof(want), "decoded %zu bytes", len);
	cr_expect(len == sizeof(want) && memcmp(got, want, len) == 0,
	    "decoded bytes differ");
	cr_expect_str_eq(json_string_value(json_object_get(c, "stderr")), "");
	free(got);
	dxh_run_free(&r);
}

Test(output, invalid_utf8_on_stderr_travels_as_base64, .timeout = 30)
{
	static const unsigned char want[] = { 'b', 'a', 'd', 0xc3, 0x28, '\n' };
	struct dxh_run r;
	json_t *c;
	const char *b64;
	unsigned char *got;
	size_t len;

	out_run(&r, NULL, NULL, "echo text; printf 'bad\\303(\\n' >&2");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	c = dxh_call(&r, "d-001", 0);
	cr_expect_str_eq(json_string_value(json_object_get(c, "stdout")), "text\n");
	cr_expect_null(json_object_get(c, "stderr"), "text stderr beside stderr_base64");
	b64 = json_string_value(json_object_get(c, "stderr_base64"));
	cr_assert_not_null(b64, "no stderr_base64: %s", r.out);
	got = dxh_base64_decode(b64, &len);
	cr_assert_not_null(got, "stderr_base64 is not base64: '%s'", b64);
	cr_expect(len == sizeof(want) && memcmp(got, want, len) == 0,
	    "decoded %zu bytes that differ", len);
	free(got);
	dxh_run_free(&r);
}

Test(output, valid_utf8_stays_text, .timeout = 30)
{
	struct dxh_run r;
	json_t *c;

	out_run(&r, NULL, NULL, "printf 'h\\303\\251llo \\342\\234\\223\\n'");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	c = dxh_call(&r, "d-001", 0);
	cr_expect_str_eq(json_string_value(json_object_get(c, "stdout")), "h\xc3\xa9llo \xe2\x9c\x93\n",
	    "%s", r.out);
	cr_expect_null(json_object_get(c, "stdout_base64"));
	dxh_run_free(&r);
}

Test(output, a_utf8_character_cut_by_max_output_is_dropped_and_the_rest_stays_text,
    .timeout = 30)
{
	struct dxh_run r;
	json_t *c;

	/*
	 * "é" is two bytes; a limit of 2 cuts it in half.  The half is
	 * dropped (the call says truncated) and what is left is text.
	 */
	out_run(&r, "--max-output", "2", "printf 'a\\303\\251'");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	c = dxh_call(&r, "d-001", 0);
	cr_expect(json_is_true(json_object_get(c, "truncated")));
	cr_expect_null(json_object_get(c, "stdout_base64"), "%s", r.out);
	cr_expect_str_eq(json_string_value(json_object_get(c, "stdout")), "a", "%s", r.out);
	dxh_run_free(&r);
}

Test(output, a_cap_inside_a_character_does_not_turn_a_text_stream_into_base64,
    .timeout = 30)
{
	struct dxh_run r;
	json_t *c;
	const char *so;

	/* 1000 "✓" (3 bytes each) under a cap of 1000 bytes: 333 and a third. */
	out_run(&r, "--max-output", "1000",
	    "i=0; while [ $i -lt 1000 ]; do printf '\\342\\234\\223'; i=$((i+1)); done; "
	    "printf '\\342\\234\\223\\342\\234' >&2");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	c = dxh_call(&r, "d-001", 0);
	cr_expect(json_is_true(json_object_get(c, "truncated")));
	cr_expect_null(json_object_get(c, "stdout_base64"), "%.300s", r.out);
	so = json_string_value(json_object_get(c, "stdout"));
	cr_assert_not_null(so, "%.300s", r.out);
	cr_expect_eq(strlen(so), 999, "kept %zu bytes", strlen(so));
	/* Not cut by the cap: an incomplete character on stderr stays base64. */
	cr_expect_null(json_object_get(c, "stderr"));
	cr_expect_not_null(json_object_get(c, "stderr_base64"));
	dxh_run_free(&r);
}

Test(output, the_text_format_cuts_on_a_character_too, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(1);
	char *path = dxh_inv_write(inv);

	/* "éé" under a cap of 3 bytes: the second "é" is cut in half. */
	dxh_run(&r, "exec", "-i", path, "--format", "text", "--max-output", "3",
	    "--", "printf '\\303\\251\\303\\251'", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, "\xc3\xa9\n[stdout truncated]\n") != NULL, "%s", r.out);
	cr_expect_null(strstr(r.out, "binary"), "%s", r.out);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}
