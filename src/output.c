/*
 * output.c - printing results for people and programs (SPEC section 4).
 *
 * Every write goes through out_write() and friends, which remember the
 * first failure and its errno: a full disk or a pipe whose reader went
 * away is reported as DX_OUTPUT with the system's text (exit status 3),
 * never mistaken for a drone's failure and never silent.  Running out of
 * memory stays DX_INTERNAL.  SIGPIPE is ignored (dx_global_init()), so a
 * closed pipe shows up here as EPIPE.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "output_int.h"
#include "result.h"

static void	out_progress(struct dx_out *);
static void	out_progress_erase(struct dx_out *);

struct dx_out *
dx_out_new(const struct dx_out_opts *opts, struct dx_err *err)
{
	struct dx_out *o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		goto oom;
	o->opts = *opts;
	/* The caller chooses where results go: the library never picks stdout. */
	if ((o->f = opts->stream) == NULL) {
		free(o);
		dx_err_set(err, DX_INTERNAL, "no stream to write the results to");
		return NULL;
	}
	if (opts->format == DX_FMT_JSON) {
		if ((o->drones = json_array()) == NULL ||
		    (o->names = calloc(opts->ndrones + 1, sizeof(char *))) == NULL)
			goto oom;
		for (size_t i = 0; i < opts->ndrones; i++)
			if (json_array_append_new(o->drones, json_null()) == -1)
				goto oom;
	} else if (opts->format == DX_FMT_TEXT) {
		if ((o->text = dx_out_text_new(opts->ndrones)) == NULL)
			goto oom;
	}
	/* The line is there from the start: a run that hangs shows 0/N. */
	out_progress(o);
	return o;
oom:
	dx_out_free(o);
	dx_err_set(err, DX_INTERNAL, "out of memory");
	return NULL;
}

void
dx_out_free(struct dx_out *o)
{
	if (o == NULL)
		return;
	json_decref(o->drones);
	if (o->names != NULL)
		for (size_t i = 0; i < o->opts.ndrones; i++)
			free(o->names[i]);
	free(o->names);
	dx_out_text_free(o->text);
	free(o);
}

/* Records the first write failure; errno is read before anything else runs. */
static void
out_failed(struct dx_out *o)
{
	int e = errno;

	if (o->wfail)
		return;
	o->wfail = true;
	o->werrno = e != 0 ? e : EIO;
}

static void
out_write(struct dx_out *o, const void *p, size_t n)
{
	if (o->wfail || n == 0)
		return;
	errno = 0;
	if (fwrite(p, 1, n, o->f) != n)
		out_failed(o);
}

/* For output_text.c (output_int.h), as are the three below. */
void
dx_out_printf(struct dx_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->wfail)
		return;
	errno = 0;
	va_start(ap, fmt);
	n = vfprintf(o->f, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_failed(o);
}

/* Pushes buffered bytes out; a stream error seen earlier counts too. */
static void
out_flush(struct dx_out *o)
{
	if (o->wfail)
		return;
	errno = 0;
	if (fflush(o->f) != 0 || ferror(o->f))
		out_failed(o);
}

static int
out_dump_cb(const char *buf, size_t size, void *arg)
{
	struct dx_out *o = arg;

	out_write(o, buf, size);
	return o->wfail ? -1 : 0;
}

/*
 * Writes v and a newline.  -1 either because a write failed (o->wfail) or
 * because jansson ran out of memory.
 */
static int
out_dump(struct dx_out *o, const json_t *v, size_t flags)
{
	if (o->wfail)
		return -1;
	if (json_dump_callback(v, out_dump_cb, o, flags) == -1)
		return -1;
	out_write(o, "\n", 1);
	return o->wfail ? -1 : 0;
}

/* Sets err for a failure of the output: DX_OUTPUT for a write, else OOM. */
static int
out_error(const struct dx_out *o, struct dx_err *err)
{
	if (o->wfail)
		return dx_err_set(err, DX_OUTPUT, "cannot write the results: %s",
		    strerror(o->werrno));
	return dx_err_set(err, DX_INTERNAL, "out of memory");
}

void
dx_out_write(struct dx_out *o, const void *p, size_t n)
{
	out_write(o, p, n);
}

void
dx_out_flush(struct dx_out *o)
{
	out_flush(o);
}

int
dx_out_fail(const struct dx_out *o, struct dx_err *err)
{
	return out_error(o, err);
}

