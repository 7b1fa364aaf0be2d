/*
 * request.c - serve requests: parse, check and dump (request.h).
 *
 * The parser walks the document's keys against fixed tables, so that an
 * unknown key is refused by name and every value is checked for its type
 * and range where it is read.  Every message has the same shape:
 * "<where>: field '<path>': <what is wrong>", the path written as the
 * document nests it ("options.timeout", "calls[2].base64").
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base64.h"
#include "inventory.h"
#include "request.h"
#include "utf8.h"

struct req_ctx {
	const char	*where;
	struct dx_err	*err;
};

static int
req_fail(struct req_ctx *c, const char *field, const char *fmt, const char *arg)
{
	char what[320];

	snprintf(what, sizeof(what), fmt, arg != NULL ? arg : "");
	if (field != NULL)
		return dx_err_set(c->err, DX_USAGE, "%s: field '%s': %s", c->where,
		    field, what);
	return dx_err_set(c->err, DX_USAGE, "%s: %s", c->where, what);
}

static int
req_oom(struct req_ctx *c)
{
	return dx_err_set(c->err, DX_INTERNAL, "%s: out of memory", c->where);
}

void
dx_request_init(struct dx_request *r)
{
	memset(r, 0, sizeof(*r));
}

static void
req_strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
dx_request_release(struct dx_request *r)
{
	req_strv_free(r->drones, r->ndrones);
	req_strv_free(r->exclude, r->nexclude);
	req_strv_free(r->labels, r->nlabels);
	req_strv_free(r->calls, r->ncalls);
	free(r->shard);
	free(r->opts.user);
	free(r->opts.stdin_data);
	dx_request_init(r);
}

/* An array of non-empty strings without NUL bytes, at most max. */
static int
req_strings(struct req_ctx *c, const char *field, json_t *v, size_t max,
    bool no_file, char ***out, size_t *n)
{
	char path[64];
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return req_fail(c, field, "expected an array of strings", NULL);
	if (json_array_size(v) > max) {
		char lim[32];

		snprintf(lim, sizeof(lim), "%zu", max);
		return req_fail(c, field, "more than %s entries", lim);
	}
	if ((*out = calloc(json_array_size(v) + 1, sizeof(**out))) == NULL)
		return req_oom(c);
	json_array_foreach(v, i, e) {
		snprintf(path, sizeof(path), "%s[%zu]", field, i);
		if (!json_is_string(e))
			return req_fail(c, path, "expected a string", NULL);
		if (json_string_length(e) == 0)
			return req_fail(c, path, "is empty", NULL);
		if (strlen(json_string_value(e)) != json_string_length(e))
			return req_fail(c, path, "holds a NUL byte", NULL);
		/* serve reads no file a client names: submit expands ^FILE. */
		if (no_file && strchr(json_string_value(e), '^') != NULL)
			return req_fail(c, path, "^FILE is not allowed in a request "
			    "(expand it into names)", NULL);
		if (((*out)[i] = strdup(json_string_value(e))) == NULL)
			return req_oom(c);
		(*n)++;
	}
	return 0;
}

static int
req_shard(struct req_ctx *c, json_t *v, struct dx_request *r)
{
	unsigned long k, n;
	const char *s;
	char *end;

	if (!json_is_string(v))
		return req_fail(c, "selection.shard", "expected a string \"K/N\"", NULL);
	s = json_string_value(v);
	errno = 0;
	k = strtoul(s, &end, 10);
	if (end == s || *end != '/' || errno != 0 || s[0] == '-' || s[0] == '+' ||
	    s[0] == ' ')
		goto bad;
	s = end + 1;
	n = strtoul(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || s[0] == '-' || s[0] == '+' ||
	    s[0] == ' ' || n < 1 || n > 100000 || k < 1 || k > n)
		goto bad;
	if ((r->shard = strdup(json_string_value(v))) == NULL)
		return req_oom(c);
	r->shard_k = (unsigned)k;
	r->shard_n = (unsigned)n;
	return 0;
bad:
	return req_fail(c, "selection.shard", "'%s' is not K/N with 1 <= K <= N",
	    json_string_value(v));
}

