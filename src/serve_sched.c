/*
 * serve_sched.c - scheduling requests onto drones for "dronex serve".
 *
 * Theory of operation.  serve runs ONE long-lived dx_queue whose fan-out
 * is the capacity shared by every request.  A job is a (request, drone)
 * pair; its queue priority is the request's priority, and the queue keeps
 * FIFO order within a priority (its add order).  A drone runs one
 * request's calls at a time on its one session, so a job goes to the
 * queue only when its drone is free ("busy" clear): otherwise it waits on
 * the drone's deferred list (highest priority first, then arrival), and
 * no worker is parked on it.  When a job finishes, its done callback
 * (serve_done(), on the queue's dispatcher) hands the drone to the next
 * deferred job.
 *
 * The executor (serve_exec()) is dx_ssh_exec()'s model with the request's
 * own call options (timeout, max_output, stdin, fail_fast, deadline,
 * retries), the drone's connection taken from the warm pool (pool.h) and
 * given back after the calls, and the crash journal: the first drone of
 * a request to start moves it to running/ and opens its journal; each
 * call is journaled durably ({"start"}) before it is sent, and each
 * finished drone ({"done"}, with its object) before its result counts.
 *
 * Skips: a job whose request was aborted, hit its max_failures, or passed
 * its deadline before the job began is "skipped" at the executor's entry
 * (job->skip), or, while still deferred, given a skipped object at once.
 * A drone the pool reports throttled is skipped with kind "throttled".
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "conn.h"
#include "result.h"
#include "serve.h"

static size_t
sched_hash(const char *name)
{
	size_t h = 5381;

	for (; *name != '\0'; name++)
		h = h * 33 + (unsigned char)*name;
	return h % SERVE_HASH;
}

/* Under mu. */
struct serve_drone *
serve_drone_get(struct serve *s, const char *name, bool create)
{
	size_t h = sched_hash(name);
	struct serve_drone *d;

	for (d = s->hash[h]; d != NULL; d = d->hnext)
		if (strcmp(d->name, name) == 0)
			return d;
	if (!create || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->name = strdup(name)) == NULL) {
		free(d);
		return NULL;
	}
	d->hnext = s->hash[h];
	s->hash[h] = d;
	return d;
}

void
serve_req_free(struct serve_req *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->njobs; i++) {
		struct serve_job *j = &r->jobs[i];

		for (size_t k = 0; k < j->ncalls; k++)
			free(j->calls[k]);
		free(j->calls);
		if (j->own != NULL) {
			dx_target_release(j->own);
			free(j->own);
		}
		if (r->results != NULL)
			json_decref(r->results[i]);
	}
	free(r->jobs);
	free(r->results);
	if (r->journal != NULL)
		dx_spool_journal_close(r->journal);
	pthread_mutex_destroy(&r->fmu);
	dx_request_release(&r->r);
	free(r);
}

/* Inserts j into its drone's deferred list: priority, then arrival (mu). */
static void
sched_defer(struct serve_job *j)
{
	struct serve_job **pp = &j->drone->deferred;

	while (*pp != NULL && ((*pp)->req->priority > j->req->priority ||
	    ((*pp)->req->priority == j->req->priority &&
	    (*pp)->req->seq <= j->req->seq)))
		pp = &(*pp)->dnext;
	j->dnext = *pp;
	*pp = j;
	j->state = SJ_DEFERRED;
}

static void
sched_undefer(struct serve_job *j)
{
	struct serve_job **pp = &j->drone->deferred;

	while (*pp != NULL && *pp != j)
		pp = &(*pp)->dnext;
	if (*pp == j)
		*pp = j->dnext;
	j->dnext = NULL;
}

/* One drone finished (mu): counts it; a request with every drone done
 * goes to the main thread's completed list. */
static void
sched_finished(struct serve *s, struct serve_job *j, json_t *obj)
{
	struct serve_req *r = j->req;
	const char *st = json_string_value(json_object_get(obj, "status"));

	j->state = SJ_DONE;
	r->results[j->i] = obj;
	r->ndone++;
	if (st != NULL && strcmp(st, "failed") == 0)
		r->nfailed++;
	if (r->ndone == r->njobs) {
		r->state = SR_DONE;
		r->cnext = s->completed;
		s->completed = r;
	}
}