static size_t
out_flags(const struct dx_out *o)
{
	return o->opts.pretty ? JSON_INDENT(2) : JSON_COMPACT;
}

/*
 * The progress line: "\r", erase to the end of the line (so a shorter line
 * leaves nothing of a longer one), the counts, no newline.  Erased the same
 * way before the results, so that a terminal shows the results alone.
 */
#define OUT_ERASE_LINE	"\r\033[K"

static void
out_progress(struct dx_out *o)
{
	FILE *p = o->opts.progress;

	if (p == NULL || atomic_load(&o->progress_stopped))
		return;
	fprintf(p, OUT_ERASE_LINE "dronex: %zu/%zu %s done, %zu not ok",
	    o->done, o->opts.ndrones, o->opts.ndrones == 1 ? "drone" : "drones",
	    o->failed);
	fflush(p);
	o->progress_shown = true;
}

static void
out_progress_erase(struct dx_out *o)
{
	FILE *p = o->opts.progress;

	if (p == NULL || !o->progress_shown)
		return;
	fputs(OUT_ERASE_LINE, p);
	fflush(p);
	o->progress_shown = false;
}

void
dx_out_progress_stop(struct dx_out *o)
{
	FILE *p;

	if (o == NULL || (p = o->opts.progress) == NULL ||
	    atomic_exchange(&o->progress_stopped, true))
		return;
	/* Unconditional: progress_shown belongs to the feeding thread. */
	fputs(OUT_ERASE_LINE, p);
	fflush(p);
}

/* jsonl: {"type": "drone", "name": ..., the drone's fields}, one line. */
static int
out_jsonl_drone(struct dx_out *o, const char *name, json_t *obj)
{
	json_t *line;
	int rc = -1;

	if ((line = json_object()) == NULL)
		return -1;
	if (json_object_set_new(line, "type", json_string("drone")) == -1 ||
	    json_object_set_new(line, "name", dx_json_text(name)) == -1 ||
	    json_object_update(line, obj) == -1)
		goto out;
	/* One line per drone, whatever --pretty says: it is a stream. */
	if (out_dump(o, line, JSON_COMPACT) == -1)
		goto out;
	out_flush(o);
	rc = o->wfail ? -1 : 0;
out:
	json_decref(line);
	return rc;
}

int
dx_out_drone(struct dx_out *o, size_t index, const char *name,
    const char *host, int port, const char *user, const struct dx_result *res,
    struct dx_err *err)
{
	json_t *obj = NULL;
	int rc = -1;

	o->done++;
	if (res->status != DX_ST_OK)
		o->failed++;
	if (o->wfail)
		goto out;
	switch (o->opts.format) {
	case DX_FMT_JSON:
		if (index >= o->opts.ndrones ||
		    (obj = dx_result_json(host, port, user, res)) == NULL ||
		    (o->names[index] = strdup(name)) == NULL)
			goto out;
		if (json_array_set_new(o->drones, index, obj) == -1) {
			obj = NULL;
			goto out;
		}
		obj = NULL;
		break;
	case DX_FMT_JSONL:
		/* A line on a terminal shared with stderr starts on a clean line. */
		out_progress_erase(o);
		if ((obj = dx_result_json(host, port, user, res)) == NULL ||
		    out_jsonl_drone(o, name, obj) == -1)
			goto out;
		break;
	case DX_FMT_TEXT:
		if (index >= o->opts.ndrones ||
		    dx_out_text_drone(o, index, name, res) == -1)
			goto out;
		break;
	}
	rc = 0;
out:
	json_decref(obj);
	out_progress(o);
	if (rc == -1)
		out_error(o, err);
	return rc;
}

/*
 * The top-level fields (json document, jsonl summary line): dronex,
 * started, elapsed_ms, host_key_check, shard and run (when set), summary.
 */