static int
req_selection(struct req_ctx *c, json_t *sel, struct dx_request *r)
{
	const char *key;
	json_t *v;

	if (!json_is_object(sel))
		return req_fail(c, "selection", "expected an object", NULL);
	json_object_foreach(sel, key, v) {
		if (strcmp(key, "drones") == 0) {
			if (req_strings(c, "selection.drones", v, DX_REQUEST_MAX_SETS, true,
			    &r->drones, &r->ndrones) == -1)
				return -1;
		} else if (strcmp(key, "exclude") == 0) {
			if (req_strings(c, "selection.exclude", v, DX_REQUEST_MAX_SETS,
			    true, &r->exclude, &r->nexclude) == -1)
				return -1;
		} else if (strcmp(key, "labels") == 0) {
			if (req_strings(c, "selection.labels", v, DX_REQUEST_MAX_LABELS,
			    false, &r->labels, &r->nlabels) == -1)
				return -1;
		} else if (strcmp(key, "shard") == 0) {
			if (req_shard(c, v, r) == -1)
				return -1;
		} else {
			char f[160];

			snprintf(f, sizeof(f), "selection.%s", key);
			return req_fail(c, f, "unknown field", NULL);
		}
	}
	return 0;
}

/* Base64 text to bytes (*out NUL-terminated, the caller frees); -1 if bad. */
static int
req_unbase64(const char *s, size_t len, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	long n;

	if ((buf = malloc(len / 4 * 3 + 4)) == NULL)
		return -2;
	if ((n = dx_base64_decode(s, len, buf)) < 0) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = (size_t)n;
	return 0;
}

static int
req_calls(struct req_ctx *c, json_t *v, struct dx_request *r)
{
	char path[64];
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return req_fail(c, "calls", "expected an array", NULL);
	if (json_array_size(v) > DX_REQUEST_MAX_CALLS)
		return req_fail(c, "calls", "more than 4096 calls", NULL);
	if ((r->calls = calloc(json_array_size(v) + 1, sizeof(*r->calls))) == NULL)
		return req_oom(c);
	json_array_foreach(v, i, e) {
		snprintf(path, sizeof(path), "calls[%zu]", i);
		if (json_is_string(e)) {
			if (json_string_length(e) == 0)
				return req_fail(c, path, "is empty", NULL);
			if (strlen(json_string_value(e)) != json_string_length(e))
				return req_fail(c, path, "holds a NUL byte", NULL);
			if ((r->calls[i] = strdup(json_string_value(e))) == NULL)
				return req_oom(c);
		} else if (json_is_object(e)) {
			json_t *b = json_object_get(e, "base64");
			unsigned char *bytes;
			size_t n;
			int rc;

			if (json_object_size(e) != 1 || !json_is_string(b))
				return req_fail(c, path, "expected a string or "
				    "{\"base64\": \"...\"}", NULL);
			snprintf(path, sizeof(path), "calls[%zu].base64", i);
			rc = req_unbase64(json_string_value(b), json_string_length(b),
			    &bytes, &n);
			if (rc == -2)
				return req_oom(c);
			if (rc == -1)
				return req_fail(c, path, "is not valid base64", NULL);
			if (n == 0 || strlen((char *)bytes) != n) {
				free(bytes);
				return req_fail(c, path, n == 0 ? "is empty" :
				    "holds a NUL byte", NULL);
			}
			r->calls[i] = (char *)bytes;
		} else
			return req_fail(c, path, "expected a string or "
			    "{\"base64\": \"...\"}", NULL);
		r->ncalls++;
	}
	return 0;
}