/* Gives a deferred job a skipped object at once (mu). */
static void
sched_skip_deferred(struct serve *s, struct serve_job *j, enum dx_kind kind,
    const char *msg)
{
	json_t *obj;

	sched_undefer(j);
	if ((obj = serve_obj_skipped(j->target, kind, msg)) == NULL)
		obj = json_pack("{s:s}", "status", "skipped");
	sched_finished(s, j, obj);
}

/* Submits j to the queue; its drone is now busy (mu). */
static void
sched_submit(struct serve *s, struct serve_job *j)
{
	struct dx_err err = { 0 };

	j->drone->busy = true;
	j->qjob.priority = j->req->priority;
	if (dx_queue_submit(s->q, &j->qjob, &j->qid, &err) == -1) {
		json_t *obj;

		serve_log("request %s: drone %s: %s", j->req->id, j->drone->name,
		    err.msg);
		j->drone->busy = false;
		if ((obj = serve_obj_skipped(j->target, DX_INTERNAL, err.msg)) == NULL)
			obj = json_pack("{s:s}", "status", "skipped");
		sched_finished(s, j, obj);
		return;
	}
	j->state = SJ_QUEUED;
	s->nqueued++;
}

/*
 * The queue keeps a small record of every job it was given for its whole
 * life (a job's id is its position), so one queue for a service that runs
 * for months would grow with every request it ever ran.  So once no job
 * is in the queue (every done() has passed its locked part, so no id of
 * this queue is held anywhere) and it has run SERVE_RECYCLE_JOBS jobs, a
 * fresh queue with the current fan-out takes its place, and the old one
 * is stopped (joining its dispatcher, which may still be on its way out
 * of the last done()) and freed.  Jobs submitted meanwhile go to the new
 * queue: s->q is only read under mu.
 */
int
serve_recycle(struct serve *s, struct dx_err *err)
{
	struct dx_queue *old, *q;
	struct dx_queue_opts qo = s->qopts;

	pthread_mutex_lock(&s->mu);
	if (s->nqueued > 0 || dx_queue_size(s->q) < SERVE_RECYCLE_JOBS) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	qo.fanout = s->fanout;
	if ((q = dx_queue_new(&qo, serve_exec, s, err)) == NULL ||
	    dx_queue_start(q, serve_done, s, err) == -1) {
		pthread_mutex_unlock(&s->mu);
		dx_queue_free(q);
		return -1;
	}
	old = s->q;
	s->q = q;
	pthread_mutex_unlock(&s->mu);
	dx_queue_stop(old, NULL);
	dx_queue_free(old);
	return 0;
}

static void
sched_wake(struct serve *s)
{
	uint64_t one = 1;

	(void)!write(s->wake_fd, &one, sizeof(one));
}

void
serve_admit(struct serve *s, struct serve_req *r)
{
	r->admitted = true;
	r->started_mono = 0;
	r->admitted_wall = serve_wall_ms();
	if (r->deadline_ms > 0)
		r->deadline = dx_now_ms() + r->deadline_ms;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < r->njobs; i++) {
		struct serve_job *j = &r->jobs[i];

		if (j->drone->busy)
			sched_defer(j);
		else
			sched_submit(s, j);
	}
	if (r->njobs == 0 && r->state != SR_DONE) {
		r->state = SR_DONE;
		r->cnext = s->completed;
		s->completed = r;
	}
	pthread_mutex_unlock(&s->mu);
	sched_wake(s);
}

void
serve_abort(struct serve *s, struct serve_req *r)
{
	pthread_mutex_lock(&s->mu);
	if (r->aborted || r->state == SR_DONE) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	r->aborted = true;
	for (size_t i = 0; i < r->njobs; i++) {
		struct serve_job *j = &r->jobs[i];

		j->skip = DX_INTERRUPTED;
		if (j->state == SJ_DEFERRED || j->state == SJ_NEW)
			sched_skip_deferred(s, j, DX_INTERRUPTED,
			    "not started: aborted");
		else if (j->state == SJ_QUEUED)
			(void)dx_queue_abort_job(s->q, j->qid, DX_INTERRUPTED, NULL);
	}
	pthread_mutex_unlock(&s->mu);
	sched_wake(s);
}

int
serve_set_priority(struct serve *s, struct serve_req *r, int prio,
    struct dx_err *err)
{
	int rc = -1;

