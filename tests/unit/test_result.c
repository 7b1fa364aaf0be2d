/*
 * test_result.c - bounded buffers, a result's memory (call records and
 * their release) and the JSON encoding of results.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dronex.h"
#include "result.h"

struct utf8_case {
	const char	*bytes;
	size_t		 len;
	bool		 valid;
};

Test(result, utf8_validation_table)
{
	static const struct utf8_case cases[] = {
		{ "", 0, true },
		{ "plain ascii\n", 12, true },
		{ "h\xc3\xa9llo \xe2\x9c\x93", 11, true },	/* héllo ✓ */
		{ "\xf0\x9f\x9a\x80", 4, true },		/* U+1F680 */
		{ "a\0b", 3, true },				/* NUL is UTF-8 */
		{ "\xff", 1, false },
		{ "\xc3", 1, false },				/* cut short */
		{ "\xc0\xaf", 2, false },			/* overlong '/' */
		{ "\xe0\x80\xaf", 3, false },			/* overlong */
		{ "\xed\xa0\x80", 3, false },			/* surrogate */
		{ "\xf4\x90\x80\x80", 4, false },		/* > U+10FFFF */
		{ "ok\xe2\x9c", 5, false },			/* cut at end */
		{ "\x80", 1, false },				/* lone continuation */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(dx_utf8_valid(cases[i].bytes, cases[i].len),
		    cases[i].valid, "case %zu", i);
}

Test(result, base64_matches_rfc4648_vectors)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
	    "Zm9vYmE=", "Zm9vYmFy" };

	for (size_t i = 0; i < 7; i++) {
		char *s = dx_base64_encode(in[i], strlen(in[i]));

		cr_assert_not_null(s);
		cr_expect_str_eq(s, want[i]);
		free(s);
	}
}

Test(result, buffer_caps_output_and_marks_truncation)
{
	struct dx_buf b;
	char chunk[1000];

	memset(chunk, 'a', sizeof(chunk));
	dx_buf_init(&b, 2500);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(dx_buf_append(&b, chunk, sizeof(chunk)), 0);
	cr_expect_eq(b.len, 2500);
	cr_expect(b.truncated);
	cr_expect_leq(b.cap, 2501, "memory must stay bounded by the cap");
	cr_expect_eq(b.data[2500], '\0');
	dx_buf_release(&b);

	dx_buf_init(&b, 10);
	cr_assert_eq(dx_buf_append(&b, "0123456789", 10), 0);
	cr_expect_not(b.truncated, "exactly the cap is not truncation");
	dx_buf_release(&b);
}

Test(result, utf8_output_is_a_string_binary_is_base64)
{
	json_t *o = json_object();

	cr_assert_eq(dx_json_set_bytes(o, "stdout", "h\xc3\xa9", 3), 0);
	cr_assert_eq(dx_json_set_bytes(o, "stderr", "\xff\xfe\x00" "abc", 6), 0);
	cr_expect_str_eq(json_string_value(json_object_get(o, "stdout")), "h\xc3\xa9");
	cr_expect_null(json_object_get(o, "stderr"));
	cr_expect_str_eq(json_string_value(json_object_get(o, "stderr_base64")),
	    "//4AYWJj");
	json_decref(o);
}