/* Seconds (a JSON number) to ms: > 0, or >= 0 with zero_ok; at most 10^9 s. */
static int
req_seconds(struct req_ctx *c, const char *field, json_t *v, bool zero_ok,
    bool *given, int64_t *ms)
{
	double d;

	if (!json_is_number(v))
		return req_fail(c, field, "expected a number", NULL);
	d = json_number_value(v);
	if (!isfinite(d) || d < 0 || (!zero_ok && d * 1000.0 < 1.0) || d > 1e9)
		return req_fail(c, field, zero_ok ? "expected a number of seconds "
		    "from 0 to 1e9" : "expected a number of seconds greater than 0 "
		    "(at least 0.001) and at most 1e9", NULL);
	*ms = (int64_t)(d * 1000.0 + 0.5);
	*given = true;
	return 0;
}

static int
req_int(struct req_ctx *c, const char *field, json_t *v, long long min,
    long long max, long long *out)
{
	char range[64];

	if (!json_is_integer(v))
		return req_fail(c, field, "expected a whole number", NULL);
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(range, sizeof(range), "%lld to %lld", min, max);
		return req_fail(c, field, "expected a whole number from %s", range);
	}
	*out = json_integer_value(v);
	return 0;
}

static int
req_options(struct req_ctx *c, json_t *o, struct dx_request *r)
{
	struct dx_request_opts *p = &r->opts;
	const char *key;
	long long n;
	char f[160];
	json_t *v;

	if (!json_is_object(o))
		return req_fail(c, "options", "expected an object", NULL);
	json_object_foreach(o, key, v) {
		snprintf(f, sizeof(f), "options.%s", key);
		if (strcmp(key, "timeout") == 0) {
			if (req_seconds(c, f, v, false, &p->timeout_given,
			    &p->timeout_ms) == -1)
				return -1;
		} else if (strcmp(key, "connect_timeout") == 0) {
			if (req_seconds(c, f, v, false, &p->connect_timeout_given,
			    &p->connect_timeout_ms) == -1)
				return -1;
		} else if (strcmp(key, "deadline") == 0) {
			if (req_seconds(c, f, v, false, &p->deadline_given,
			    &p->deadline_ms) == -1)
				return -1;
		} else if (strcmp(key, "retry_delay") == 0) {
			if (req_seconds(c, f, v, true, &p->retry_delay_given,
			    &p->retry_delay_ms) == -1)
				return -1;
		} else if (strcmp(key, "retries") == 0) {
			if (req_int(c, f, v, 0, 100, &n) == -1)
				return -1;
			p->retries = (int)n;
			p->retries_given = true;
		} else if (strcmp(key, "max_failures") == 0) {
			if (req_int(c, f, v, 1, LLONG_MAX, &n) == -1)
				return -1;
			p->max_failures = (size_t)n;
			p->max_failures_given = true;
		} else if (strcmp(key, "max_output") == 0) {
			if (req_int(c, f, v, 0, 1LL << 40, &n) == -1)
				return -1;
			p->max_output = (size_t)n;
			p->max_output_given = true;
		} else if (strcmp(key, "port") == 0) {
			if (req_int(c, f, v, 1, 65535, &n) == -1)
				return -1;
			p->port = (int)n;
			p->port_given = true;
		} else if (strcmp(key, "fail_fast") == 0) {
			if (!json_is_boolean(v))
				return req_fail(c, f, "expected true or false", NULL);
			p->fail_fast = json_is_true(v);
			p->fail_fast_given = true;
		} else if (strcmp(key, "host_key_check") == 0) {
			size_t k;

			if (!json_is_string(v))
				return req_fail(c, f, "expected \"strict\", \"accept-new\" "
				    "or \"off\"", NULL);
			for (k = 0; k < 3; k++)
				if (strcmp(json_string_value(v), dx_hostkey_policy_name(
				    (enum dx_hostkey_policy)k)) == 0)
					break;
			if (k == 3)
				return req_fail(c, f, "'%s' is not strict, accept-new or off",
				    json_string_value(v));
			p->host_key_check = (enum dx_hostkey_policy)k;
			p->host_key_check_given = true;
		} else if (strcmp(key, "user") == 0) {
			struct dx_err e = { 0 };

			if (!json_is_string(v))
				return req_fail(c, f, "expected a string", NULL);
			if (strlen(json_string_value(v)) != json_string_length(v) ||
			    dx_check_hostname(json_string_value(v), "user", &e) == -1)
				return req_fail(c, f, "%s", e.kind != DX_OK ? e.msg :
				    "holds a NUL byte");
			if ((p->user = strdup(json_string_value(v))) == NULL)
				return req_oom(c);
		} else if (strcmp(key, "stdin_base64") == 0) {
			int rc;

			if (!json_is_string(v))
				return req_fail(c, f, "expected a base64 string", NULL);
			if (json_string_length(v) > DX_BASE64_LEN(DX_REQUEST_MAX_STDIN))
				return req_fail(c, f, "is over the 64 MiB limit", NULL);
			rc = req_unbase64(json_string_value(v), json_string_length(v),
			    &p->stdin_data, &p->stdin_len);
			if (rc == -2)
				return req_oom(c);
			if (rc == -1)
				return req_fail(c, f, "is not valid base64", NULL);
			p->stdin_given = true;
		} else
			return req_fail(c, f, "unknown field", NULL);
	}
	return 0;
}

