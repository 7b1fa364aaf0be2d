/*
 * result.c - encoding drone results as JSON.
 *
 * The encoder copies what it needs out of a struct dx_result, so the queue
 * may release the result right after the done callback: with --format jsonl
 * only the drones in flight hold output in memory.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "result.h"
#include "utf8.h"

int
dx_json_set_bytes(json_t *obj, const char *key, const char *data, size_t len)
{
	char k[64];
	char *b64;
	json_t *v;

	if (data == NULL)
		data = "", len = 0;
	if (dx_utf8_valid(data, len))
		return json_object_set_new(obj, key, json_stringn(data, len));
	if ((b64 = dx_base64_encode(data, len)) == NULL)
		return -1;
	snprintf(k, sizeof(k), "%s_base64", key);
	v = json_string(b64);
	free(b64);
	return json_object_set_new(obj, k, v);
}

json_t *
dx_err_json(const struct dx_err *err)
{
	if (err->kind == DX_OK)
		return json_null();
	return json_pack("{s:s, s:s}", "kind", dx_kind_name(err->kind),
	    "message", err->msg);
}

static json_t *
result_call_json(const struct dx_call_result *c)
{
	json_t *o;

	o = json_pack("{s:s, s:o, s:o}",
	    "command", c->command ? c->command : "",
	    "exit_status", c->exit_status >= 0 ? json_integer(c->exit_status) : json_null(),
	    "signal", c->signal ? json_string(c->signal) : json_null());
	if (o == NULL)
		return NULL;
	if (dx_json_set_bytes(o, "stdout", c->out.data, c->out.len) == -1 ||
	    dx_json_set_bytes(o, "stderr", c->err.data, c->err.len) == -1 ||
	    json_object_set_new(o, "elapsed_ms", json_integer(c->elapsed_ms)) == -1 ||
	    json_object_set_new(o, "truncated",
	    json_boolean(c->out.truncated || c->err.truncated)) == -1 ||
	    json_object_set_new(o, "error", dx_err_json(&c->error)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
dx_result_json(const char *host, int port, const struct dx_result *res)
{
	json_t *o, *calls, *c;

	o = json_pack("{s:s, s:i, s:s, s:i, s:I, s:o, s:o, s:o}",
	    "host", host, "port", port,
	    "status", dx_status_name(res->status),
	    "attempts", res->attempts,
	    "elapsed_ms", (json_int_t)res->elapsed_ms,
	    "error", dx_err_json(&res->error),
	    "kex", res->kex ? json_string(res->kex) : json_null(),
	    "hostkey_type", res->hostkey_type ? json_string(res->hostkey_type) : json_null());
	if (o == NULL)
		return NULL;
	if ((calls = json_array()) == NULL ||
	    json_object_set_new(o, "calls", calls) == -1)
		goto fail;
	for (size_t i = 0; i < res->ncalls; i++)
		if ((c = result_call_json(&res->calls[i])) == NULL ||
		    json_array_append_new(calls, c) == -1)
			goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

void
dx_iso8601_ms(int64_t ms, char buf[80])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