Test(result, drone_json_carries_calls_errors_and_truncation)
{
	struct dx_result res;
	struct dx_call_result *c;
	struct dx_err err;
	json_t *o, *call;

	memset(&res, 0, sizeof(res));
	res.status = DX_ST_FAILED;
	res.attempts = 1;
	c = dx_result_add_call(&res, "echo hi", 4, &err);
	cr_assert_not_null(c);
	c->exit_status = 0;
	dx_buf_append(&c->out, "hi\nthere", 8);
	c = dx_result_add_call(&res, "false", 4, &err);
	cr_assert_not_null(c);
	c->exit_status = 1;
	dx_err_set(&c->error, DX_NONZERO_EXIT, "call 2 'false' exited with status 1");
	res.error = c->error;

	o = dx_result_json("10.0.0.1", 2222, "deploy", &res);
	cr_assert_not_null(o);
	cr_expect_str_eq(json_string_value(json_object_get(o, "status")), "failed");
	cr_expect_eq(json_integer_value(json_object_get(o, "port")), 2222);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(o, "error"),
	    "kind")), "nonzero_exit");
	cr_expect(json_is_null(json_object_get(o, "kex")));
	cr_assert_eq(json_array_size(json_object_get(o, "calls")), 2);
	call = json_array_get(json_object_get(o, "calls"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(call, "stdout")), "hi\nt");
	cr_expect(json_is_true(json_object_get(call, "truncated")));
	cr_expect(json_is_null(json_object_get(call, "error")));
	cr_expect(json_is_null(json_object_get(call, "signal")));
	call = json_array_get(json_object_get(o, "calls"), 1);
	cr_expect_eq(json_integer_value(json_object_get(call, "exit_status")), 1);
	cr_expect(json_is_false(json_object_get(call, "truncated")));
	json_decref(o);
	dx_result_release(&res);
}

Test(result, missing_exit_status_is_null)
{
	struct dx_result res;
	struct dx_err err;
	json_t *o;

	memset(&res, 0, sizeof(res));
	res.status = DX_ST_FAILED;
	cr_assert_not_null(dx_result_add_call(&res, "sleep 60", 100, &err));
	o = dx_result_json("h", 22, NULL, &res);
	cr_expect(json_is_null(json_object_get(json_array_get(json_object_get(o, "calls"),
	    0), "exit_status")));
	json_decref(o);
	dx_result_release(&res);
}

Test(result, iso8601_timestamps_have_milliseconds)
{
	char buf[80];

	dx_iso8601_ms(1795428000123LL, buf);
	cr_expect_str_eq(buf, "2026-11-23T10:00:00.123Z");
}

Test(result, kind_names_round_trip)
{
	enum dx_kind k;

	for (int i = 0; i < DX_KIND_COUNT; i++) {
		cr_assert_eq(dx_kind_parse(dx_kind_name((enum dx_kind)i), &k), 0);
		cr_expect_eq((int)k, i);
	}
	cr_expect_str_eq(dx_kind_name(DX_HOSTKEY_MISMATCH), "hostkey_mismatch");
	cr_expect_eq(dx_kind_parse("nope", &k), -1);
}

/* The drone object must dump: jansson refuses to dump nothing invalid. */
static char *
result_dump(const json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	cr_assert_not_null(s, "the drone object does not encode");
	cr_assert(dx_utf8_valid(s, strlen(s)));
	return s;
}

Test(result, a_command_that_is_not_utf8_goes_as_command_base64)
{
	struct dx_result res;
	struct dx_err err;
	json_t *o, *call;

	memset(&res, 0, sizeof(res));
	res.status = DX_ST_FAILED;
	cr_assert_not_null(dx_result_add_call(&res, "caf\xe9", 64, &err));
	cr_assert_not_null(dx_result_add_call(&res, "caf\xc3\xa9", 64, &err));
	o = dx_result_json("h", 22, "u", &res);
	cr_assert_not_null(o);
	call = json_array_get(json_object_get(o, "calls"), 0);
	cr_expect_null(json_object_get(call, "command"));
	cr_expect_str_eq(json_string_value(json_object_get(call, "command_base64")),
	    "Y2Fm6Q==");
	call = json_array_get(json_object_get(o, "calls"), 1);
	cr_expect_str_eq(json_string_value(json_object_get(call, "command")), "caf\xc3\xa9");
	cr_expect_null(json_object_get(call, "command_base64"));
	free(result_dump(o));
	json_decref(o);
	dx_result_release(&res);
}

