/*
 * serve_doc.c - a request's result: exactly the document "dronex exec
 * --format json" prints (SPEC section 4: dronex, started, elapsed_ms,
 * host_key_check, shard, summary, drones, error), plus "request": ID,
 * written to complete/ID durably.  The drones' objects are the ones
 * dx_result_json() makes, whether they come from a live run or from the
 * journal after a crash, so both read the same.  The consolidated error
 * is worded and folded as dx_queue_error() does it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_error.h"
#include "result.h"
#include "serve.h"

static enum dx_status
doc_status(json_t *obj)
{
	const char *s = json_string_value(json_object_get(obj, "status"));

	if (s == NULL)
		return DX_ST_FAILED;
	if (strcmp(s, "ok") == 0)
		return DX_ST_OK;
	if (strcmp(s, "skipped") == 0)
		return DX_ST_SKIPPED;
	return DX_ST_FAILED;
}

/*
 * The consolidated error of the drones' objects, through the one builder
 * exec's queue and merge use (queue_error.h), or NULL.
 */
static char *
doc_error(const char *const *names, json_t *const *objs, size_t n)
{
	struct dx_error_entry *v;
	char *s;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *k = json_string_value(json_object_get(
		    json_object_get(objs[i], "error"), "kind"));

		v[i].name = names[i];
		v[i].status = doc_status(objs[i]);
		if (k == NULL)
			v[i].kind = DX_OK;	/* "(skipped)" with no kind */
		else if (dx_kind_parse(k, &v[i].kind) == -1)
			v[i].kind = DX_INTERNAL;
	}
	s = dx_error_line(v, n);
	free(v);
	return s;
}

char *
serve_doc(const char *id, int64_t started_wall, int64_t elapsed_ms,
    const char *hkc, const char *shard, const char *const *names,
    json_t *const *objs, size_t n, bool refused, const char *error)
{
	size_t ok = 0, failed = 0, skipped = 0;
	json_t *doc = NULL, *drones = NULL;
	char started[80], *err = NULL, *text = NULL;

	for (size_t i = 0; i < n; i++) {
		enum dx_status st = doc_status(objs[i]);

		ok += st == DX_ST_OK;
		failed += st == DX_ST_FAILED;
		skipped += st == DX_ST_SKIPPED;
	}
	if (error == NULL && (err = doc_error(names, objs, n)) != NULL)
		error = err;
	dx_iso8601_ms(started_wall, started);
	if ((doc = json_object()) == NULL || (drones = json_object()) == NULL)
		goto out;
	if (json_object_set_new(doc, "dronex", json_integer(1)) == -1 ||
	    json_object_set_new(doc, "started", json_string(started)) == -1 ||
	    json_object_set_new(doc, "elapsed_ms",
	    json_integer((json_int_t)elapsed_ms)) == -1 ||
	    json_object_set_new(doc, "host_key_check", dx_json_text(hkc)) == -1 ||
	    (shard != NULL &&
	    json_object_set_new(doc, "shard", dx_json_text(shard)) == -1) ||
	    json_object_set_new(doc, "summary", json_pack("{s:I, s:I, s:I, s:I}",
	    "drones", (json_int_t)n, "ok", (json_int_t)ok, "failed",
	    (json_int_t)failed, "skipped", (json_int_t)skipped)) == -1)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char *key = strdup(names[i]);

		if (key == NULL)
			goto out;
		dx_utf8_scrub(key);
		if (json_object_set(drones, key, objs[i]) == -1) {
			free(key);
			goto out;
		}
		free(key);
	}
	if (json_object_set(doc, "drones", drones) == -1 ||
	    json_object_set_new(doc, "error", dx_json_text(error)) == -1 ||
	    (refused && json_object_set_new(doc, "refused", json_true()) == -1) ||
	    json_object_set_new(doc, "request", dx_json_text(id)) == -1)
		goto out;
	text = json_dumps(doc, JSON_COMPACT);
out:
	json_decref(drones);
	json_decref(doc);
	free(err);
	return text;
}

json_t *
serve_obj_skipped(const struct dx_target *t, enum dx_kind kind, const char *msg)
{
	struct dx_result res;
	json_t *o;

	memset(&res, 0, sizeof(res));
	res.status = DX_ST_SKIPPED;
	dx_err_set(&res.error, kind, "%s", msg);
	o = dx_result_json(t->host, t->port, t->user, &res);
	dx_result_release(&res);
	return o;
}

int
serve_write_result(struct serve *s, const char *id, const char *doc)
{
	struct dx_err err = { 0 };
	size_t len = strlen(doc);
	char *line;

	/* One line, as exec prints it. */
	if ((line = malloc(len + 2)) == NULL) {
		serve_log("request %s: out of memory writing its result", id);
		return -1;
	}
	memcpy(line, doc, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	if (dx_spool_write(s->spool, "complete", id, line, len + 1, false,
	    &err) == -1) {
		serve_log("request %s: cannot write its result: %s", id, err.msg);
		free(line);
		return -1;
	}
	free(line);
	serve_crash(s, "result-written");
	return 0;
}

void
serve_refuse(struct serve *s, const char *sub, const char *id, const char *why)
{
	struct dx_err err = { 0 };
	char *doc;

	serve_log("request %s refused: %s", id, why);
	if ((doc = serve_doc(id, serve_wall_ms(), 0, dx_hostkey_policy_name(
	    s->o->hostkey), NULL, NULL, NULL, 0, true, why)) == NULL) {
		serve_log("request %s: out of memory refusing it", id);
		return;
	}
	if (!dx_spool_exists(s->spool, "complete", id) &&
	    serve_write_result(s, id, doc) == -1) {
		free(doc);
		return;
	}
	free(doc);
	if (sub != NULL && dx_spool_remove(s->spool, sub, id, &err) == -1)
		serve_log("%s", err.msg);
	pthread_mutex_lock(&s->mu);
	s->received++;
	s->ncompleted++;
	pthread_mutex_unlock(&s->mu);
	s->dirty = true;
}
