/*
 * serve_intake.c - what the main thread of "dronex serve" does with the
 * spool: new requests taken from requested/ (read safely, parsed,
 * resolved against the inventory, moved to pending/, admitted by
 * priority), refused ones given a result that says why, aborts from
 * aborting/, control files from control/ (applied, then answered), and
 * the results of finished requests written to complete/.  Everything here
 * runs on the main thread (serve.h says what is shared with the others).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

/*
 * Clean-up that needs no fsync: removing what a durable result made
 * useless (a crash that undoes the unlink finds complete/ID and cleans
 * up again), and moving a request from requested/ to pending/ (after a
 * crash it is taken from either).  Saves the main thread a directory
 * fsync per file, which is most of its time on a busy spool.
 */
static void
serve_unlink(struct serve *s, const char *sub, const char *name)
{
	int dfd = dx_spool_dirfd(s->spool, sub);

	if (dfd != -1 && unlinkat(dfd, name, 0) == -1 && errno != ENOENT)
		serve_log("cannot remove %s/%s: %s", sub, name, strerror(errno));
}

static int
serve_accept_move(struct serve *s, const char *from, const char *id,
    struct dx_err *err)
{
	int fd = dx_spool_dirfd(s->spool, from), td = dx_spool_dirfd(s->spool,
	    "pending");

