/*
 * queue.c - the drone queue: a long-lived fan-out that is created, started
 * and then fed.  Jobs are added before or while it runs; one job can be
 * aborted, a waiting job re-prioritised, the fan-out resized, new starts
 * paused, resumed and drained.  This file is the API and the job table;
 * queue_dispatch.c is the dispatcher, its workers and their slots;
 * queue_order.c the start order; queue.h the state, each field with its
 * lock.  No I/O of its own beyond one abort descriptor per slot.
 *
 * Theory of operation.
 *
 * Jobs.  dx_queue_add() (or dx_queue_submit(), which says the id) copies
 * a job into an entry; the id is its position in add order, the index
 * done() and dx_queue_outcome() use.  Entries live in chunks that never
 * move (chunk k holds 16 << k), so a job or outcome pointer handed out
 * stays valid while other threads add.  An entry is waiting (in the heap
 * of queue_order.c: priority, higher first, then add order), aborted
 * while waiting (on the skip list), running (in a slot), or done.  Every
 * state change happens under the one mutex, so dx_queue_set_priority()
 * and dx_queue_abort_job() see a job either waiting or running, never
 * between: the dispatcher takes a job out of the heap and marks it
 * running in one critical section, then creates its thread with the lock
 * dropped.  A priority change from then on is refused; an abort from then
 * on reaches the thread through the slot's descriptor, which the thread
 * polls from its first instant (or, if the thread cannot start, skips the
 * job).  So a change is either made while the job waits, and the executor
 * sees it, or refused because the job started; never both, never lost.
 *
 * Threads.  One dispatcher runs the loop of queue_dispatch.c: it starts
 * jobs, hands finished ones to done() and keeps their outcome.  After
 * dx_queue_start() it is a thread of the queue's own; inside
 * dx_queue_run() it is the calling thread, which is otherwise idle until
 * every job has a result: dx_queue_run() is start, wait and stop in one
 * call, and done() runs on the caller's thread as it always did, with no
 * extra thread.  Either way done() runs on one thread, one call at a time,
 * never under the lock.  Every job gets a worker thread when a fan-out
 * slot is free, so at most the fan-out (dx_queue_resize()) of workers are
 * alive at once; a worker counts as alive from pthread_create() until the
 * dispatcher has joined it.  Shrinking the fan-out kills nothing: no job
 * starts until fewer than the new limit run.  Workers get a small stack
 * (opts.stack_size, or 256 KiB; more under sanitizers, whose redzones need
 * room) and a signal mask without SIGINT, SIGTERM, SIGHUP, SIGQUIT and
 * SIGPIPE, and so does the dispatcher thread.  If pthread_create() fails
 * with EAGAIN while other workers run, the dispatcher waits for one to end
 * and tries again; if nothing runs and it still fails, that job fails with
 * DX_INTERNAL "cannot start thread: ...".
 *
 * A worker owns one slot: its own struct dx_result, dx_ctl and abort
 * descriptor.  It calls exec(exec_arg, job, ctl, res), retries connection
 * failures (below), stamps attempts and elapsed_ms, and then, under the
 * mutex, puts its slot on the done list and signals the dispatcher (after
 * unlocking).  It writes nothing else that is shared.  The dispatcher
 * joins it, decides the job's status, calls done() outside the lock,
 * releases the result and keeps only a small struct dx_outcome per job.
 * So the heavy part of a result (calls and their output) lives only from
 * exec until done() returns, and memory is bounded by the fan-out, not by
 * the fleet.  Idle slots are kept, with their descriptor, up to the
 * fan-out and reused; those above it are freed.
 *
 * A job with no calls goes to the executor like any other: "ok" means the
 * drone was reached (connected and authenticated), never assumed.
 *
 * Status: a job whose result carries no error (DX_OK) is ok, any other is
 * failed; jobs that never started are skipped.
 *
 * Retries.  In the worker: when an attempt failed with a connection kind
 * (resolve, connect_refused, connect_timeout, network, handshake,
 * connection_lost), sent no call (calls_sent == 0), the job has attempts
 * left (attempts <= retries) and neither it nor the run is aborted, the
 * worker waits retry_delay_ms on its abort descriptor (so an abort ends
 * the wait at once) and runs exec again on a released result.  A call
 * that was sent is never run again.  attempts counts every exec.
 *
 * Abort.  Each slot has an abort descriptor (an eventfd on Linux, a pipe
 * elsewhere): ctl->abort_fd of the job in it.  Written once, it is never
 * drained while the job runs, so it stays readable for every poller; the
 * dispatcher drains it when the slot is idle again.  dx_queue_abort_job()
 * records the job's reason in its slot and writes its descriptor alone,
 * under the lock (so the slot cannot pass to another job meanwhile); a
 * waiting job is taken out of the heap instead and skipped.
 * dx_queue_abort() records the run's first reason (a compare-and-swap)
 * and writes the descriptor of every busy slot; jobs not started by then
 * are skipped with the reason as their kind, and so are jobs added later.
 * Executors poll ctl->abort_fd beside their sockets and ask
 * dx_ctl_aborted() why: the job's own reason, else the run's.  Skipped
 * jobs still go through done().
 *
 * Deadline.  Measured from the start (dx_queue_start() or
 * dx_queue_run()); the dispatcher aborts with DX_DEADLINE when it passes.
 * Executors must return by the deadline (ctl->deadline) and soon after an
 * abort; the dispatcher then still waits for them, without a timeout: it
 * neither detaches nor abandons a thread that still writes into queue
 * memory.  A broken executor that never returns therefore hangs the queue
 * rather than corrupting it; that is the executor's contract, not
 * something the queue can repair without leaking.
 *
 * Circuit breaker.  Once opts.max_failures jobs have failed, no new job
 * starts; the waiting ones are skipped with DX_MAX_FAILURES, and so are
 * jobs added later.  Running jobs finish.
 *
 * Pause, drain, wait, stop.  A paused queue starts nothing (it still
 * skips, hands out and aborts); resume starts again.  Drain pauses and
 * waits until no job is between waiting and done.  Wait returns once
 * every job added has a result (done() returned).  Stop refuses new jobs,
 * aborts with DX_INTERRUPTED if some job has no result yet (and not
 * otherwise: a finished queue keeps dx_ctl_aborted() == DX_OK), and joins
 * the dispatcher; dx_queue_free() stops a queue still running.  Waiters
 * sleep on their own condition variable, the dispatcher on its own.
 *
 * There is no global mutable state: several queues may run at once in one
 * process.  Nothing polls or sleeps in a loop: the dispatcher sleeps on
 * its condition variable (timed only up to the deadline, on
 * CLOCK_MONOTONIC), a worker waiting to retry sleeps in poll() on its
 * abort descriptor.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue.h"

/* The default worker stack: libssh2 and the executor need little. */
#define QUEUE_STACK_DEFAULT	(256 * 1024)

