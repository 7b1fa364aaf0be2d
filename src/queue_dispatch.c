/*
 * queue_dispatch.c - the queue's dispatcher and its workers: the one loop
 * that starts, skips and hands out jobs, the worker thread that runs one
 * job's executor (with its retries), and the fan-out slots they share,
 * each with its own abort descriptor.  queue.c's opening comment is the
 * theory of operation; queue.h has the state and its locks.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "fmt.h"
#include "queue.h"

/*
 * The abort descriptor of a slot: an eventfd on Linux (one descriptor),
 * a pipe elsewhere (two).  Once written it stays readable for every
 * poller until the dispatcher drains it, which it does only when the slot
 * is idle again.
 */
static int
dispatch_sig_open(struct queue_slot *s)
{
#ifdef __linux__
	if ((s->sig[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return -1;
	s->sig[1] = s->sig[0];
	return 0;
#else
	if (pipe2(s->sig, O_CLOEXEC | O_NONBLOCK) == -1) {
		s->sig[0] = s->sig[1] = -1;
		return -1;
	}
	return 0;
#endif
}

static void
dispatch_sig_drain(struct queue_slot *s)
{
	uint64_t v;

	while (read(s->sig[0], &v, sizeof(v)) > 0)
		;
}

void
queue_slot_signal(struct queue_slot *s)
{
	uint64_t one = 1;	/* an eventfd takes 8 bytes; a pipe too */
	ssize_t n;

	if (s->signalled)
		return;
	s->signalled = true;
	do
		n = write(s->sig[1], &one, sizeof(one));
	while (n == -1 && errno == EINTR);
}

void
queue_slot_free(struct queue_slot *s)
{
	if (s == NULL)
		return;
	if (s->sig[0] != -1)
		close(s->sig[0]);
	if (s->sig[1] != -1 && s->sig[1] != s->sig[0])
		close(s->sig[1]);
	free(s);
}

/* Takes slot i out of q->slots and frees it.  mu. */
static void
dispatch_slot_drop(struct dx_queue *q, size_t i)
{
	queue_slot_free(q->slots[i]);
	q->slots[i] = q->slots[--q->nslots];
}

void
queue_slots_trim(struct dx_queue *q)
{
	struct queue_slot *s;
	size_t i;

	while (q->nslots > q->fanout && (s = q->idle) != NULL) {
		q->idle = s->next;
		for (i = 0; i < q->nslots; i++)
			if (q->slots[i] == s)
				break;
		dispatch_slot_drop(q, i);
	}
}

/* A new slot, in q->slots but on no list; NULL with errno set.  mu. */
static struct queue_slot *
dispatch_slot_new(struct dx_queue *q)
{
	struct queue_slot *s, **slots;
	size_t cap;

	if (q->nslots == q->slotcap) {
		cap = q->slotcap ? q->slotcap * 2 : 8;
		if ((slots = realloc(q->slots, cap * sizeof(*slots))) == NULL)
			return NULL;
		q->slots = slots;
		q->slotcap = cap;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->q = q;
	if (dispatch_sig_open(s) == -1) {
		free(s);
		return NULL;
	}
	q->slots[q->nslots++] = s;
	return s;
}

/* An idle slot, or a new one; NULL with errno set.  mu. */
static struct queue_slot *
dispatch_slot_get(struct dx_queue *q)
{
	struct queue_slot *s;

	if ((s = q->idle) != NULL) {
		q->idle = s->next;
		return s;
	}
	return dispatch_slot_new(q);
}

/*
 * Makes up to n idle slots ahead of the first start, so that the start
 * loop creates threads and nothing else.  mu (before the dispatcher runs).
 */
void
queue_slots_prepare(struct dx_queue *q, size_t n)
{
	struct queue_slot *s;

	while (q->nslots < n && (s = dispatch_slot_new(q)) != NULL) {
		s->next = q->idle;
		q->idle = s;
	}
}

/* A slot whose job was handed out goes idle, or away above the fan-out. */
static void
dispatch_slot_put(struct dx_queue *q, struct queue_slot *s)
{
	s->busy = false;
	s->e = NULL;
	if (s->signalled) {
		dispatch_sig_drain(s);
		s->signalled = false;
	}
	s->next = q->idle;
	q->idle = s;
	queue_slots_trim(q);
}

/*
 * Waits ms milliseconds, or less if the job or the run is aborted
 * meanwhile (the slot's descriptor turns readable).  Returns 0 after a
 * full wait, -1 if aborted.
 */
static int
dispatch_retry_wait(struct queue_slot *s, int64_t ms)
{
	struct pollfd pfd;
	int64_t end, left;

	end = dx_now_ms() + ms;
	for (;;) {
		if (dx_ctl_aborted(&s->ctl) != DX_OK)
			return -1;
		left = end - dx_now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = s->sig[0];
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) > 0)
			return -1;
		/* Time is up or EINTR: the loop re-checks both. */
	}
}

static void *
dispatch_worker(void *arg)
{
	struct queue_slot *s = arg;
	struct dx_queue *q = s->q;
	const struct dx_job *job = &s->e->job;
	struct dx_result *res = &s->res;
	int64_t t0;
	int attempts = 0;

	t0 = dx_now_ms();
	for (;;) {
		attempts++;
		q->exec(q->exec_arg, job, &s->ctl, res);
		if (res->error.kind == DX_OK ||
		    !dx_kind_unreached(res->error.kind) ||
		    res->calls_sent > 0 ||
		    attempts > q->opts.retries ||
		    dx_ctl_aborted(&s->ctl) != DX_OK)
			break;
		/* Keep the failure if an abort ends the wait: it is the truth. */
		if (dispatch_retry_wait(s, q->opts.retry_delay_ms) == -1)
			break;
		dx_result_release(res);
	}
	res->attempts = attempts;
	res->elapsed_ms = dx_now_ms() - t0;

	pthread_mutex_lock(&q->mu);
	s->next = NULL;
	if (q->done_tail != NULL)
		q->done_tail->next = s;
	else
		q->done_head = s;
	q->done_tail = s;
	pthread_mutex_unlock(&q->mu);
	/* The dispatcher joins us before the queue can go away. */
	pthread_cond_signal(&q->cv);
	return NULL;
}

/*
 * Hands a finished job to done() and keeps its outcome.  Called and
 * returns with mu held; drops it around done(), which never runs under
 * the lock.  Dispatcher.
 */
static void
dispatch_finish(struct dx_queue *q, struct queue_entry *e,
    enum dx_status status, struct dx_result *res)
{
	size_t waiters;

	res->status = status;
	e->outcome.status = status;
	e->outcome.error = res->error;
	e->state = QE_DONE;
	e->slot = NULL;
	if (status == DX_ST_FAILED)
		q->failures++;
	pthread_mutex_unlock(&q->mu);
	if (q->done != NULL)
		q->done(q->done_arg, e->id, &e->job, res);
	dx_result_release(res);
	pthread_mutex_lock(&q->mu);
	q->nfinished++;
	if ((waiters = q->nwaiters) > 0) {
		pthread_mutex_unlock(&q->mu);
		pthread_cond_broadcast(&q->idle_cv);
		pthread_mutex_lock(&q->mu);
	}
}

/* A job that never started.  mu held, as dispatch_finish(). */
static void
dispatch_skip(struct dx_queue *q, struct queue_entry *e, enum dx_kind why,
    bool own_abort)
{
	struct dx_result res;
	int64_t ms;

	memset(&res, 0, sizeof(res));
	if (why == DX_INTERRUPTED)
		dx_err_set(&res.error, why, "not started: interrupted");
	else if (own_abort)
		dx_err_set(&res.error, why, "not started: aborted (%s)",
		    dx_kind_name(why));
	else if (why == DX_DEADLINE) {
		char secs[32];

		ms = q->opts.deadline_ms;
		dx_err_set(&res.error, why, "not started: deadline of %s reached",
		    dx_fmt_secs(secs, sizeof(secs), ms));
	} else if (why == DX_MAX_FAILURES)
		dx_err_set(&res.error, why,
		    "not started: %zu drone%s failed (--max-failures %zu)",
		    q->failures, q->failures == 1 ? "" : "s",
		    q->opts.max_failures);
	else
		dx_err_set(&res.error, why, "not started: %s",
		    dx_kind_name(why));
	dispatch_finish(q, e, DX_ST_SKIPPED, &res);
}

/* Why no job may start now, or DX_OK.  mu. */
static enum dx_kind
dispatch_stop_reason(struct dx_queue *q)
{
	enum dx_kind why;

	if (q->deadline > 0 && atomic_load(&q->abort_why) == DX_OK &&
	    dx_now_ms() >= q->deadline)
		queue_abort_locked(q, DX_DEADLINE);
	if ((why = (enum dx_kind)atomic_load(&q->abort_why)) != DX_OK)
		return why;
	if (q->opts.max_failures > 0 && q->failures >= q->opts.max_failures)
		return DX_MAX_FAILURES;
	return DX_OK;
}

/*
 * Starts the first waiting job in a slot.  The job is marked running
 * under the lock, before its thread is created with the lock dropped (a
 * create takes long, and workers ending meanwhile must not wait for it):
 * a priority change in between is refused, as for any started job, and an
 * abort in between reaches the new thread through its descriptor, or
 * skips the job if its thread cannot start.  Called and returns with mu.
 */
static void
dispatch_start(struct dx_queue *q)
{
	struct queue_entry *e = queue_heap_pop(q);
	struct queue_slot *s;
	struct dx_result res;
	enum dx_kind why;
	sigset_t old;
	int rc;

	if ((s = dispatch_slot_get(q)) == NULL) {
		/* Out of descriptors while others run: wait for their slot. */
		rc = errno;
		memset(&res, 0, sizeof(res));
		if ((rc == EMFILE || rc == ENFILE) && q->running > 0)
			goto later;
		dx_err_set(&res.error, DX_INTERNAL,
		    "cannot create an abort descriptor: %s", strerror(rc));
		dispatch_finish(q, e, DX_ST_FAILED, &res);
		return;
	}
	s->e = e;
	s->busy = true;
	atomic_store(&s->why, DX_OK);
	memset(&s->res, 0, sizeof(s->res));
	s->ctl.deadline = q->deadline;
	s->ctl.abort_fd = s->sig[0];
	s->ctl.fail_fast = q->opts.fail_fast;
	s->ctl.queue = q;
	s->ctl.slot = s;
	e->state = QE_RUNNING;
	e->slot = s;
	pthread_mutex_unlock(&q->mu);
	/* Workers inherit a mask that keeps the caller's signals away. */
	pthread_sigmask(SIG_BLOCK, &q->blocked_sigs, &old);
	rc = pthread_create(&s->tid, &q->attr, dispatch_worker, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&q->mu);
	if (rc == 0) {
		q->running++;
		if (q->running > q->peak)
			q->peak = q->running;
		return;
	}
	why = (enum dx_kind)atomic_load(&s->why);
	e->state = QE_WAITING;
	e->slot = NULL;
	dispatch_slot_put(q, s);
	if (why != DX_OK) {
		dispatch_skip(q, e, why, true);	/* aborted while starting */
		return;
	}
	if (rc == EAGAIN && q->running > 0)
		goto later;
	memset(&res, 0, sizeof(res));
	dx_err_set(&res.error, DX_INTERNAL, "cannot start thread: %s",
	    strerror(rc));
	dispatch_finish(q, e, DX_ST_FAILED, &res);
	return;
later:
	/* Back in its place: the heap has room, the job just left it. */
	(void)queue_heap_push(q, e);
	q->blocked = true;
}

/* Sleeps on cv until something changes or the deadline passes.  mu. */
static void
dispatch_sleep(struct dx_queue *q)
{
	struct timespec ts;

	if (q->deadline == 0 || atomic_load(&q->abort_why) != DX_OK) {
		pthread_cond_wait(&q->cv, &q->mu);
		return;
	}
	ts.tv_sec = q->deadline / 1000;
	ts.tv_nsec = (long)(q->deadline % 1000) * 1000000L;
	(void)pthread_cond_timedwait(&q->cv, &q->mu, &ts);
}

/*
 * The dispatcher: one action per turn, in this order: skip an aborted
 * waiting job, skip the waiting jobs once nothing may start, start one
 * (so slots fill first, as they always did), hand out a finished worker;
 * else sleep.  It ends when every job added has a
 * result and either it runs inside dx_queue_run() or dx_queue_stop() asked.
 */
void
queue_dispatch(struct dx_queue *q)
{
	struct queue_slot *s;
	struct queue_entry *e;
	enum dx_kind why;
	size_t waiters;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		if ((e = q->skip_head) != NULL) {
			if ((q->skip_head = e->next) == NULL)
				q->skip_tail = NULL;
			dispatch_skip(q, e, e->skip, true);
			continue;
		}
		why = dispatch_stop_reason(q);
		if (why != DX_OK && q->nheap > 0) {
			dispatch_skip(q, queue_heap_pop(q), why, false);
			continue;
		}
		if (why == DX_OK && !q->paused && !q->blocked &&
		    q->nheap > 0 && q->running < q->fanout) {
			dispatch_start(q);
			continue;
		}
		if ((s = q->done_head) != NULL) {
			if ((q->done_head = s->next) == NULL)
				q->done_tail = NULL;
			pthread_mutex_unlock(&q->mu);
			pthread_join(s->tid, NULL);
			pthread_mutex_lock(&q->mu);
			q->running--;
			q->blocked = false;
			e = s->e;
			dispatch_finish(q, e, s->res.error.kind == DX_OK ?
			    DX_ST_OK : DX_ST_FAILED, &s->res);
			dispatch_slot_put(q, s);
			continue;
		}
		if ((q->stopping || !q->threaded) && q->nfinished == q->njobs)
			break;
		dispatch_sleep(q);
	}
	q->ended = true;
	q->closed = true;
	waiters = q->nwaiters;
	pthread_mutex_unlock(&q->mu);
	if (waiters > 0)
		pthread_cond_broadcast(&q->idle_cv);
}

void *
queue_dispatch_main(void *arg)
{
	queue_dispatch(arg);
	return NULL;
}