static json_t *
out_head(const struct dx_out *o, const struct dx_summary *sum, int64_t elapsed_ms)
{
	char started[80];
	json_t *doc, *s;

	dx_iso8601_ms(o->opts.started_ms, started);
	if ((doc = json_object()) == NULL)
		return NULL;
	if ((o->opts.format == DX_FMT_JSONL &&
	    json_object_set_new(doc, "type", json_string("summary")) == -1) ||
	    json_object_set_new(doc, "dronex", json_integer(1)) == -1 ||
	    json_object_set_new(doc, "started", json_string(started)) == -1 ||
	    json_object_set_new(doc, "elapsed_ms", json_integer((json_int_t)elapsed_ms)) == -1 ||
	    json_object_set_new(doc, "host_key_check",
	    dx_json_text(o->opts.host_key_check)) == -1 ||
	    (o->opts.shard != NULL &&
	    json_object_set_new(doc, "shard", dx_json_text(o->opts.shard)) == -1) ||
	    (o->opts.run != NULL &&
	    json_object_set_new(doc, "run", dx_json_text(o->opts.run)) == -1))
		goto fail;
	s = json_pack("{s:I, s:I, s:I, s:I}", "drones", (json_int_t)sum->drones,
	    "ok", (json_int_t)sum->ok, "failed", (json_int_t)sum->failed,
	    "skipped", (json_int_t)sum->skipped);
	if (json_object_set_new(doc, "summary", s) == -1)
		goto fail;
	return doc;
fail:
	json_decref(doc);
	return NULL;
}

int
dx_out_finish(struct dx_out *o, const struct dx_summary *sum,
    const char *error, int64_t elapsed_ms, struct dx_err *err)
{
	json_t *doc = NULL, *drones;
	int rc = -1;

	out_progress_erase(o);
	if (o->wfail)
		return out_error(o, err);
	if (o->opts.format == DX_FMT_TEXT)
		return dx_out_text_finish(o, sum, elapsed_ms, err);
	if ((doc = out_head(o, sum, elapsed_ms)) == NULL)
		goto out;
	if (o->opts.format == DX_FMT_JSON) {
		if ((drones = json_object()) == NULL ||
		    json_object_set_new(doc, "drones", drones) == -1)
			goto out;
		for (size_t i = 0; i < o->opts.ndrones; i++) {
			if (o->names[i] == NULL)
				continue;
			/* jansson refuses a key that is not UTF-8. */
			dx_utf8_scrub(o->names[i]);
			if (json_object_set(drones, o->names[i],
			    json_array_get(o->drones, i)) == -1)
				goto out;
		}
	}
	if (json_object_set_new(doc, "error", dx_json_text(error)) == -1)
		goto out;
	if (out_dump(o, doc, o->opts.format == DX_FMT_JSONL ?
	    JSON_COMPACT : out_flags(o)) == -1)
		goto out;
	out_flush(o);
	rc = o->wfail ? -1 : 0;
out:
	json_decref(doc);
	if (rc == -1)
		out_error(o, err);
	return rc;
}

/*
 * `dronex list` and `dronex list --explain`.
 */