int
dx_request_parse(struct dx_request *r, const char *json, size_t len,
    const char *where, struct dx_err *err)
{
	struct req_ctx c = { where != NULL ? where : "request", err };
	json_error_t jerr;
	json_t *doc, *v;
	const char *key;
	long long n;
	bool version = false;
	int rc = -1;

	dx_request_init(r);
	if ((doc = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    &jerr)) == NULL) {
		dx_err_set(err, DX_USAGE, "%s: not valid JSON: line %d column %d: %s",
		    c.where, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(doc)) {
		req_fail(&c, NULL, "expected a JSON object", NULL);
		goto out;
	}
	/* The version first: a newer document is refused as such, not piecemeal. */
	if ((v = json_object_get(doc, "dronex_request")) == NULL) {
		req_fail(&c, "dronex_request", "is missing (want 1)", NULL);
		goto out;
	}
	if (!json_is_integer(v) || json_integer_value(v) != DX_REQUEST_VERSION) {
		char got[32];

		if (json_is_integer(v))
			snprintf(got, sizeof(got), "%lld", (long long)json_integer_value(v));
		req_fail(&c, "dronex_request", json_is_integer(v) ?
		    "version %s is not supported (this dronex reads version 1)" :
		    "expected the whole number 1", got);
		goto out;
	}
	json_object_foreach(doc, key, v) {
		if (strcmp(key, "dronex_request") == 0)
			version = true;
		else if (strcmp(key, "selection") == 0) {
			if (req_selection(&c, v, r) == -1)
				goto out;
		} else if (strcmp(key, "calls") == 0) {
			if (req_calls(&c, v, r) == -1)
				goto out;
		} else if (strcmp(key, "options") == 0) {
			if (req_options(&c, v, r) == -1)
				goto out;
		} else if (strcmp(key, "priority") == 0) {
			if (req_int(&c, "priority", v, INT_MIN, INT_MAX, &n) == -1)
				goto out;
			r->priority = (int)n;
		} else {
			req_fail(&c, key, "unknown field", NULL);
			goto out;
		}
	}
	rc = version ? 0 : -1;
out:
	json_decref(doc);
	if (rc == -1)
		dx_request_release(r);
	return rc;
}

/*
 * Dump.
 */
static json_t *
req_strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Whole seconds as an integer, else a real: parse gives the same ms back. */
static json_t *
req_seconds_json(int64_t ms)
{
	if (ms % 1000 == 0)
		return json_integer(ms / 1000);
	return json_real((double)ms / 1000.0);
}

static json_t *
req_bytes_json(const void *data, size_t len)
{
	char *b = dx_base64_encode(data, len);
	json_t *s;

	if (b == NULL)
		return NULL;
	s = json_string(b);
	free(b);
	return s;
}

/* Sets key to v (a new reference, NULL: out of memory); -1 on failure. */
static int
req_set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL)
		return -1;
	return json_object_set_new(o, key, v);
}

