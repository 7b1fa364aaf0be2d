/*
 * test_output_doc.c - the results document as output.c writes it (SPEC
 * sections 4 and 5): jsonl lines say their type, the document records
 * user and shard, a drone that cannot be encoded still appears, and a
 * failed write is DX_OUTPUT with the system's error text.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "output.h"
#include "result.h"

static void
od_opts(struct dx_out_opts *oo, enum dx_format fmt, size_t n, FILE *f)
{
	memset(oo, 0, sizeof(*oo));
	oo->format = fmt;
	oo->host_key_check = "strict";
	oo->started_ms = 1795428000123LL;
	oo->ndrones = n;
	oo->stream = f;
}

/* A result with one call that printed out. */
static void
od_result(struct dx_result *res, enum dx_status st, const char *cmd, const char *out,
    size_t cap)
{
	struct dx_err err;
	struct dx_call_result *c;

	memset(res, 0, sizeof(*res));
	res->status = st;
	res->attempts = 1;
	cr_assert_not_null(c = dx_result_add_call(res, cmd, cap, &err));
	c->exit_status = st == DX_ST_OK ? 0 : 1;
	dx_buf_append(&c->out, out, strlen(out));
	if (st != DX_ST_OK) {
		dx_err_set(&c->error, DX_NONZERO_EXIT, "call 1 exited with status 1");
		res->error = c->error;
	}
}

Test(output_doc, jsonl_lines_carry_their_type_and_the_summary_the_top_fields)
{
	struct dx_out_opts oo;
	struct dx_out *o;
	struct dx_err err = { 0 };
	struct dx_result a, b;
	struct dx_summary sum = { 2, 1, 1, 0 };
	char *text = NULL, *line, *save;
	size_t len = 0;
	FILE *f;
	json_t *j[3];
	json_error_t je;
	int n = 0;

	cr_assert_not_null(f = open_memstream(&text, &len));
	od_opts(&oo, DX_FMT_JSONL, 2, f);
	oo.shard = "2/8";
	cr_assert_not_null(o = dx_out_new(&oo, &err));
	od_result(&a, DX_ST_OK, "echo hi", "hi\n", 64);
	od_result(&b, DX_ST_FAILED, "false", "", 64);
	cr_assert_eq(dx_out_drone(o, 1, "web-02", "10.0.0.2", 22, "deploy", &b, &err), 0);
	cr_assert_eq(dx_out_drone(o, 0, "web-01", "10.0.0.1", 2222, "root", &a, &err), 0);
	cr_assert_eq(dx_out_finish(o, &sum, "1 of 2 drones failed: web-02 (nonzero_exit)",
	    42, &err), 0, "%s", err.msg);
	dx_out_free(o);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line != NULL && n < 3;
	    line = strtok_r(NULL, "\n", &save)) {
		j[n] = json_loads(line, 0, &je);
		cr_assert_not_null(j[n], "line %d: %s: %s", n, je.text, line);
		n++;
	}
	cr_assert_eq(n, 3, "%s", text);
	cr_expect_str_eq(json_string_value(json_object_get(j[0], "type")), "drone");
	cr_expect_str_eq(json_string_value(json_object_get(j[0], "name")), "web-02");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j[0], "error"),
	    "kind")), "nonzero_exit");
	cr_expect_str_eq(json_string_value(json_object_get(j[0], "user")), "deploy");
	cr_expect_str_eq(json_string_value(json_object_get(j[1], "type")), "drone");
	cr_expect_str_eq(json_string_value(json_object_get(j[1], "name")), "web-01");
	cr_expect_eq(json_integer_value(json_object_get(j[1], "port")), 2222);
	cr_expect_str_eq(json_string_value(json_object_get(j[2], "type")), "summary");
	cr_expect_eq(json_integer_value(json_object_get(j[2], "dronex")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(j[2], "started")),
	    "2026-11-23T10:00:00.123Z");
	cr_expect_eq(json_integer_value(json_object_get(j[2], "elapsed_ms")), 42);
	cr_expect_str_eq(json_string_value(json_object_get(j[2], "host_key_check")), "strict");
	cr_expect_str_eq(json_string_value(json_object_get(j[2], "shard")), "2/8");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(j[2], "summary"),
	    "failed")), 1);
	cr_expect(json_is_string(json_object_get(j[2], "error")));
	for (int i = 0; i < 3; i++)
		json_decref(j[i]);
	free(text);
	dx_result_release(&a);
	dx_result_release(&b);
}

