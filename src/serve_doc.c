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

#include "hostset.h"
#include "result.h"
#include "serve.h"

#define SERVE_ERROR_NAMES_MAX	160

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

static const char *
doc_kind(json_t *obj)
{
	const char *k = json_string_value(json_object_get(
	    json_object_get(obj, "error"), "kind"));

	return k != NULL ? k : "";
}

/* "F of N drones failed, S skipped: NAMES (kind), ..." or NULL. */
static char *
doc_error(const char *const *names, json_t *const *objs, size_t n)
{
	size_t failed = 0, skipped = 0, omitted, k;
	const char **group = NULL, *drones;
	bool *seen = NULL, first = true;
	char *s = NULL, *fold;
	size_t len = 0;
	FILE *m;

	for (size_t i = 0; i < n; i++) {
		enum dx_status st = doc_status(objs[i]);

		failed += st == DX_ST_FAILED;
		skipped += st == DX_ST_SKIPPED;
	}
	if (failed + skipped == 0)
		return NULL;
	if ((group = calloc(n + 1, sizeof(*group))) == NULL ||
	    (seen = calloc(n + 1, sizeof(*seen))) == NULL ||
	    (m = open_memstream(&s, &len)) == NULL) {
		free(group);
		free(seen);
		return NULL;
	}
	drones = n == 1 ? "drone" : "drones";
	if (failed > 0 && skipped > 0)
		fprintf(m, "%zu of %zu %s failed, %zu skipped: ", failed, n,
		    drones, skipped);
	else
		fprintf(m, "%zu of %zu %s %s: ", failed + skipped, n, drones,
		    failed > 0 ? "failed" : "skipped");
	/* One group per (status, kind), in the order of its first drone. */
	for (size_t i = 0; i < n; i++) {
		enum dx_status st = doc_status(objs[i]);
		const char *kind = doc_kind(objs[i]);

		if (seen[i] || st == DX_ST_OK)
			continue;
		k = 0;
		for (size_t j = i; j < n; j++)
			if (!seen[j] && doc_status(objs[j]) == st &&
			    strcmp(doc_kind(objs[j]), kind) == 0) {
				seen[j] = true;
				group[k++] = names[j];
			}
		if (!first)
			fputs(", ", m);
		first = false;
		omitted = 0;
		if ((fold = dx_hostset_fold_max(group, k, SERVE_ERROR_NAMES_MAX,
		    &omitted)) != NULL) {
			fputs(fold, m);
			free(fold);
		}
		if (omitted > 0)
			fprintf(m, " and %zu more", omitted);
		if (st == DX_ST_SKIPPED)
			fprintf(m, kind[0] == '\0' ? " (skipped)" : " (skipped: %s)",
			    kind);
		else
			fprintf(m, " (%s)", kind);
	}
	free(group);
	free(seen);
	if (fclose(m) != 0) {
		free(s);
		return NULL;
	}
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