	pthread_mutex_lock(&s->mu);
	if (r->state != SR_PENDING || r->aborted) {
		dx_err_set(err, DX_USAGE, "request %s is %s: only a pending "
		    "request's priority can change", r->id, r->aborted ? "aborted" :
		    r->state == SR_RUNNING ? "running" : "finished");
		goto out;
	}
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i].started) {
			dx_err_set(err, DX_USAGE, "request %s is running: only a "
			    "pending request's priority can change", r->id);
			goto out;
		}
	r->priority = prio;
	for (size_t i = 0; i < r->njobs; i++) {
		struct serve_job *j = &r->jobs[i];

		j->qjob.priority = prio;
		if (j->state == SJ_DEFERRED) {
			sched_undefer(j);
			sched_defer(j);
		} else if (j->state == SJ_QUEUED &&
		    dx_queue_set_priority(s->q, j->qid, prio, NULL) == -1) {
			dx_err_set(err, DX_USAGE, "request %s is running: only a "
			    "pending request's priority can change", r->id);
			goto out;
		}
	}
	rc = 0;
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/*
 * The drone's connection: from the pool (warm, or opened now), else a
 * cold one made for this job.  NULL + err.
 */
static struct dx_conn *
sched_take(struct serve *s, const struct dx_target *t, const struct dx_ctl *ctl,
    struct dx_err *err)
{
	struct dx_conn *c;

	if (s->pool != NULL)
		return dx_pool_take(s->pool, t, ctl, err);
	if ((c = dx_conn_new(t, s->shared, err)) == NULL)
		return NULL;
	if (dx_conn_attach(c, err) == -1) {
		dx_conn_free(c);
		return NULL;
	}
	if (dx_conn_open(c, ctl, err) == -1) {
		dx_conn_detach(c, NULL);
		dx_conn_free(c);
		return NULL;
	}
	return c;
}

static void
sched_give(struct serve *s, struct dx_conn *c)
{
	if (c == NULL)
		return;
	if (s->pool != NULL) {
		dx_pool_give(s->pool, c);
		return;
	}
	dx_conn_close(c, NULL);
	dx_conn_detach(c, NULL);
	dx_conn_free(c);
}

static bool
sched_retryable(enum dx_kind k)
{
	return k == DX_RESOLVE || k == DX_CONNECT_REFUSED ||
	    k == DX_CONNECT_TIMEOUT || k == DX_NETWORK || k == DX_HANDSHAKE ||
	    k == DX_CONNECTION_LOST;
}

/* Waits ms on the abort descriptor; false if aborted meanwhile. */
static bool
sched_delay(const struct dx_ctl *ctl, int64_t ms)
{
	int64_t until = dx_now_ms() + ms;

	for (;;) {
		int64_t left = until - dx_now_ms();
		struct pollfd p = { .fd = ctl->abort_fd, .events = POLLIN };

		if (left <= 0)
			return true;
		if (ctl->deadline > 0 && ctl->deadline - dx_now_ms() < left)
			return false;
		if (poll(&p, 1, (int)(left > 1000000 ? 1000000 : left)) > 0)
			return false;
	}
}

void
serve_exec(void *arg, const struct dx_job *job, const struct dx_ctl *qctl,
    struct dx_result *res)
{
	struct serve *s = arg;
	struct serve_job *j = (struct serve_job *)job->drone;
	struct serve_req *r = j->req;
	struct dx_call_opts co;
	struct dx_ctl ctl = *qctl;
	struct dx_conn *c = NULL;
	struct dx_err err = { 0 };
	enum dx_kind skip;

