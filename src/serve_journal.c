/*
 * serve_journal.c - the crash journal of a running request and the
 * recovery of running/ at start (SPEC section 7, "Crash safety").
 *
 * running/ID.journal holds one JSON line per event.  The begin and start
 * lines are durable (the spool's group commit: many drone threads, one
 * fsync) BEFORE the thing they record happens:
 *
 *   {"begin": ID, "started": MS, "host_key_check": P, "shard": "K/N",
 *    "drones": [[NAME, HOST, PORT, USER], ...]}    before any drone starts
 *   {"start": DRONE, "call": I, "command": CMD}    before call I is sent
 *   {"done": DRONE, "result": {drone object}}      once the drone finished
 *
 * A done line is written but not fsync'd: it is written before the
 * drone's result can count anywhere, and a kill -9 of serve loses no
 * write(2) already made, so it is lost only with the machine (power,
 * kernel) before the next sync; then its drone's calls come back
 * "unknown", which is still true.  Syncing it would put one fsync per
 * drone on the queue's one dispatcher thread, where done() runs, one after
 * the other: half of a warm tick's time in bench/serve-loop.
 *
 * Recovery (serve_recover(), before serving): for each request left in
 * running/, the result is rebuilt from its journal and written, never by
 * running anything again.  A done drone keeps its object; a drone with a
 * start line but no done line failed with kind "interrupted", each call
 * it started recorded with "exit_status": null and "unknown": true (it
 * may or may not have run); a drone never started is skipped, kind
 * "interrupted".  A request whose begin line never became durable had no
 * call sent: all its drones are skipped.  A request whose result is in
 * complete/ already (a crash between the result and the clean-up) only
 * has its files removed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "serve.h"

#define JOURNAL_MAX	((size_t)1 << 30)

/* Appends line; durable: returns once it is on disk. */
static int
journal_put(struct dx_spool_journal *jl, json_t *line, bool durable,
    struct dx_err *err)
{
	char *text;
	int rc;