Test(result, strings_a_server_sent_are_scrubbed_not_fatal)
{
	struct dx_result res;
	struct dx_call_result *c;
	struct dx_err err;
	json_t *o, *call;
	char *s;

	memset(&res, 0, sizeof(res));
	res.status = DX_ST_FAILED;
	res.kex = strdup("curve25519\xff");
	res.hostkey_type = strdup("ssh-\xc3");
	res.hostkey_fingerprint = strdup("SHA256:\x80xyz");
	cr_assert_not_null(c = dx_result_add_call(&res, "kill -9 $$", 64, &err));
	c->signal = strdup("K\xe9LL");
	/* A message written into the buffer by hand, not by dx_err_set(). */
	res.error.kind = DX_SIGNAL;
	memset(res.error.msg, 0xe9, sizeof(res.error.msg));
	o = dx_result_json("h\xff", 22, "u\xfe", &res);
	cr_assert_not_null(o);
	s = result_dump(o);
	cr_expect_str_eq(json_string_value(json_object_get(o, "kex")), "curve25519?");
	cr_expect_str_eq(json_string_value(json_object_get(o, "hostkey_type")), "ssh-?");
	cr_expect_str_eq(json_string_value(json_object_get(o, "hostkey_fingerprint")),
	    "SHA256:?xyz");
	cr_expect_str_eq(json_string_value(json_object_get(o, "host")), "h?");
	cr_expect_str_eq(json_string_value(json_object_get(o, "user")), "u?");
	call = json_array_get(json_object_get(o, "calls"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(call, "signal")), "K?LL");
	cr_expect_eq(json_string_length(json_object_get(json_object_get(o, "error"),
	    "message")), sizeof(res.error.msg) - 1);
	free(s);
	json_decref(o);
	dx_result_release(&res);
}

Test(result, records_user_and_hostkey_fingerprint)
{
	struct dx_result res;
	json_t *o;

	memset(&res, 0, sizeof(res));
	res.status = DX_ST_OK;
	o = dx_result_json("10.0.0.1", 22, "deploy", &res);
	cr_expect_str_eq(json_string_value(json_object_get(o, "user")), "deploy");
	cr_expect(json_is_null(json_object_get(o, "hostkey_fingerprint")),
	    "an unknown fingerprint is null, not absent");
	json_decref(o);
	res.hostkey_fingerprint = strdup("SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s");
	o = dx_result_json("10.0.0.1", 22, "deploy", &res);
	cr_expect_str_eq(json_string_value(json_object_get(o, "hostkey_fingerprint")),
	    "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s");
	json_decref(o);
	dx_result_release(&res);
}

Test(result, a_cap_inside_a_character_keeps_the_stream_text)
{
	struct dx_result res;
	struct dx_call_result *c;
	struct dx_err err;
	json_t *o, *call;

	memset(&res, 0, sizeof(res));
	res.status = DX_ST_OK;
	/* "ééé" is 6 bytes; a cap of 5 ends inside the third. */
	cr_assert_not_null(c = dx_result_add_call(&res, "x", 5, &err));
	dx_buf_append(&c->out, "\xc3\xa9\xc3\xa9\xc3\xa9", 6);
	dx_buf_append(&c->err, "\xe2\x9c\x93\xe2\x9c\x93", 6);
	cr_assert(c->out.truncated && c->out.len == 5);
	o = dx_result_json("h", 22, "u", &res);
	call = json_array_get(json_object_get(o, "calls"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(call, "stdout")), "\xc3\xa9\xc3\xa9");
	cr_expect_null(json_object_get(call, "stdout_base64"));
	cr_expect_str_eq(json_string_value(json_object_get(call, "stderr")), "\xe2\x9c\x93");
	cr_expect(json_is_true(json_object_get(call, "truncated")));
	json_decref(o);
	dx_result_release(&res);
}

Test(result, a_capped_binary_stream_keeps_every_byte_in_base64)
{
	struct dx_result res;
	struct dx_call_result *c;
	struct dx_err err;
	json_t *o, *call;

	memset(&res, 0, sizeof(res));
	cr_assert_not_null(c = dx_result_add_call(&res, "x", 3, &err));
	dx_buf_append(&c->out, "\xff\xc3\xa9", 3);
	dx_buf_append(&c->out, "z", 1);
	o = dx_result_json("h", 22, "u", &res);
	call = json_array_get(json_object_get(o, "calls"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(call, "stdout_base64")), "/8Op");
	json_decref(o);
	dx_result_release(&res);
}