	pthread_mutex_lock(&s->mu);
	if ((skip = j->skip) == DX_OK && r->deadline > 0 &&
	    dx_now_ms() >= r->deadline)
		skip = j->skip = DX_DEADLINE;
	j->started = skip == DX_OK;
	if (skip == DX_OK && r->state == SR_PENDING) {
		r->state = SR_RUNNING;
		r->started_mono = dx_now_ms();
		serve_stat_add(&s->wait_ms, (double)(r->started_mono -
		    r->received_mono));
	}
	pthread_mutex_unlock(&s->mu);
	if (skip != DX_OK) {
		dx_err_set(&res->error, skip, "not started: %s",
		    skip == DX_INTERRUPTED ? "aborted" : dx_kind_name(skip));
		return;
	}
	if (serve_journal_begin(s, r, &err) == -1) {
		res->error = err;
		return;
	}
	if (r->deadline > 0 && (ctl.deadline == 0 || r->deadline < ctl.deadline))
		ctl.deadline = r->deadline;
	ctl.fail_fast = r->fail_fast;
	memset(&co, 0, sizeof(co));
	co.timeout_ms = r->timeout_ms;
	if (r->r.opts.stdin_given) {
		co.stdin_data = r->r.opts.stdin_data;
		co.stdin_len = r->r.opts.stdin_len;
	} else if (s->o->stdin_path != NULL) {
		co.stdin_data = s->stdin_data;
		co.stdin_len = s->stdin_len;
	}
	res->hostkey_checked = false;
	for (j->attempts = 1;; j->attempts++) {
		dx_err_clear(&err);
		if ((c = sched_take(s, j->target, &ctl, &err)) != NULL)
			break;
		if (!sched_retryable(err.kind) || j->attempts > r->retries ||
		    dx_ctl_aborted(&ctl) != DX_OK ||
		    !sched_delay(&ctl, r->retry_delay_ms))
			break;
	}
	if (c == NULL) {
		res->error = err;
		return;
	}
	dx_conn_record(c, res);
	for (size_t i = 0; i < j->ncalls; i++) {
		struct dx_call_result *call;
		int rc;

		if ((call = dx_result_add_call(res, j->calls[i], r->max_output,
		    &err)) == NULL)
			break;
		/* Durable before it is sent: a crash never runs it twice. */
		if (serve_journal_start(s, r, j->drone->name, i, j->calls[i],
		    &err) == -1) {
			res->ncalls--;
			free(call->command);
			dx_buf_release(&call->out);
			dx_buf_release(&call->err);
			break;
		}
		serve_crash(s, "call-journaled");
		rc = dx_call_run(c, &ctl, i, j->calls[i], &co, call,
		    &res->calls_sent);
		serve_crash(s, "call-sent");
		if (call->error.kind != DX_OK && res->error.kind == DX_OK)
			res->error = call->error;
		if (rc == -1 || (call->error.kind != DX_OK && ctl.fail_fast))
			break;
	}
	sched_give(s, c);
	if (err.kind != DX_OK && res->error.kind == DX_OK)
		res->error = err;
}

void
serve_done(void *arg, size_t index, const struct dx_job *job,
    struct dx_result *res)
{
	struct serve *s = arg;
	struct serve_job *j = (struct serve_job *)job->drone, *next;
	struct serve_req *r = j->req;
	const struct dx_target *t = j->target;
	struct dx_err err = { 0 };
	bool started;
	json_t *obj;

	(void)index;
	pthread_mutex_lock(&s->mu);
	started = j->started;
	pthread_mutex_unlock(&s->mu);
	/* Never reached, so never started: skipped, as exec reports them. */
	if (!started || (res->error.kind == DX_THROTTLED && res->calls_sent == 0))
		res->status = DX_ST_SKIPPED;
	if (j->attempts > 0)
		res->attempts = j->attempts;
	if (res->status == DX_ST_SKIPPED)
		res->attempts = 0;
	if ((obj = dx_result_json(t->host, t->port, t->user, res)) == NULL)
		obj = json_pack("{s:s}", "status", dx_status_name(res->status));
	if (started && serve_journal_done(s, r, j->drone->name, obj, &err) == -1)
		serve_log("request %s: %s", r->id, err.msg);
	if (started)
		serve_crash(s, "drone-done-journaled");
	if (j->own != NULL && s->pool != NULL)
		dx_pool_forget(s->pool, j->drone->name);

	pthread_mutex_lock(&s->mu);
	s->nqueued--;
	sched_finished(s, j, obj);
	if (res->status == DX_ST_FAILED && r->max_failures > 0 &&
	    r->nfailed >= r->max_failures && !r->breaker) {
		/* exec's --max-failures: start no new drone of this request. */
		r->breaker = true;
		for (size_t i = 0; i < r->njobs; i++) {
			struct serve_job *o = &r->jobs[i];

			if (o->state == SJ_DEFERRED)
				sched_skip_deferred(s, o, DX_MAX_FAILURES,
				    "not started: max_failures");
			else if (o->state == SJ_QUEUED && !o->started &&
			    o->skip == DX_OK)
				o->skip = DX_MAX_FAILURES;
		}
	}
	j->drone->busy = false;
	if ((next = j->drone->deferred) != NULL) {
		sched_undefer(next);
		sched_submit(s, next);
	}
	pthread_mutex_unlock(&s->mu);
	sched_wake(s);
}