/* Runs one json document of the given results into a string, parsed. */
static json_t *
od_document(struct dx_result *res, size_t n, const char *shard)
{
	struct dx_out_opts oo;
	struct dx_out *o;
	struct dx_err err = { 0 };
	struct dx_summary sum = { n, n, 0, 0 };
	char *text = NULL, name[16];
	size_t len = 0;
	FILE *f;
	json_t *doc;
	json_error_t je;

	cr_assert_not_null(f = open_memstream(&text, &len));
	od_opts(&oo, DX_FMT_JSON, n, f);
	oo.shard = shard;
	cr_assert_not_null(o = dx_out_new(&oo, &err));
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d-%zu", i + 1);
		cr_assert_eq(dx_out_drone(o, i, name, "127.0.0.1", 22, "u", &res[i],
		    &err), 0, "%s", err.msg);
	}
	cr_assert_eq(dx_out_finish(o, &sum, NULL, 1, &err), 0, "%s", err.msg);
	dx_out_free(o);
	fclose(f);
	doc = json_loads(text, 0, &je);
	cr_assert_not_null(doc, "%s: %s", je.text, text);
	free(text);
	return doc;
}

Test(output_doc, the_document_records_shard_user_and_survives_bad_bytes)
{
	struct dx_result res[2];
	json_t *doc, *d;

	od_result(&res[0], DX_ST_OK, "printf 'caf\xe9'", "caf\xe9", 64);
	od_result(&res[1], DX_ST_OK, "true", "", 64);
	res[0].kex = strdup("kex\xff");
	doc = od_document(res, 2, "3/4");
	cr_expect_str_eq(json_string_value(json_object_get(doc, "shard")), "3/4");
	d = json_object_get(json_object_get(doc, "drones"), "d-1");
	cr_assert_not_null(d);
	cr_expect_str_eq(json_string_value(json_object_get(d, "user")), "u");
	cr_expect_not_null(json_object_get(json_array_get(json_object_get(d, "calls"), 0),
	    "command_base64"));
	cr_expect_not_null(json_object_get(json_object_get(doc, "drones"), "d-2"));
	json_decref(doc);
	doc = od_document(res + 1, 1, NULL);
	cr_expect_null(json_object_get(doc, "shard"), "no --shard, no shard field");
	json_decref(doc);
	dx_result_release(&res[0]);
	dx_result_release(&res[1]);
}

static void *
od_small_malloc(size_t n)
{
	return n > 4096 ? NULL : malloc(n);
}

