/*
 * result.c - a drone's result: its memory (the call records an executor
 * appends, and their release) and its JSON form.
 *
 * The encoder copies what it needs out of a struct dx_result, so the queue
 * may release the result right after the done callback: with --format jsonl
 * only the drones in flight hold output in memory.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "result.h"
#include "utf8.h"

void
dx_result_release(struct dx_result *res)
{
	struct dx_call_result *c;
	size_t i;

	if (res == NULL)
		return;
	/* done() may have taken the array (or parts of it) by NULLing them. */
	if (res->calls != NULL) {
		for (i = 0; i < res->ncalls; i++) {
			c = &res->calls[i];
			free(c->command);
			free(c->signal);
			dx_buf_release(&c->out);
			dx_buf_release(&c->err);
		}
		free(res->calls);
	}
	free(res->kex);
	free(res->hostkey_type);
	free(res->hostkey_fingerprint);
	memset(res, 0, sizeof(*res));
}

/*
 * The array grows by doubling (ncalls is the only count, so capacity is
 * the next power of two); a pointer returned earlier is invalid after the
 * next call.
 */
struct dx_call_result *
dx_result_add_call(struct dx_result *res, const char *command,
    size_t max_output, struct dx_err *err)
{
	struct dx_call_result *calls, *c;
	size_t cap;
	char *cmd;

	if (command == NULL)
		command = "";
	if ((cmd = strdup(command)) == NULL) {
		dx_err_set(err, DX_OUTPUT, "out of memory recording call '%s'",
		    command);
		return NULL;
	}
	/* done() may have taken the array; start a new one then. */
	if (res->calls == NULL)
		res->ncalls = 0;
	/* Grow when ncalls is 0 or a power of two (the array is full). */
	if (res->calls == NULL || (res->ncalls & (res->ncalls - 1)) == 0) {
		cap = res->ncalls == 0 ? 1 : res->ncalls * 2;
		if (cap > SIZE_MAX / sizeof(*calls) ||
		    (calls = realloc(res->calls, cap * sizeof(*calls))) == NULL) {
			free(cmd);
			dx_err_set(err, DX_OUTPUT,
			    "out of memory recording call '%s'", command);
			return NULL;
		}
		res->calls = calls;
	}
	c = &res->calls[res->ncalls++];
	memset(c, 0, sizeof(*c));
	c->command = cmd;
	c->exit_status = -1;
	dx_buf_init(&c->out, max_output);
	dx_buf_init(&c->err, max_output);
	dx_err_clear(&c->error);
	return c;
}

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
dx_json_text(const char *s)
{
	char *copy;
	json_t *v;

	if (s == NULL)
		return json_null();
	if (dx_utf8_valid(s, strlen(s)))
		return json_string(s);
	if ((copy = strdup(s)) == NULL)
		return NULL;
	dx_utf8_scrub(copy);
	v = json_string(copy);
	free(copy);
	return v;
}