	if ((text = json_dumps(line, JSON_COMPACT)) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory journaling");
	rc = durable ? dx_spool_journal_put(jl, text, err) :
	    dx_spool_journal_append(jl, text, strlen(text), NULL, err);
	free(text);
	return rc;
}

int
serve_journal_begin(struct serve *s, struct serve_req *r, struct dx_err *err)
{
	char name[DX_SPOOL_ID_SIZE + 16];
	json_t *line = NULL, *drones;
	int rc = -1;

	pthread_mutex_lock(&r->fmu);
	if (r->files) {
		rc = 0;
		goto out;
	}
	if (r->files_failed) {
		dx_err_set(err, DX_INTERNAL, "request %s could not be journaled",
		    r->id);
		goto out;
	}
	snprintf(name, sizeof(name), "%s.journal", r->id);
	if (dx_spool_move(s->spool, "pending", "running", r->id, err) == -1 ||
	    dx_spool_journal_open(s->spool, "running", name, true, &r->journal,
	    err) == -1)
		goto fail;
	if ((line = json_object()) == NULL || (drones = json_array()) == NULL ||
	    json_object_set_new(line, "begin", json_string(r->id)) == -1 ||
	    json_object_set_new(line, "started",
	    json_integer((json_int_t)r->admitted_wall)) == -1 ||
	    json_object_set_new(line, "host_key_check", json_string(r->hkc)) == -1 ||
	    (r->r.shard != NULL && json_object_set_new(line, "shard",
	    dx_json_text(r->r.shard)) == -1) ||
	    json_object_set_new(line, "drones", drones) == -1)
		goto oom;
	for (size_t i = 0; i < r->njobs; i++) {
		const struct dx_target *t = r->jobs[i].target;

		if (json_array_append_new(drones, json_pack("[s?s?is?]",
		    r->jobs[i].drone->name, t->host, t->port, t->user)) == -1)
			goto oom;
	}
	if (journal_put(r->journal, line, true, err) == -1)
		goto fail;
	r->files = true;
	serve_log("request %s started (%zu drones)", r->id, r->njobs);
	serve_crash(s, "request-started");
	rc = 0;
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory journaling request %s", r->id);
fail:
	r->files_failed = true;
	serve_log("request %s: cannot start: %s", r->id, err->msg);
out:
	pthread_mutex_unlock(&r->fmu);
	json_decref(line);
	return rc;
}

int
serve_journal_start(struct serve *s, struct serve_req *r, const char *drone,
    size_t call, const char *command, struct dx_err *err)
{
	json_t *line;
	int rc = -1;

	(void)s;
	if ((line = json_pack("{s:s, s:I}", "start", drone, "call",
	    (json_int_t)call)) == NULL ||
	    dx_json_set_bytes(line, "command", command, strlen(command)) == -1)
		dx_err_set(err, DX_INTERNAL, "out of memory journaling");
	else
		rc = journal_put(r->journal, line, true, err);
	json_decref(line);
	return rc;
}

int
serve_journal_done(struct serve *s, struct serve_req *r, const char *drone,
    json_t *obj, struct dx_err *err)
{
	json_t *line;
	int rc = -1;

	(void)s;
	if (r->journal == NULL)
		return 0;
	if ((line = json_pack("{s:s, s:O}", "done", drone, "result", obj)) == NULL)
		dx_err_set(err, DX_INTERNAL, "out of memory journaling");
	else
		rc = journal_put(r->journal, line, false, err);
	json_decref(line);
	return rc;
}

/* A drone that started calls but has no done line: failed, unknown. */
static json_t *
recover_interrupted(const char *host, int port, const char *user,
    json_t *starts)
{
	struct dx_result res;
	json_t *obj, *calls;
	size_t n = json_array_size(starts);

	memset(&res, 0, sizeof(res));
	res.status = DX_ST_FAILED;
	res.attempts = 1;
	dx_err_set(&res.error, DX_INTERRUPTED, "serve stopped while the drone "
	    "ran: call %zu's outcome is unknown", n > 0 ? n - 1 : 0);
	obj = dx_result_json(host, port, user, &res);
	dx_result_release(&res);
	if (obj == NULL || (calls = json_object_get(obj, "calls")) == NULL)
		return obj;
	for (size_t i = 0; i < n; i++) {
		json_t *st = json_array_get(starts, i), *c, *cmd;
		struct dx_err e;

		if ((c = json_object()) == NULL)
			break;
		if ((cmd = json_object_get(st, "command_base64")) != NULL)
			json_object_set(c, "command_base64", cmd);
		else
			json_object_set_new(c, "command", json_string(
			    json_string_value(json_object_get(st, "command")) ?
			    json_string_value(json_object_get(st, "command")) : ""));
		dx_err_set(&e, DX_INTERRUPTED, "serve stopped: whether call %zu "
		    "ran is unknown", i);
		json_object_set_new(c, "exit_status", json_null());
		json_object_set_new(c, "signal", json_null());
		json_object_set_new(c, "stdout", json_string(""));
		json_object_set_new(c, "stderr", json_string(""));
		json_object_set_new(c, "elapsed_ms", json_integer(0));
		json_object_set_new(c, "truncated", json_false());
		json_object_set_new(c, "error", dx_err_json(&e));
		json_object_set_new(c, "unknown", json_true());
		json_array_append_new(calls, c);
	}
	return obj;
}

static json_t *
recover_skipped(const char *host, int port, const char *user)
{
	struct dx_result res;
	json_t *obj;

	memset(&res, 0, sizeof(res));
	res.status = DX_ST_SKIPPED;
	dx_err_set(&res.error, DX_INTERRUPTED, "not started: serve stopped");
	obj = dx_result_json(host, port, user, &res);
	dx_result_release(&res);
	return obj;
}

/* Removes running/ID and running/ID.journal. */
static void
recover_clean(struct serve *s, const char *id)
{
	char name[DX_SPOOL_NAME_MAX + 16];
	struct dx_err err = { 0 };

	snprintf(name, sizeof(name), "%s.journal", id);
	if (dx_spool_remove(s->spool, "running", id, &err) == -1 ||
	    dx_spool_remove(s->spool, "running", name, &err) == -1)
		serve_log("%s", err.msg);
}

/*
 * No begin line: no call of it was ever sent.  Its drones (resolved now)
 * are all skipped; a request that no longer parses or resolves is
 * completed with zero drones and the reason.
 */
static char *
recover_unbegun(struct serve *s, const char *id)
{
	struct dx_request rq;
	struct dx_err err = { 0 };
	struct cli_opts o;
	struct dx_target *t = NULL;
	size_t *idx = NULL, n = 0;
	char where[DX_SPOOL_ID_SIZE + 16], *buf = NULL, *doc = NULL;
	const char **names = NULL;
	json_t **objs = NULL;
	size_t len;

	snprintf(where, sizeof(where), "request %s", id);
	dx_request_init(&rq);
	if (dx_spool_read(s->spool, "running", id, DX_SPOOL_REQUEST_MAX, &buf,
	    &len, &err) == -1 ||
	    dx_request_parse(&rq, buf, len, where, &err) == -1)
		goto refused;
	if (serve_req_opts(s, &rq, &o, &err) == -1)
		goto refused;
	if (cli_select(&o, &s->inv, &idx, &t, &n, &err) == -1)
		goto refused;
	if ((names = calloc(n + 1, sizeof(*names))) == NULL ||
	    (objs = calloc(n + 1, sizeof(*objs))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		names[i] = t[i].name;
		if ((objs[i] = recover_skipped(t[i].host, t[i].port, t[i].user)) == NULL)
			goto out;
	}
	doc = serve_doc(id, serve_wall_ms(), 0, dx_hostkey_policy_name(
	    s->o->hostkey), rq.shard, names, objs, n, false, NULL);
	goto out;
refused:
	doc = serve_doc(id, serve_wall_ms(), 0, dx_hostkey_policy_name(
	    s->o->hostkey), NULL, NULL, NULL, 0, true, err.msg);
out:
	if (objs != NULL)
		for (size_t i = 0; i < n; i++)
			json_decref(objs[i]);
	free(objs);
	free(names);
	cli_targets_free(t, n);
	free(idx);
	free(buf);
	dx_request_release(&rq);
	return doc;
}

/* Rebuilds the result of request id from its journal lines. */
static char *
recover_doc(struct serve *s, const char *id, char **lines, size_t nlines,
    size_t *ndone, size_t *nint)
{
	json_t *begin = NULL, *done, *starts, *drones, *v;
	const char **names = NULL;
	json_t **objs = NULL;
	char *doc = NULL;
	size_t n = 0;
	int64_t started;

	*ndone = *nint = 0;
	if ((done = json_object()) == NULL || (starts = json_object()) == NULL) {
		json_decref(done);
		return NULL;
	}
	for (size_t i = 0; i < nlines; i++) {
		json_t *l = json_loads(lines[i], 0, NULL);
		const char *name;

		if (l == NULL)
			continue;
		if (begin == NULL && json_is_string(json_object_get(l, "begin"))) {
			begin = l;
			continue;
		}
		if ((name = json_string_value(json_object_get(l, "done"))) != NULL)
			json_object_set(done, name, json_object_get(l, "result"));
		else if ((name = json_string_value(json_object_get(l, "start"))) != NULL) {
			json_t *a = json_object_get(starts, name);

			if (a == NULL) {
				a = json_array();
				json_object_set_new(starts, name, a);
			}
			json_array_append(a, l);
		}
		json_decref(l);
	}
	if (begin == NULL) {
		json_decref(done);
		json_decref(starts);
		return recover_unbegun(s, id);
	}
	drones = json_object_get(begin, "drones");
	n = json_array_size(drones);
	if ((names = calloc(n + 1, sizeof(*names))) == NULL ||
	    (objs = calloc(n + 1, sizeof(*objs))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_array_get(drones, i);
		const char *host = json_string_value(json_array_get(d, 1));
		const char *user = json_string_value(json_array_get(d, 3));
		int port = (int)json_integer_value(json_array_get(d, 2));

		names[i] = json_string_value(json_array_get(d, 0));
		if (names[i] == NULL)
			names[i] = "?";
		if ((v = json_object_get(done, names[i])) != NULL) {
			objs[i] = json_incref(v);
			(*ndone)++;
		} else if ((v = json_object_get(starts, names[i])) != NULL) {
			objs[i] = recover_interrupted(host, port, user, v);
			(*nint)++;
		} else
			objs[i] = recover_skipped(host, port, user);
		if (objs[i] == NULL)
			goto out;
	}
	started = (int64_t)json_integer_value(json_object_get(begin, "started"));
	doc = serve_doc(id, started, serve_wall_ms() - started,
	    json_string_value(json_object_get(begin, "host_key_check")),
	    json_string_value(json_object_get(begin, "shard")), names, objs, n,
	    false, NULL);
out:
	if (objs != NULL)
		for (size_t i = 0; i < n; i++)
			json_decref(objs[i]);
	free(objs);
	free(names);
	json_decref(begin);
	json_decref(done);
	json_decref(starts);
	return doc;
}

static bool
recover_is_journal(const char *name, char *id, size_t idlen)
{
	size_t len = strlen(name), sl = strlen(".journal");

	if (len <= sl || strcmp(name + len - sl, ".journal") != 0 ||
	    len - sl >= idlen)
		return false;
	memcpy(id, name, len - sl);
	id[len - sl] = '\0';
	return true;
}

static void
recover_bad(void *arg, const char *sub, const char *name, const char *why)
{
	(void)arg;
	serve_log("refusing %s/%s: %s", sub, name, why);
}

int
serve_recover(struct serve *s)
{
	struct dx_err err = { 0 };
	char **names = NULL, **lines = NULL, id[DX_SPOOL_NAME_MAX + 1];
	char jname[DX_SPOOL_NAME_MAX + 16];
	size_t n = 0, nlines = 0, ndone, nint;
	char *doc;

	if (dx_spool_list(s->spool, "running", &names, &n, recover_bad, NULL,
	    &err) == -1) {
		serve_log("%s", err.msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (recover_is_journal(names[i], id, sizeof(id))) {
			/* A journal whose request is gone: its result was written. */
			if (!dx_spool_exists(s->spool, "running", id))
				(void)dx_spool_remove(s->spool, "running", names[i], NULL);
			continue;
		}
		if (dx_spool_exists(s->spool, "complete", names[i])) {
			recover_clean(s, names[i]);
			serve_log("request %s: its result was written before the "
			    "stop; cleaned up", names[i]);
			continue;
		}
		snprintf(jname, sizeof(jname), "%s.journal", names[i]);
		lines = NULL;
		nlines = 0;
		if (dx_spool_exists(s->spool, "running", jname) &&
		    dx_spool_journal_read(s->spool, "running", jname, JOURNAL_MAX,
		    &lines, &nlines, NULL, &err) == -1) {
			serve_log("request %s: its journal cannot be read: %s",
			    names[i], err.msg);
			nlines = 0;
		}
		doc = recover_doc(s, names[i], lines, nlines, &ndone, &nint);
		dx_spool_names_free(lines, nlines);
		if (doc == NULL) {
			serve_log("request %s: out of memory recovering it", names[i]);
			continue;
		}
		if (serve_write_result(s, names[i], doc) == 0) {
			recover_clean(s, names[i]);
			serve_log("request %s recovered after a stop: %zu drones done, "
			    "%zu interrupted", names[i], ndone, nint);
			pthread_mutex_lock(&s->mu);
			s->ncompleted++;
			s->naborted++;
			pthread_mutex_unlock(&s->mu);
		}
		free(doc);
	}
	dx_spool_names_free(names, n);
	return 0;
}