char *
dx_request_dump(const struct dx_request *r, struct dx_err *err)
{
	const struct dx_request_opts *p = &r->opts;
	json_t *doc, *sel = NULL, *opts = NULL, *calls = NULL;
	char *text = NULL;
	bool ok;

	if ((doc = json_object()) == NULL || (sel = json_object()) == NULL ||
	    (opts = json_object()) == NULL || (calls = json_array()) == NULL)
		goto oom;
	ok = req_set(doc, "dronex_request", json_integer(DX_REQUEST_VERSION)) == 0;
	if (ok && r->ndrones > 0)
		ok = req_set(sel, "drones", req_strv_json(r->drones, r->ndrones)) == 0;
	if (ok && r->nexclude > 0)
		ok = req_set(sel, "exclude", req_strv_json(r->exclude,
		    r->nexclude)) == 0;
	if (ok && r->nlabels > 0)
		ok = req_set(sel, "labels", req_strv_json(r->labels, r->nlabels)) == 0;
	if (ok && r->shard != NULL)
		ok = req_set(sel, "shard", json_string(r->shard)) == 0;
	for (size_t i = 0; ok && i < r->ncalls; i++) {
		const char *s = r->calls[i];

		if (dx_utf8_valid(s, strlen(s)))
			ok = json_array_append_new(calls, json_string(s)) == 0;
		else {
			json_t *o = json_object();

			ok = o != NULL && req_set(o, "base64", req_bytes_json(s,
			    strlen(s))) == 0 && json_array_append_new(calls, o) == 0;
			if (!ok)
				json_decref(o);
		}
	}
	if (ok && p->timeout_given)
		ok = req_set(opts, "timeout", req_seconds_json(p->timeout_ms)) == 0;
	if (ok && p->connect_timeout_given)
		ok = req_set(opts, "connect_timeout",
		    req_seconds_json(p->connect_timeout_ms)) == 0;
	if (ok && p->deadline_given)
		ok = req_set(opts, "deadline", req_seconds_json(p->deadline_ms)) == 0;
	if (ok && p->retries_given)
		ok = req_set(opts, "retries", json_integer(p->retries)) == 0;
	if (ok && p->retry_delay_given)
		ok = req_set(opts, "retry_delay",
		    req_seconds_json(p->retry_delay_ms)) == 0;
	if (ok && p->max_failures_given)
		ok = req_set(opts, "max_failures",
		    json_integer((json_int_t)p->max_failures)) == 0;
	if (ok && p->fail_fast_given)
		ok = req_set(opts, "fail_fast", json_boolean(p->fail_fast)) == 0;
	if (ok && p->max_output_given)
		ok = req_set(opts, "max_output",
		    json_integer((json_int_t)p->max_output)) == 0;
	if (ok && p->host_key_check_given)
		ok = req_set(opts, "host_key_check",
		    json_string(dx_hostkey_policy_name(p->host_key_check))) == 0;
	if (ok && p->user != NULL)
		ok = req_set(opts, "user", json_string(p->user)) == 0;
	if (ok && p->port_given)
		ok = req_set(opts, "port", json_integer(p->port)) == 0;
	if (ok && p->stdin_given)
		ok = req_set(opts, "stdin_base64", req_bytes_json(p->stdin_data,
		    p->stdin_len)) == 0;
	if (ok && r->priority != 0)
		ok = req_set(doc, "priority", json_integer(r->priority)) == 0;
	if (!ok)
		goto oom;
	if (json_object_size(sel) > 0 && json_object_set(doc, "selection", sel) == -1)
		goto oom;
	if (r->ncalls > 0 && json_object_set(doc, "calls", calls) == -1)
		goto oom;
	if (json_object_size(opts) > 0 && json_object_set(doc, "options", opts) == -1)
		goto oom;
	if ((text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto oom;
	/* What parse would refuse is not written: check the text as serve will. */
	{
		struct dx_request back;

		if (dx_request_parse(&back, text, strlen(text), "request", err) == -1) {
			free(text);
			text = NULL;
			goto out;
		}
		dx_request_release(&back);
	}
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory writing a request");
out:
	json_decref(calls);
	json_decref(opts);
	json_decref(sel);
	json_decref(doc);
	return text;
}