/* Sanitizers put redzones and shadow frames on the stack: give them room. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define QUEUE_STACK_FLOOR	((size_t)1024 * 1024)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define QUEUE_STACK_FLOOR	((size_t)1024 * 1024)
#endif
#endif
#ifndef QUEUE_STACK_FLOOR
#define QUEUE_STACK_FLOOR	((size_t)PTHREAD_STACK_MIN)
#endif

/* The const accessors still lock: the mutex is not logical state. */
#define QUEUE_MU(q)	((pthread_mutex_t *)(uintptr_t)&(q)->mu)

/* floor(log2(v)) for v > 0. */
static unsigned
queue_log2(size_t v)
{
	return (unsigned)(sizeof(unsigned long long) * CHAR_BIT - 1) -
	    (unsigned)__builtin_clzll((unsigned long long)v);
}

struct queue_entry *
queue_entry_get(const struct dx_queue *q, size_t id)
{
	size_t m;
	unsigned k;

	if (id >= q->njobs)
		return NULL;
	m = id + QUEUE_CHUNK0;
	k = queue_log2(m) - queue_log2(QUEUE_CHUNK0);
	return &q->chunk[k][m - ((size_t)QUEUE_CHUNK0 << k)];
}

bool
queue_on_dispatcher(const struct dx_queue *q)
{
	return q->started && !q->ended &&
	    pthread_equal(pthread_self(), q->dispatcher);
}