static json_t *
out_strings(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, dx_json_text(v[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
out_str_or_null(const char *s)
{
	return s != NULL ? dx_json_text(s) : json_null();
}

/* One drone as "dronex list" shows it: its target's effective values. */
static json_t *
out_list_drone(const struct dx_drone *dr, const struct dx_target *t,
    const char *shard)
{
	json_t *d;

	d = json_pack("{s:o, s:o, s:i, s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:O}",
	    "name", dx_json_text(dr->name), "host", dx_json_text(t->host),
	    "port", t->port, "user", dx_json_text(t->user),
	    "identity", out_str_or_null(t->nidentities ? t->identities[0] : NULL),
	    "known_hosts", out_str_or_null(t->nknown_hosts ? t->known_hosts[0] : NULL),
	    "priority", dr->priority,
	    "labels", out_strings(dr->labels, dr->nlabels),
	    "calls", out_strings(dr->calls, dr->ncalls),
	    "jump", out_str_or_null(t->jump),
	    "connect_timeout", json_real(t->connect_timeout_ms / 1000.0),
	    "vars", dr->vars ? dr->vars : json_null());
	if (d != NULL && shard != NULL &&
	    json_object_set_new(d, "shard", dx_json_text(shard)) == -1) {
		json_decref(d);
		d = NULL;
	}
	return d;
}

/* The value of setting s of t, as --explain prints it. */
static json_t *
out_setting_value(const struct dx_target *t, enum dx_setting s)
{
	switch (s) {
	case DX_SET_HOST:
		return dx_json_text(t->host);
	case DX_SET_PORT:
		return json_integer(t->port);
	case DX_SET_USER:
		return dx_json_text(t->user);
	case DX_SET_IDENTITY:
		return out_strings(t->identities, t->nidentities);
	case DX_SET_KNOWN_HOSTS:
		return out_strings(t->known_hosts, t->nknown_hosts);
	case DX_SET_GLOBAL_KNOWN_HOSTS:
		return out_strings(t->global_known_hosts, t->nglobal_known_hosts);
	case DX_SET_HOST_KEY_CHECK:
		return json_string(dx_hostkey_policy_name(t->hostkey_policy));
	case DX_SET_CONNECT_TIMEOUT:
		return json_real(t->connect_timeout_ms / 1000.0);
	case DX_SET_KEEPALIVE:
		return json_integer(t->keepalive_s);
	case DX_SET_JUMP:
		return out_str_or_null(t->jump);
	case DX_SET_IDENTITIES_ONLY:
		return json_boolean(t->identities_only);
	case DX_SET_HASH_KNOWN_HOSTS:
		return json_boolean(t->hash_known_hosts);
	case DX_SET_SERVER_ALIVE_COUNT_MAX:
		return json_integer(t->server_alive_count_max);
	default:
		return json_null();
	}
}

/* Writes v to f as list does; the first failure decides err. */
static int
out_list_write(FILE *f, const json_t *v, bool pretty, struct dx_err *err)
{
	struct dx_out o;

	memset(&o, 0, sizeof(o));
	o.f = f;
	o.opts.pretty = pretty;
	/* A write that fails (full disk, closed pipe) is exit 3, never 0. */
	if (out_dump(&o, v, out_flags(&o)) == 0)
		out_flush(&o);
	if (o.wfail)
		return dx_err_set(err, DX_OUTPUT, "cannot write the list: %s",
		    strerror(o.werrno));
	return 0;
}

int
dx_out_list(FILE *f, const struct dx_inventory *inv, const size_t *idx,
    const struct dx_target *targets, size_t n, const char *shard, bool pretty,
    struct dx_err *err)
{
	json_t *arr, *d;
	int rc = -1;

	if ((arr = json_array()) == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		d = out_list_drone(&inv->drones[idx[i]], &targets[i], shard);
		if (d == NULL || json_array_append_new(arr, d) == -1)
			goto oom;
	}
	rc = out_list_write(f, arr, pretty, err);
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	json_decref(arr);
	return rc;
}

/* [{"name", "host", "port", "user"}, ...]: t's hops; NULL when OOM. */
static json_t *
out_chain(const struct dx_target *t)
{
	json_t *a = json_array(), *h;

	for (size_t i = 0; a != NULL && i < t->nhops; i++) {
		h = json_pack("{s:o, s:o, s:i, s:o}",
		    "name", dx_json_text(t->hops[i].name),
		    "host", dx_json_text(t->hops[i].host),
		    "port", t->hops[i].port, "user", dx_json_text(t->hops[i].user));
		if (h == NULL || json_array_append_new(a, h) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int
dx_out_explain(FILE *f, const struct dx_target *t, bool pretty,
    struct dx_err *err)
{
	json_t *arr, *o;
	int rc = -1;

	if ((arr = json_array()) == NULL)
		goto oom;
	for (int s = 0; s < DX_SET_COUNT; s++) {
		const struct dx_origin *from = &t->from[s];

		o = json_pack("{s:s, s:o, s:s, s:o}",
		    "setting", dx_setting_name((enum dx_setting)s),
		    "value", out_setting_value(t, (enum dx_setting)s),
		    "source", dx_source_name(from->src),
		    "where", from->where[0] ? dx_json_text(from->where) : json_null());
		if (o == NULL || json_array_append_new(arr, o) == -1)
			goto oom;
		/* The jump chain as resolved (hops.c), outermost hop first. */
		if (s == DX_SET_JUMP && t->nhops > 0 &&
		    json_object_set_new(o, "chain", out_chain(t)) == -1)
			goto oom;
	}
	/* ssh_config options that applied and dronex does not honour. */
	for (size_t i = 0; i < t->nignored; i++) {
		const struct dx_ignored *ig = &t->ignored[i];

		o = json_pack("{s:o, s:o, s:s, s:o, s:b}",
		    "setting", dx_json_text(ig->keyword),
		    "value", dx_json_text(ig->value),
		    "source", dx_source_name(DX_SRC_SSH_CONFIG),
		    "where", dx_json_text(ig->where),
		    "ignored", 1);
		if (o == NULL || json_array_append_new(arr, o) == -1)
			goto oom;
	}
	rc = out_list_write(f, arr, pretty, err);
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	json_decref(arr);
	return rc;
}