json_t *
dx_err_json(const struct dx_err *err)
{
	char msg[sizeof(err->msg)];
	json_t *o;

	if (err->kind == DX_OK)
		return json_null();
	/* The message is a fixed buffer: never read past it. */
	memcpy(msg, err->msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "kind", json_string(dx_kind_name(err->kind))) == -1 ||
	    json_object_set_new(o, "message", dx_json_text(msg)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * Captured output: a buffer cut by --max-output may end inside a
 * character; that partial character is dropped (the call says truncated)
 * so that a capped UTF-8 stream stays text instead of turning into
 * base64.  Bytes that are not UTF-8 anyway go as base64, all of them.
 */
static int
result_set_buf(json_t *o, const char *key, const struct dx_buf *b)
{
	size_t len = b->data != NULL ? b->len : 0, t;

	if (b->truncated && len > 0) {
		t = dx_utf8_trim_partial(b->data, len);
		if (t < len && dx_utf8_valid(b->data, t))
			len = t;
	}
	return dx_json_set_bytes(o, key, b->data, len);
}

static json_t *
result_call_json(const struct dx_call_result *c)
{
	const char *cmd = c->command ? c->command : "";
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	/* A command that is not UTF-8 goes as command_base64, byte for byte. */
	if (dx_json_set_bytes(o, "command", cmd, strlen(cmd)) == -1 ||
	    json_object_set_new(o, "exit_status", c->exit_status >= 0 ?
	    json_integer(c->exit_status) : json_null()) == -1 ||
	    json_object_set_new(o, "signal", dx_json_text(c->signal)) == -1 ||
	    result_set_buf(o, "stdout", &c->out) == -1 ||
	    result_set_buf(o, "stderr", &c->err) == -1 ||
	    json_object_set_new(o, "elapsed_ms", json_integer(c->elapsed_ms)) == -1 ||
	    json_object_set_new(o, "truncated",
	    json_boolean(c->out.truncated || c->err.truncated)) == -1 ||
	    json_object_set_new(o, "error", dx_err_json(&c->error)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* host, port, user, status, attempts, elapsed_ms: the fields every form has. */
static json_t *
result_head(const char *host, int port, const char *user,
    const struct dx_result *res)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "host", dx_json_text(host)) == -1 ||
	    json_object_set_new(o, "port", json_integer(port)) == -1 ||
	    json_object_set_new(o, "user", dx_json_text(user)) == -1 ||
	    json_object_set_new(o, "status",
	    json_string(dx_status_name(res->status))) == -1 ||
	    json_object_set_new(o, "attempts", json_integer(res->attempts)) == -1 ||
	    json_object_set_new(o, "elapsed_ms",
	    json_integer((json_int_t)res->elapsed_ms)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
dx_result_json_fallback(const char *host, int port, const char *user,
    const struct dx_result *res)
{
	struct dx_err e;
	json_t *o;

	if ((o = result_head(host, port, user, res)) == NULL)
		return NULL;
	if (res->error.kind == DX_OK)
		dx_err_set(&e, DX_INTERNAL, "the result of this drone could not "
		    "be encoded (out of memory)");
	else
		dx_err_set(&e, DX_INTERNAL, "the result of this drone could not "
		    "be encoded (out of memory); its error was %s",
		    dx_kind_name(res->error.kind));
	if (json_object_set_new(o, "error", dx_err_json(&e)) == -1 ||
	    json_object_set_new(o, "kex", json_null()) == -1 ||
	    json_object_set_new(o, "hostkey_type", json_null()) == -1 ||
	    json_object_set_new(o, "hostkey_fingerprint", json_null()) == -1 ||
	    json_object_set_new(o, "calls", json_array()) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
dx_result_json(const char *host, int port, const char *user,
    const struct dx_result *res)
{
	json_t *o, *calls, *c;

	if ((o = result_head(host, port, user, res)) == NULL)
		goto fail;
	/* Strings a server sent are checked like everything else. */
	if (json_object_set_new(o, "error", dx_err_json(&res->error)) == -1 ||
	    json_object_set_new(o, "kex", dx_json_text(res->kex)) == -1 ||
	    json_object_set_new(o, "hostkey_type", dx_json_text(res->hostkey_type)) == -1 ||
	    json_object_set_new(o, "hostkey_fingerprint",
	    dx_json_text(res->hostkey_fingerprint)) == -1 ||
	    (calls = json_array()) == NULL ||
	    json_object_set_new(o, "calls", calls) == -1)
		goto fail;
	for (size_t i = 0; i < res->ncalls; i++)
		if ((c = result_call_json(&res->calls[i])) == NULL ||
		    json_array_append_new(calls, c) == -1)
			goto fail;
	return o;
fail:
	/* One drone's data must not sink the document: say what was lost. */
	json_decref(o);
	return dx_result_json_fallback(host, port, user, res);
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