void
queue_abort_locked(struct dx_queue *q, enum dx_kind why)
{
	int expected = DX_OK;
	size_t i;

	if (!atomic_compare_exchange_strong(&q->abort_why, &expected,
	    (int)why))
		return;		/* an earlier reason won and did the rest */
	for (i = 0; i < q->nslots; i++)
		if (q->slots[i]->busy)
			queue_slot_signal(q->slots[i]);
}

struct dx_queue *
dx_queue_new(const struct dx_queue_opts *opts, dx_exec_fn exec,
    void *exec_arg, struct dx_err *err)
{
	struct dx_queue *q = NULL, *ret = NULL;
	pthread_condattr_t ca;
	int have = 0;

	if (opts == NULL || exec == NULL) {
		dx_err_set(err, DX_INTERNAL, "queue needs options and an executor");
		goto out;
	}
	if (opts->fanout < 1) {
		dx_err_set(err, DX_USAGE, "fan-out must be at least 1");
		goto out;
	}
	if (opts->retries < 0 || opts->retry_delay_ms < 0 ||
	    opts->deadline_ms < 0) {
		dx_err_set(err, DX_USAGE,
		    "retries, retry delay and deadline must not be negative");
		goto out;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	q->opts = *opts;
	q->exec = exec;
	q->exec_arg = exec_arg;
	q->fanout = opts->fanout;
	atomic_init(&q->abort_why, DX_OK);
	if (pthread_mutex_init(&q->mu, NULL) != 0) {
		dx_err_set(err, DX_INTERNAL, "cannot create queue mutex");
		goto out;
	}
	have = 1;
	/* The deadline is monotonic; so must the condvar's clock be. */
	if (pthread_condattr_init(&ca) != 0) {
		dx_err_set(err, DX_INTERNAL, "cannot create queue condition");
		goto out;
	}
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&q->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		dx_err_set(err, DX_INTERNAL, "cannot create queue condition");
		goto out;
	}
	pthread_condattr_destroy(&ca);
	have = 2;
	if (pthread_cond_init(&q->idle_cv, NULL) != 0) {
		dx_err_set(err, DX_INTERNAL, "cannot create queue condition");
		goto out;
	}
	sigemptyset(&q->blocked_sigs);
	sigaddset(&q->blocked_sigs, SIGINT);
	sigaddset(&q->blocked_sigs, SIGTERM);
	sigaddset(&q->blocked_sigs, SIGHUP);
	sigaddset(&q->blocked_sigs, SIGQUIT);
	sigaddset(&q->blocked_sigs, SIGPIPE);
	ret = q;
	q = NULL;
out:
	if (q != NULL) {
		if (have >= 2)
			pthread_cond_destroy(&q->cv);
		if (have >= 1)
			pthread_mutex_destroy(&q->mu);
		free(q);
	}
	return ret;
}