/* An allocator that refuses big blocks: a huge output cannot be encoded. */
static void *
result_small_malloc(size_t n)
{
	return n > 4096 ? NULL : malloc(n);
}

Test(result, a_drone_that_cannot_be_encoded_still_appears)
{
	struct dx_result res;
	struct dx_call_result *c;
	struct dx_err err;
	static char big[100000];
	json_t *o, *e;

	memset(&res, 0, sizeof(res));
	res.status = DX_ST_FAILED;
	res.attempts = 1;
	dx_err_set(&res.error, DX_NONZERO_EXIT, "call 1 exited with status 1");
	cr_assert_not_null(c = dx_result_add_call(&res, "cat big", sizeof(big), &err));
	memset(big, 'x', sizeof(big));
	dx_buf_append(&c->out, big, sizeof(big));
	json_set_alloc_funcs(result_small_malloc, free);
	o = dx_result_json("10.0.0.9", 2222, "deploy", &res);
	json_set_alloc_funcs(malloc, free);
	cr_assert_not_null(o);
	cr_expect_str_eq(json_string_value(json_object_get(o, "status")), "failed");
	cr_expect_str_eq(json_string_value(json_object_get(o, "host")), "10.0.0.9");
	cr_expect_eq(json_integer_value(json_object_get(o, "port")), 2222);
	e = json_object_get(o, "error");
	cr_expect_str_eq(json_string_value(json_object_get(e, "kind")), "internal");
	cr_expect(strstr(json_string_value(json_object_get(e, "message")),
	    "nonzero_exit") != NULL);
	cr_expect_eq(json_array_size(json_object_get(o, "calls")), 0);
	json_decref(o);
	dx_result_release(&res);
}

/* A result's memory. */

Test(result, add_call_copies_and_initialises)
{
	struct dx_result res;
	struct dx_call_result *c;
	struct dx_err err;
	char cmd[32];
	size_t i;

	memset(&res, 0, sizeof(res));
	for (i = 0; i < 9; i++) {
		snprintf(cmd, sizeof(cmd), "call %zu", i);
		c = dx_result_add_call(&res, cmd, 100 + i, &err);
		cr_assert_not_null(c);
		cr_assert_eq(c, &res.calls[i]);
		cr_assert_eq(c->exit_status, -1);
		cr_assert_eq(c->error.kind, DX_OK);
		cr_assert_null(c->signal);
		cr_assert_eq(c->out.max, 100 + i);
		cr_assert_eq(c->err.max, 100 + i);
		cr_assert_eq(dx_buf_append(&c->out, "x", 1), 0);
		memset(cmd, 'z', sizeof(cmd) - 1);	/* it was copied */
	}
	cr_assert_eq(res.ncalls, 9);
	for (i = 0; i < 9; i++) {
		snprintf(cmd, sizeof(cmd), "call %zu", i);
		cr_assert_str_eq(res.calls[i].command, cmd);
		cr_assert_str_eq(res.calls[i].out.data, "x");
	}
	res.kex = strdup("curve25519-sha256");
	res.hostkey_type = strdup("ssh-ed25519");
	res.calls[2].signal = strdup("TERM");
	dx_result_release(&res);
	cr_assert_null(res.calls);
	cr_assert_eq(res.ncalls, 0);
	cr_assert_null(res.kex);
	dx_result_release(&res);	/* twice is harmless */
	dx_result_release(NULL);
}

Test(result, release_survives_a_taken_calls_array)
{
	struct dx_result res;
	struct dx_call_result *calls;
	struct dx_err err;

	memset(&res, 0, sizeof(res));
	cr_assert_not_null(dx_result_add_call(&res, "a", 10, &err));
	cr_assert_not_null(dx_result_add_call(&res, "b", 10, &err));
	calls = res.calls;
	res.calls = NULL;		/* taken by the caller */
	dx_result_release(&res);
	cr_assert_eq(res.ncalls, 0);
	free(calls[0].command);
	free(calls[1].command);
	free(calls);
}