	if (renameat2(fd, id, td, id, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EINVAL || errno == ENOSYS)
		return dx_spool_move(s->spool, from, "pending", id, err);
	return dx_err_set(err, DX_INTERNAL, "cannot move %s/%s to pending/: %s",
	    from, id, strerror(errno));
}

/* The live request called id, or NULL. */
static struct serve_req *
serve_find(struct serve *s, const char *id)
{
	for (struct serve_req *r = s->live; r != NULL; r = r->next)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

static void
serve_live_add(struct serve *s, struct serve_req *r)
{
	struct serve_req **pp = &s->live;

	while (*pp != NULL)
		pp = &(*pp)->next;
	r->next = NULL;
	*pp = r;
}

static void
serve_live_remove(struct serve *s, struct serve_req *r)
{
	struct serve_req **pp = &s->live;

	while (*pp != NULL && *pp != r)
		pp = &(*pp)->next;
	if (*pp == r)
		*pp = r->next;
}

/*
 * Builds the request's jobs: its selection resolved against the
 * inventory, one job per drone, the drone's own calls then the
 * request's.  0, or -1 with err (the selection's error).
 */
static int
serve_build(struct serve *s, struct serve_req *r, struct dx_err *err)
{
	const struct dx_request *rq = &r->r;
	struct cli_opts o;
	struct dx_target *t = NULL;
	size_t *idx = NULL, n = 0;
	bool own;
	int rc = -1;

	if (serve_req_opts(s, rq, &o, err) == -1 ||
	    cli_select(&o, &s->inv, &idx, &t, &n, err) == -1)
		return -1;
	own = rq->opts.user != NULL || rq->opts.port_given ||
	    rq->opts.host_key_check_given || rq->opts.connect_timeout_given;
	if ((r->jobs = calloc(n + 1, sizeof(*r->jobs))) == NULL ||
	    (r->results = calloc(n + 1, sizeof(*r->results))) == NULL) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	r->njobs = n;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < n; i++) {
		const struct dx_drone *dr = &s->inv.drones[idx[i]];
		struct serve_job *j = &r->jobs[i];

		j->req = r;
		j->i = i;
		if ((j->drone = serve_drone_get(s, t[i].name, true)) == NULL)
			goto oom;
		if (own || j->drone->target == NULL) {
			if ((j->own = malloc(sizeof(*j->own))) == NULL)
				goto oom;
			*j->own = t[i];
			memset(&t[i], 0, sizeof(t[i]));
			j->target = j->own;
		} else
			j->target = j->drone->target;
		if ((j->calls = calloc(dr->ncalls + rq->ncalls + 1,
		    sizeof(char *))) == NULL)
			goto oom;
		for (size_t k = 0; k < dr->ncalls; k++)
			if ((j->calls[j->ncalls++] = strdup(dr->calls[k])) == NULL)
				goto oom;
		for (size_t k = 0; k < rq->ncalls; k++)
			if ((j->calls[j->ncalls++] = strdup(rq->calls[k])) == NULL)
				goto oom;
		j->qjob.name = j->drone->name;
		j->qjob.priority = r->priority;
		j->qjob.drone = j;
		j->qjob.calls = (const char *const *)j->calls;
		j->qjob.ncalls = j->ncalls;
	}
	pthread_mutex_unlock(&s->mu);
	rc = 0;
	goto out;
oom:
	pthread_mutex_unlock(&s->mu);
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	cli_targets_free(t, n);
	free(idx);
	return rc;
}

/*
 * Takes request id from sub ("requested" or, at start, "pending"): read
 * safely, parsed, resolved, moved to pending/.  A request that cannot be
 * taken is refused: its result says why.
 */
static void
serve_intake(struct serve *s, const char *sub, const char *id)
{
	struct dx_err err = { 0 };
	struct serve_req *r;
	char where[DX_SPOOL_ID_SIZE + 16], *buf = NULL;
	const struct dx_request_opts *ro;
	size_t len;

	if (serve_find(s, id) != NULL)
		return;
	if (dx_spool_exists(s->spool, "complete", id)) {
		/* Refused or completed before a stop cut the clean-up. */
		(void)dx_spool_remove(s->spool, sub, id, NULL);
		return;
	}
	if (strlen(id) >= DX_SPOOL_ID_SIZE) {
		serve_refuse(s, sub, id, "the request's name is too long");
		return;
	}
	if (dx_spool_read(s->spool, sub, id, DX_SPOOL_REQUEST_MAX, &buf, &len,
	    &err) == -1) {
		if (errno != ENOENT)
			serve_refuse(s, sub, id, err.msg);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		free(buf);
		serve_log("request %s: out of memory", id);
		return;
	}
	pthread_mutex_init(&r->fmu, NULL);
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(where, sizeof(where), "request %s", id);
	dx_request_init(&r->r);
	if (dx_request_parse(&r->r, buf, len, where, &err) == -1) {
		free(buf);
		serve_refuse(s, sub, id, err.msg);
		serve_req_free(r);
		return;
	}
	free(buf);
	r->priority = r->r.priority;
	r->seq = ++s->seq;
	r->received_mono = dx_now_ms();
	ro = &r->r.opts;
	r->timeout_ms = ro->timeout_given ? ro->timeout_ms : s->o->timeout_ms;
	r->deadline_ms = ro->deadline_given ? ro->deadline_ms : s->o->deadline_ms;
	r->retries = ro->retries_given ? ro->retries : s->o->retries;
	r->retry_delay_ms = ro->retry_delay_given ? ro->retry_delay_ms :
	    s->o->retry_delay_ms;
	r->max_failures = ro->max_failures_given ? ro->max_failures :
	    s->o->max_failures;
	r->fail_fast = ro->fail_fast_given ? ro->fail_fast : s->o->fail_fast;
	r->max_output = ro->max_output_given ? ro->max_output : s->o->max_output;
	snprintf(r->hkc, sizeof(r->hkc), "%s", dx_hostkey_policy_name(
	    ro->host_key_check_given ? ro->host_key_check : s->o->hostkey));
	if (serve_build(s, r, &err) == -1) {
		char why[400];

		snprintf(why, sizeof(why), "%s: %s", where, err.msg);
		serve_refuse(s, sub, id, why);
		serve_req_free(r);
		return;
	}
	if (strcmp(sub, "pending") != 0) {
		if (serve_accept_move(s, sub, id, &err) == -1) {
			serve_log("request %s: %s", id, err.msg);
			serve_req_free(r);
			return;
		}
		serve_crash(s, "request-accepted");
	}
	pthread_mutex_lock(&s->mu);
	s->received++;
	pthread_mutex_unlock(&s->mu);
	serve_log("request %s accepted: %zu drones, %zu calls, priority %d", id,
	    r->njobs, r->r.ncalls, r->priority);
	serve_live_add(s, r);
	s->dirty = true;
	/* Aborted before serve read it: it never starts. */
	if (dx_spool_exists(s->spool, "aborting", id)) {
		serve_abort(s, r);
		serve_log("request %s aborted", id);
		serve_crash(s, "abort-applied");
	}
}

static void
serve_bad(void *arg, const char *sub, const char *name, const char *why)
{
	struct serve *s = arg;

	/* A name that could be a request gets a result saying why. */
	if (strcmp(sub, "requested") == 0 && dx_spool_name_ok(name) &&
	    strlen(name) < DX_SPOOL_ID_SIZE) {
		char msg[300];

		snprintf(msg, sizeof(msg), "request %s: %s", name, why);
		serve_refuse(s, sub, name, msg);
		return;
	}
	serve_log("refusing %s/%s: %s", sub, name, why);
}

void
serve_scan_requests(struct serve *s, const char *sub)
{
	struct dx_err err = { 0 };
	char **names = NULL;
	size_t n = 0;

	if (dx_spool_list(s->spool, sub, &names, &n, serve_bad, s, &err) == -1) {
		serve_log("%s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++)
		serve_intake(s, sub, names[i]);
	dx_spool_names_free(names, n);
	serve_admit_waiting(s);
}

void
serve_scan_aborts(struct serve *s)
{
	struct dx_err err = { 0 };
	char **names = NULL;
	size_t n = 0;

	if (dx_spool_list(s->spool, "aborting", &names, &n, NULL, NULL, &err) == -1) {
		serve_log("%s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct serve_req *r = serve_find(s, names[i]);

		if (r == NULL) {
			/* Still to be read, or finished: nothing (left) to abort. */
			if (!dx_spool_exists(s->spool, "requested", names[i]))
				(void)dx_spool_remove(s->spool, "aborting", names[i], NULL);
			continue;
		}
		if (r->aborted)
			continue;
		serve_abort(s, r);
		serve_log("request %s aborted", r->id);
		serve_crash(s, "abort-applied");
		s->dirty = true;
	}
	dx_spool_names_free(names, n);
}

static int
serve_cmp_req(const void *a, const void *b)
{
	const struct serve_req *x = *(struct serve_req *const *)a;
	const struct serve_req *y = *(struct serve_req *const *)b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Admits every request that waits (after a resume, or at start): highest
 * priority first, then arrival, so that the first to take a free drone
 * is the one that should.
 */
void
serve_admit_waiting(struct serve *s)
{
	struct serve_req **v;
	size_t n = 0, k = 0;

	if (s->paused || s->draining)
		return;
	pthread_mutex_lock(&s->mu);
	for (struct serve_req *r = s->live; r != NULL; r = r->next)
		n += !r->admitted && !r->aborted;
	if (n == 0 || (v = calloc(n, sizeof(*v))) == NULL) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	for (struct serve_req *r = s->live; r != NULL; r = r->next)
		if (!r->admitted && !r->aborted)
			v[k++] = r;
	pthread_mutex_unlock(&s->mu);
	qsort(v, n, sizeof(*v), serve_cmp_req);
	for (k = 0; k < n; k++)
		serve_admit(s, v[k]);
	free(v);
}

/* Applies one control document; 0, or -1 with err saying why not. */
static int
serve_control_apply(struct serve *s, json_t *c, struct dx_err *err)
{
	const char *op = json_string_value(json_object_get(c, "op"));
	json_t *v;

	if (json_integer_value(json_object_get(c, "dronex_control")) != 1 ||
	    op == NULL)
		return dx_err_set(err, DX_USAGE, "not a dronex control document "
		    "(want {\"dronex_control\": 1, \"op\": ...})");
	if (strcmp(op, "pause") == 0) {
		s->paused = true;
		return 0;
	}
	if (strcmp(op, "resume") == 0) {
		s->paused = false;
		serve_admit_waiting(s);
		return 0;
	}
	if (strcmp(op, "resize") == 0) {
		v = json_object_get(c, "fanout");
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 100000)
			return dx_err_set(err, DX_USAGE, "field 'fanout': expected a "
			    "whole number from 1 to 100000");
		if (dx_queue_resize(s->q, (size_t)json_integer_value(v), err) == -1)
			return -1;
		s->fanout = (size_t)json_integer_value(v);
		return 0;
	}
	if (strcmp(op, "priority") == 0) {
		const char *id = json_string_value(json_object_get(c, "id"));
		struct serve_req *r;

		v = json_object_get(c, "priority");
		if (id == NULL)
			return dx_err_set(err, DX_USAGE, "field 'id': expected a string");
		if (!json_is_integer(v) || json_integer_value(v) < INT_MIN ||
		    json_integer_value(v) > INT_MAX)
			return dx_err_set(err, DX_USAGE, "field 'priority': expected "
			    "an integer");
		if ((r = serve_find(s, id)) == NULL) {
			if (dx_spool_exists(s->spool, "complete", id))
				return dx_err_set(err, DX_USAGE, "request %s is finished: "
				    "only a pending request's priority can change", id);
			return dx_err_set(err, DX_USAGE, "request %s is unknown", id);
		}
		return serve_set_priority(s, r, (int)json_integer_value(v), err);
	}
	return dx_err_set(err, DX_USAGE, "unknown op '%s' (pause, resume, resize, "
	    "priority)", op);
}

void
serve_scan_control(struct serve *s)
{
	struct dx_err err = { 0 };
	char **names = NULL, reply[DX_SPOOL_NAME_MAX + 8], *buf, *text;
	size_t n = 0, len, nl;

	if (dx_spool_list(s->spool, "control", &names, &n, NULL, NULL, &err) == -1) {
		serve_log("%s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *c = NULL, *rep;

		nl = strlen(names[i]);
		if (nl <= 5 || strcmp(names[i] + nl - 5, ".json") != 0 ||
		    nl - 5 + sizeof(".reply") > sizeof(reply))
			continue;
		snprintf(reply, sizeof(reply), "%.*s.reply", (int)(nl - 5), names[i]);
		dx_err_clear(&err);
		if (dx_spool_read(s->spool, "control", names[i], DX_SPOOL_SMALL_MAX,
		    &buf, &len, &err) == 0) {
			if ((c = json_loadb(buf, len, 0, NULL)) == NULL)
				dx_err_set(&err, DX_USAGE, "control %s is not JSON", names[i]);
			free(buf);
		} else if (errno == ENOENT)
			continue;
		if (c != NULL && serve_control_apply(s, c, &err) == 0) {
			rep = json_pack("{s:b}", "ok", 1);
			serve_log("control %s: %s applied",  names[i],
			    json_string_value(json_object_get(c, "op")));
		} else {
			rep = json_pack("{s:b, s:s}", "ok", 0, "error", err.msg);
			serve_log("control %s refused: %s", names[i], err.msg);
		}
		json_decref(c);
		if (rep != NULL && (text = json_dumps(rep, JSON_COMPACT)) != NULL) {
			if (dx_spool_write(s->spool, "control", reply, text,
			    strlen(text), true, &err) == -1)
				serve_log("%s", err.msg);
			free(text);
		}
		json_decref(rep);
		serve_crash(s, "control-applied");
		(void)dx_spool_remove(s->spool, "control", names[i], NULL);
		s->dirty = true;
	}
	dx_spool_names_free(names, n);
}

/* Writes the results of the requests whose drones all finished. */
void
serve_complete(struct serve *s)
{
	struct serve_req *list, *r;

	pthread_mutex_lock(&s->mu);
	list = s->completed;
	s->completed = NULL;
	pthread_mutex_unlock(&s->mu);
	while ((r = list) != NULL) {
		const char **names = calloc(r->njobs + 1, sizeof(*names));
		char jname[DX_SPOOL_ID_SIZE + 16], *doc = NULL;
		int64_t now = dx_now_ms();

		list = r->cnext;
		for (size_t i = 0; names != NULL && i < r->njobs; i++)
			names[i] = r->jobs[i].drone->name;
		if (names != NULL)
			doc = serve_doc(r->id, r->admitted_wall, r->started_mono ?
			    now - r->started_mono : 0, r->hkc, r->r.shard, names,
			    r->results, r->njobs, false, NULL);
		free(names);
		if (doc == NULL || serve_write_result(s, r->id, doc) == -1) {
			/* Left in place: the next start recovers it. */
			serve_log("request %s: its result could not be written", r->id);
			free(doc);
			serve_live_remove(s, r);
			serve_req_free(r);
			continue;
		}
		free(doc);
		snprintf(jname, sizeof(jname), "%s.journal", r->id);
		if (r->files) {
			serve_unlink(s, "running", r->id);
			serve_unlink(s, "running", jname);
		} else
			serve_unlink(s, "pending", r->id);
		if (r->aborted)
			serve_unlink(s, "aborting", r->id);
		pthread_mutex_lock(&s->mu);
		s->ncompleted++;
		if (r->aborted)
			s->naborted++;
		if (r->started_mono)
			serve_stat_add(&s->run_ms, (double)(now - r->started_mono));
		pthread_mutex_unlock(&s->mu);
		serve_log("request %s completed: %zu drones, %zu failed%s", r->id,
		    r->njobs, r->nfailed, r->aborted ? " (aborted)" : "");
		serve_live_remove(s, r);
		serve_req_free(r);
		s->dirty = true;
	}
}