void
dx_queue_free(struct dx_queue *q)
{
	size_t i;

	if (q == NULL)
		return;
	(void)dx_queue_stop(q, NULL);
	for (i = 0; i < q->nslots; i++)
		queue_slot_free(q->slots[i]);
	free(q->slots);
	for (i = 0; i < QUEUE_NCHUNKS; i++)
		free(q->chunk[i]);
	free(q->heap);
	if (q->have_attr)
		pthread_attr_destroy(&q->attr);
	pthread_cond_destroy(&q->idle_cv);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

int
dx_queue_submit(struct dx_queue *q, const struct dx_job *job, size_t *id,
    struct dx_err *err)
{
	struct queue_entry *e;
	size_t m;
	unsigned k;
	bool started;
	int rc = -1;

	if (job == NULL || job->name == NULL)
		return dx_err_set(err, DX_INTERNAL, "drone has no name");
	if (job->ncalls > 0 && job->calls == NULL)
		return dx_err_set(err, DX_INTERNAL,
		    "drone '%s' has calls but no command", job->name);
	pthread_mutex_lock(&q->mu);
	if (q->closed) {
		dx_err_set(err, DX_INTERNAL, "cannot add drone '%s': the "
		    "queue has stopped", job->name);
		goto out;
	}
	m = q->njobs + QUEUE_CHUNK0;
	k = queue_log2(m) - queue_log2(QUEUE_CHUNK0);
	if (k >= QUEUE_NCHUNKS || (q->chunk[k] == NULL &&
	    (q->chunk[k] = calloc((size_t)QUEUE_CHUNK0 << k,
	    sizeof(*e))) == NULL)) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	e = &q->chunk[k][m - ((size_t)QUEUE_CHUNK0 << k)];
	memset(e, 0, sizeof(*e));
	e->job = *job;
	e->id = q->njobs;
	e->state = QE_WAITING;
	e->outcome.status = DX_ST_PENDING;
	if (queue_heap_push(q, e) == -1) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	q->njobs++;
	if (id != NULL)
		*id = e->id;
	rc = 0;
out:
	started = q->started;
	pthread_mutex_unlock(&q->mu);
	if (rc == 0 && started)
		pthread_cond_signal(&q->cv);
	return rc;
}

int
dx_queue_add(struct dx_queue *q, const struct dx_job *job, struct dx_err *err)
{
	return dx_queue_submit(q, job, NULL, err);
}

void
dx_queue_abort(struct dx_queue *q, enum dx_kind why)
{
	if (q == NULL)
		return;
	if (why == DX_OK)
		why = DX_INTERRUPTED;
	pthread_mutex_lock(&q->mu);
	queue_abort_locked(q, why);
	pthread_mutex_unlock(&q->mu);
	pthread_cond_signal(&q->cv);
}

enum dx_kind
dx_ctl_aborted(const struct dx_ctl *ctl)
{
	const struct queue_slot *s;
	const struct dx_queue *q;
	int why;

	if (ctl == NULL)
		return DX_OK;
	/* The pointers are const only to keep executors out of the queue. */
	if ((s = ctl->slot) != NULL &&
	    (why = atomic_load(&((struct queue_slot *)(uintptr_t)s)->why)) !=
	    DX_OK)
		return (enum dx_kind)why;
	if ((q = ctl->queue) == NULL)
		return DX_OK;
	return (enum dx_kind)atomic_load(
	    &((struct dx_queue *)(uintptr_t)q)->abort_why);
}

/* "job 3 ('web-01')", the subject of the errors below. */
#define QUEUE_JOB_FMT	"job %zu ('%s')"

int
dx_queue_abort_job(struct dx_queue *q, size_t id, enum dx_kind why,
    struct dx_err *err)
{
	struct queue_entry *e;
	int expected = DX_OK, rc = 0;

	if (why == DX_OK)
		why = DX_INTERRUPTED;
	pthread_mutex_lock(&q->mu);
	if ((e = queue_entry_get(q, id)) == NULL) {
		rc = dx_err_set(err, DX_USAGE, "no job %zu in the queue", id);
		goto out;
	}
	switch (e->state) {
	case QE_WAITING:
		queue_heap_remove(q, e);
		e->state = QE_ABORTED;
		e->skip = why;
		e->next = NULL;
		if (q->skip_tail != NULL)
			q->skip_tail->next = e;
		else
			q->skip_head = e;
		q->skip_tail = e;
		break;
	case QE_ABORTED:
		break;		/* the first reason stays */
	case QE_RUNNING:
		(void)atomic_compare_exchange_strong(&e->slot->why, &expected,
		    (int)why);
		queue_slot_signal(e->slot);
		break;
	case QE_DONE:
		rc = dx_err_set(err, DX_USAGE, QUEUE_JOB_FMT " has already "
		    "finished", id, e->job.name);
		break;
	}
out:
	pthread_mutex_unlock(&q->mu);
	if (rc == 0)
		pthread_cond_signal(&q->cv);
	return rc;
}

int
dx_queue_set_priority(struct dx_queue *q, size_t id, int priority,
    struct dx_err *err)
{
	struct queue_entry *e;
	int rc = -1;

	pthread_mutex_lock(&q->mu);
	if ((e = queue_entry_get(q, id)) == NULL) {
		dx_err_set(err, DX_USAGE, "no job %zu in the queue", id);
		goto out;
	}
	switch (e->state) {
	case QE_WAITING:
		e->job.priority = priority;
		queue_heap_fix(q, e);
		rc = 0;
		break;
	case QE_RUNNING:
		dx_err_set(err, DX_USAGE, QUEUE_JOB_FMT " is running: only a "
		    "waiting job's priority can change", id, e->job.name);
		break;
	case QE_ABORTED:
	case QE_DONE:
		dx_err_set(err, DX_USAGE, QUEUE_JOB_FMT " has finished: only a "
		    "waiting job's priority can change", id, e->job.name);
		break;
	}
out:
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int
dx_queue_resize(struct dx_queue *q, size_t fanout, struct dx_err *err)
{
	if (fanout < 1)
		return dx_err_set(err, DX_USAGE, "fan-out must be at least 1");
	pthread_mutex_lock(&q->mu);
	q->fanout = fanout;
	queue_slots_trim(q);
	pthread_mutex_unlock(&q->mu);
	pthread_cond_signal(&q->cv);
	return 0;
}

void
dx_queue_pause(struct dx_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->paused = true;
	pthread_mutex_unlock(&q->mu);
}

void
dx_queue_resume(struct dx_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->paused = false;
	pthread_mutex_unlock(&q->mu);
	pthread_cond_signal(&q->cv);
}

/* Sleeps on idle_cv until done(q) holds or the dispatcher ended.  mu. */
static void
queue_wait_until(struct dx_queue *q, bool (*done)(const struct dx_queue *))
{
	q->nwaiters++;
	while (!q->ended && !done(q))
		pthread_cond_wait(&q->idle_cv, &q->mu);
	q->nwaiters--;
}

static bool
queue_idle(const struct dx_queue *q)
{
	/* Nothing between waiting and done: not running, not being handed out. */
	return q->njobs - q->nheap - q->nfinished == 0;
}

static bool
queue_all_done(const struct dx_queue *q)
{
	return q->nfinished == q->njobs;
}

int
dx_queue_drain(struct dx_queue *q, struct dx_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	if (queue_on_dispatcher(q)) {
		rc = dx_err_set(err, DX_USAGE,
		    "cannot drain the queue from its done callback");
		goto out;
	}
	q->paused = true;
	if (q->started)
		queue_wait_until(q, queue_idle);
out:
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int
dx_queue_wait(struct dx_queue *q, struct dx_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	if (queue_on_dispatcher(q))
		rc = dx_err_set(err, DX_USAGE,
		    "cannot wait for the queue from its done callback");
	else if (!q->started && !queue_all_done(q))
		rc = dx_err_set(err, DX_USAGE,
		    "cannot wait for a queue that was not started");
	else if (q->started)
		queue_wait_until(q, queue_all_done);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int
dx_queue_stop(struct dx_queue *q, struct dx_err *err)
{
	bool join = false;
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	if (queue_on_dispatcher(q)) {
		rc = dx_err_set(err, DX_USAGE,
		    "cannot stop the queue from its done callback");
		goto out;
	}
	q->closed = true;
	if (!q->started || q->ended)
		goto join;
	if (!queue_all_done(q))
		queue_abort_locked(q, DX_INTERRUPTED);
	q->stopping = true;
	pthread_mutex_unlock(&q->mu);
	pthread_cond_signal(&q->cv);
	pthread_mutex_lock(&q->mu);
join:
	if (q->threaded && !q->joined) {
		q->joined = join = true;
	} else if (q->started) {
		/* dx_queue_run() on another thread, or a second stopper. */
		queue_wait_until(q, queue_all_done);
	}
out:
	pthread_mutex_unlock(&q->mu);
	if (join)
		pthread_join(q->dispatcher, NULL);
	return rc;
}

/* What start and run share: the workers' attributes and the deadline.  mu. */
static int
queue_begin(struct dx_queue *q, dx_done_fn done, void *done_arg,
    struct dx_err *err)
{
	size_t stack;

	if (q->started)
		return dx_err_set(err, DX_INTERNAL, "queue already ran");
	if (q->closed)
		return dx_err_set(err, DX_INTERNAL, "queue was stopped");
	if (pthread_attr_init(&q->attr) != 0)
		return dx_err_set(err, DX_INTERNAL,
		    "cannot create thread attributes");
	q->have_attr = true;
	stack = q->opts.stack_size ? q->opts.stack_size : QUEUE_STACK_DEFAULT;
	if (stack < QUEUE_STACK_FLOOR)
		stack = QUEUE_STACK_FLOOR;
	/* A size the system refuses outright falls back to its default. */
	(void)pthread_attr_setstacksize(&q->attr, stack);
	q->done = done;
	q->done_arg = done_arg;
	/* The slots the jobs known now will need; more are made on demand. */
	queue_slots_prepare(q, q->fanout < q->njobs ? q->fanout : q->njobs);
	if (q->opts.deadline_ms > 0)
		q->deadline = dx_now_ms() + q->opts.deadline_ms;
	return 0;
}

int
dx_queue_start(struct dx_queue *q, dx_done_fn done, void *done_arg,
    struct dx_err *err)
{
	sigset_t old;
	int rc = -1, e;

	pthread_mutex_lock(&q->mu);
	if (queue_begin(q, done, done_arg, err) == -1)
		goto out;
	/* Held across the create: the thread's first act is to take mu. */
	pthread_sigmask(SIG_BLOCK, &q->blocked_sigs, &old);
	e = pthread_create(&q->dispatcher, NULL, queue_dispatch_main, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		dx_err_set(err, DX_INTERNAL,
		    "cannot start the dispatcher thread: %s", strerror(e));
		goto out;
	}
	q->started = q->threaded = true;
	rc = 0;
out:
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int
dx_queue_run(struct dx_queue *q, dx_done_fn done, void *done_arg,
    struct dx_err *err)
{
	pthread_mutex_lock(&q->mu);
	if (queue_begin(q, done, done_arg, err) == -1) {
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	q->started = true;
	q->dispatcher = pthread_self();
	pthread_mutex_unlock(&q->mu);
	/* Start, wait and stop: this thread is the dispatcher meanwhile. */
	queue_dispatch(q);
	return 0;
}

size_t
dx_queue_size(const struct dx_queue *q)
{
	size_t n;

	pthread_mutex_lock(QUEUE_MU(q));
	n = q->njobs;
	pthread_mutex_unlock(QUEUE_MU(q));
	return n;
}

const struct dx_outcome *
dx_queue_outcome(const struct dx_queue *q, size_t index)
{
	struct queue_entry *e;

	pthread_mutex_lock(QUEUE_MU(q));
	e = queue_entry_get(q, index);
	pthread_mutex_unlock(QUEUE_MU(q));
	return e != NULL ? &e->outcome : NULL;
}

const struct dx_job *
dx_queue_job(const struct dx_queue *q, size_t index)
{
	struct queue_entry *e;

	pthread_mutex_lock(QUEUE_MU(q));
	e = queue_entry_get(q, index);
	pthread_mutex_unlock(QUEUE_MU(q));
	return e != NULL ? &e->job : NULL;
}

void
dx_queue_summary(const struct dx_queue *q, struct dx_summary *sum)
{
	size_t i;

	memset(sum, 0, sizeof(*sum));
	pthread_mutex_lock(QUEUE_MU(q));
	sum->drones = q->njobs;
	for (i = 0; i < q->njobs; i++) {
		switch (queue_entry_get(q, i)->outcome.status) {
		case DX_ST_OK:
			sum->ok++;
			break;
		case DX_ST_FAILED:
			sum->failed++;
			break;
		case DX_ST_SKIPPED:
			sum->skipped++;
			break;
		default:
			break;
		}
	}
	pthread_mutex_unlock(QUEUE_MU(q));
}

size_t
dx_queue_peak_running(const struct dx_queue *q)
{
	size_t peak;

	pthread_mutex_lock(QUEUE_MU(q));
	peak = q->peak;
	pthread_mutex_unlock(QUEUE_MU(q));
	return peak;
}
