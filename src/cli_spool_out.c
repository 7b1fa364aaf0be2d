/*
 * cli_spool_out.c - how "dronex wait" prints a result: exactly as exec
 * would have printed it (json, jsonl, text), with exec's lines on stderr and
 * exec's exit status (cli_spool.c waits for it).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "base64.h"
#include "cli_int.h"
#include "dronex.h"
#include "spool.h"
#include "cli_spool_int.h"
#include "output.h"

/*
 * Results: printed as exec prints its own (cli_exec.c, output.c), exit
 * status as exec's.
 */
int
cli_spool_put(FILE *f, json_t *v, size_t flags)
{
	if (json_dumpf(v, f, flags) == -1 || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

/* A JSON string, or its _base64 twin decoded, appended to b. */
static int
out_bytes(json_t *obj, const char *key, struct dx_buf *b)
{
	char k64[32];
	const char *s;
	json_t *v;

	if ((v = json_object_get(obj, key)) != NULL && json_is_string(v))
		return dx_buf_append(b, json_string_value(v), json_string_length(v));
	snprintf(k64, sizeof(k64), "%s_base64", key);
	if ((s = json_string_value(json_object_get(obj, k64))) != NULL) {
		unsigned char *raw = malloc(strlen(s) / 4 * 3 + 4);
		long n;
		int rc;

		if (raw == NULL)
			return -1;
		n = dx_base64_decode(s, strlen(s), raw);
		rc = n < 0 ? 0 : dx_buf_append(b, raw, (size_t)n);
		free(raw);
		return rc;
	}
	return 0;
}

static void
out_error_of(json_t *e, struct dx_err *err)
{
	const char *kind = json_string_value(json_object_get(e, "kind"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	enum dx_kind k;

	if (!json_is_object(e))
		return;
	if (kind == NULL || dx_kind_parse(kind, &k) == -1)
		k = DX_INTERNAL;
	dx_err_set(err, k, "%s", msg != NULL ? msg : "");
}

/*
 * --format text: the document's drones turned back into results and
 * handed to exec's own text output (output.c), so the text is exec's.
 */
static int
out_text(json_t *doc, struct dx_err *err)
{
	struct dx_out_opts oo;
	struct dx_summary sum;
	struct dx_out *out = NULL;
	json_t *drones = json_object_get(doc, "drones"), *d, *s;
	const char *name;
	size_t i = 0;
	int rc = -1;

	memset(&oo, 0, sizeof(oo));
	oo.format = DX_FMT_TEXT;
	oo.stream = stdout;
	oo.ndrones = json_object_size(drones);
	oo.host_key_check = json_string_value(json_object_get(doc, "host_key_check"));
	oo.shard = json_string_value(json_object_get(doc, "shard"));
	if ((out = dx_out_new(&oo, err)) == NULL)
		return -1;
	json_object_foreach(drones, name, d) {
		struct dx_result res;
		const char *st = json_string_value(json_object_get(d, "status"));
		json_t *c;
		size_t k;
		int bad = 0;

		memset(&res, 0, sizeof(res));
		res.status = st == NULL ? DX_ST_FAILED : strcmp(st, "ok") == 0 ? DX_ST_OK :
		    strcmp(st, "skipped") == 0 ? DX_ST_SKIPPED : DX_ST_FAILED;
		out_error_of(json_object_get(d, "error"), &res.error);
		json_array_foreach(json_object_get(d, "calls"), k, c) {
			const char *cmd = json_string_value(json_object_get(c, "command"));
			struct dx_call_result *cr;

			if ((cr = dx_result_add_call(&res, cmd != NULL ? cmd : "?", SIZE_MAX,
			    err)) == NULL || out_bytes(c, "stdout", &cr->out) == -1 ||
			    out_bytes(c, "stderr", &cr->err) == -1) {
				bad = 1;
				break;
			}
			/* The document has one flag for both streams. */
			if (json_is_true(json_object_get(c, "truncated"))) {
				if (cr->out.len > 0)
					cr->out.truncated = true;
				else
					cr->err.truncated = true;
			}
		}
		if (!bad)
			bad = dx_out_drone(out, i++, name, NULL, 0, NULL, &res, err) == -1;
		dx_result_release(&res);
		if (bad)
			goto out;
	}
	s = json_object_get(doc, "summary");
	sum.drones = (size_t)json_integer_value(json_object_get(s, "drones"));
	sum.ok = (size_t)json_integer_value(json_object_get(s, "ok"));
	sum.failed = (size_t)json_integer_value(json_object_get(s, "failed"));
	sum.skipped = (size_t)json_integer_value(json_object_get(s, "skipped"));
	rc = dx_out_finish(out, &sum, json_string_value(json_object_get(doc, "error")),
	    json_integer_value(json_object_get(doc, "elapsed_ms")), err);
out:
	dx_out_free(out);
	return rc;
}

int
cli_spool_print_result(const char *id, const char *buf, size_t len,
    enum dx_format fmt, bool pretty, bool quiet)
{
	json_t *doc, *drones, *d, *v;
	json_error_t jerr;
	const char *name, *error;
	size_t flags = pretty ? JSON_INDENT(2) : JSON_COMPACT;
	int rc = DX_EXIT_FAILED;

	if ((doc = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr)) == NULL ||
	    !json_is_object(doc)) {
		cli_fail("the result of request %s is not a JSON document: %s", id,
		    doc == NULL ? jerr.text : "not an object");
		json_decref(doc);
		return DX_EXIT_FAILED;
	}
	drones = json_object_get(doc, "drones");
	error = json_string_value(json_object_get(doc, "error"));
	errno = 0;
	if (fmt == DX_FMT_JSONL) {
		json_t *line, *sum = json_deep_copy(doc);
		int bad = sum == NULL;

		json_object_foreach(drones, name, d) {
			if (bad || (line = json_object()) == NULL) {
				bad = 1;
				break;
			}
			bad = json_object_set_new(line, "type", json_string("drone")) ||
			    json_object_set_new(line, "name", json_string(name)) ||
			    json_object_update(line, d) ||
			    cli_spool_put(stdout, line, JSON_COMPACT);
			json_decref(line);
		}
		if (!bad && (line = json_object()) != NULL) {
			json_object_del(sum, "drones");
			bad = json_object_set_new(line, "type", json_string("summary")) ||
			    json_object_update(line, sum) ||
			    cli_spool_put(stdout, line, JSON_COMPACT);
			json_decref(line);
		}
		json_decref(sum);
		if (bad && !ferror(stdout))
			cli_fail("out of memory printing the result");
	} else if (fmt == DX_FMT_TEXT) {
		struct dx_err err = { 0 };

		if (out_text(doc, &err) == -1 && err.kind != DX_OUTPUT)
			cli_fail("%s", err.msg);
	} else if (cli_spool_put(stdout, doc, flags) == -1 && !ferror(stdout))
		cli_fail("out of memory printing the result");
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cli_fail("cannot write the results: %s", strerror(errno ? errno : EIO));
		json_decref(doc);
		return DX_EXIT_OUTPUT;
	}
	if (json_is_true(json_object_get(doc, "refused"))) {
		cli_fail("%s", error != NULL ? error : "the request was refused");
		json_decref(doc);
		return DX_EXIT_USAGE;
	}
	/* exec's lines, through exec's writer: escaped, as a drone may send anything. */
	if (error != NULL && quiet)
		dx_out_error_line(stderr, error);
	else if (error != NULL)
		json_object_foreach(drones, name, d) {
			const char *st = json_string_value(json_object_get(d, "status"));
			const char *k = json_string_value(json_object_get(
			    json_object_get(d, "error"), "kind"));
			enum dx_kind kind = DX_INTERNAL;

			if (st == NULL || strcmp(st, "ok") == 0)
				continue;
			if (k != NULL)
				(void)dx_kind_parse(k, &kind);
			dx_out_failure_line(stderr, name, strcmp(st, "skipped") == 0 ?
			    DX_ST_SKIPPED : DX_ST_FAILED, kind,
			    json_string_value(json_object_get(json_object_get(d,
			    "error"), "message")) ?: "");
		}
	v = json_object_get(doc, "summary");
	if (json_integer_value(json_object_get(v, "failed")) == 0 &&
	    json_integer_value(json_object_get(v, "skipped")) == 0 &&
	    json_is_object(v))
		rc = DX_EXIT_OK;
	json_decref(doc);
	return rc;
}