Test(output_doc, a_drone_that_cannot_be_encoded_leaves_the_others_whole)
{
	static char big[50000];
	struct dx_out_opts oo;
	struct dx_out *o;
	struct dx_err err = { 0 };
	struct dx_result res[3];
	struct dx_summary sum = { 3, 3, 0, 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	json_t *doc, *d;

	memset(big, 'x', sizeof(big) - 1);
	od_result(&res[0], DX_ST_OK, "a", "one\n", 64);
	od_result(&res[1], DX_ST_OK, "b", big, sizeof(big));
	od_result(&res[2], DX_ST_OK, "c", "three\n", 64);
	cr_assert_not_null(f = open_memstream(&text, &len));
	od_opts(&oo, DX_FMT_JSON, 3, f);
	cr_assert_not_null(o = dx_out_new(&oo, &err));
	cr_assert_eq(dx_out_drone(o, 0, "d-1", "h", 22, "u", &res[0], &err), 0);
	json_set_alloc_funcs(od_small_malloc, free);
	cr_expect_eq(dx_out_drone(o, 1, "d-2", "h", 22, "u", &res[1], &err), 0,
	    "an unencodable drone is not an output failure: %s", err.msg);
	json_set_alloc_funcs(malloc, free);
	cr_assert_eq(dx_out_drone(o, 2, "d-3", "h", 22, "u", &res[2], &err), 0);
	cr_assert_eq(dx_out_finish(o, &sum, NULL, 1, &err), 0, "%s", err.msg);
	dx_out_free(o);
	fclose(f);
	cr_assert_not_null(doc = json_loads(text, 0, NULL), "%s", text);
	d = json_object_get(json_object_get(doc, "drones"), "d-2");
	cr_assert_not_null(d, "the drone is missing: %s", text);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(d, "error"),
	    "kind")), "internal");
	cr_expect_str_eq(json_string_value(json_object_get(d, "status")), "ok");
	d = json_object_get(json_object_get(doc, "drones"), "d-3");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(d, "calls"), 0), "stdout")), "three\n");
	json_decref(doc);
	free(text);
	for (int i = 0; i < 3; i++)
		dx_result_release(&res[i]);
}

Test(output_doc, a_full_disk_is_an_output_error_with_the_system_text)
{
	static const enum dx_format fmts[] = { DX_FMT_JSON, DX_FMT_JSONL, DX_FMT_TEXT };
	char want[200];

	snprintf(want, sizeof(want), "cannot write the results: %s", strerror(ENOSPC));
	for (size_t k = 0; k < 3; k++) {
		struct dx_out_opts oo;
		struct dx_out *o;
		struct dx_err err = { 0 };
		struct dx_result res;
		struct dx_summary sum = { 1, 1, 0, 0 };
		FILE *f;
		int r;

		cr_assert_not_null(f = fopen("/dev/full", "w"));
		od_opts(&oo, fmts[k], 1, f);
		cr_assert_not_null(o = dx_out_new(&oo, &err));
		od_result(&res, DX_ST_OK, "echo hi", "hi\n", 64);
		r = dx_out_drone(o, 0, "d-1", "h", 22, "u", &res, &err);
		if (fmts[k] == DX_FMT_JSONL)
			cr_expect_eq(r, -1, "a jsonl line that cannot be written fails at once");
		else {
			cr_expect_eq(r, 0);
			r = dx_out_finish(o, &sum, NULL, 1, &err);
		}
		cr_expect_eq(r, -1, "format %zu", k);
		cr_expect_eq(err.kind, DX_OUTPUT, "format %zu: kind %s", k,
		    dx_kind_name(err.kind));
		cr_expect_str_eq(err.msg, want, "format %zu", k);
		dx_out_free(o);
		fclose(f);
		dx_result_release(&res);
	}
}

Test(output_doc, text_cut_inside_a_character_stays_text)
{
	struct dx_out_opts oo;
	struct dx_out *o;
	struct dx_err err = { 0 };
	struct dx_result res;
	struct dx_summary sum = { 1, 1, 0, 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	/* "éé" under a cap of 3 bytes: the second "é" is cut in half. */
	od_result(&res, DX_ST_OK, "x", "\xc3\xa9\xc3\xa9", 3);
	cr_assert_not_null(f = open_memstream(&text, &len));
	od_opts(&oo, DX_FMT_TEXT, 1, f);
	cr_assert_not_null(o = dx_out_new(&oo, &err));
	cr_assert_eq(dx_out_drone(o, 0, "d-1", "h", 22, "u", &res, &err), 0);
	cr_assert_eq(dx_out_finish(o, &sum, NULL, 1, &err), 0);
	dx_out_free(o);
	fclose(f);
	cr_expect(strstr(text, "(1)\n---------------\n\xc3\xa9\n[stdout truncated]\n") != NULL,
	    "%s", text);
	cr_expect_null(strstr(text, "binary"), "%s", text);
	free(text);
	dx_result_release(&res);
}
