/*
 * queue.c - the drone queue: fan-out, scheduling, retries, abort and the
 * result map.  No I/O of its own beyond a wake-up pipe.
 *
 * Theory of operation.
 *
 * Threads.  Every drone that has calls gets its own thread when a fan-out
 * slot is free, so at most opts.fanout drone threads are alive at once.  A
 * thread counts as alive from pthread_create() until the main thread has
 * joined it.  Drones start in order of priority (higher first), and drones
 * of equal priority in the order of dx_queue_add() (a sort of indexes on
 * the key (priority, index), which makes it stable).  Threads get a small
 * stack (opts.stack_size, or QUEUE_STACK_DEFAULT; more under
 * AddressSanitizer, whose redzones need room).  If pthread_create() fails
 * with EAGAIN while other drone threads run, the main thread waits for one
 * of them to end and tries again; if nothing runs and it still fails, that
 * drone fails with DX_INTERNAL "cannot start thread: ...".
 *
 * A worker owns one slot: its own preallocated struct dx_result.  It calls
 * exec(exec_arg, job, ctl, res) on it, retries connection failures (below),
 * stamps attempts and elapsed_ms, and then, under the one mutex, pushes its
 * slot onto the done list and signals the condition variable (after
 * unlocking).  It writes nothing else that is shared.  The condition
 * variable lives in the queue, which outlives the worker because the main
 * thread joins every worker before dx_queue_run() returns.
 *
 * The main thread (inside dx_queue_run()) starts workers, waits on the
 * condition variable (timed only up to the deadline, on CLOCK_MONOTONIC),
 * joins finished workers, decides each drone's status, calls the done
 * callback outside the lock, releases the result and keeps only a small
 * struct dx_outcome (status and error) per drone.  So the heavy part of a
 * result (calls and their output) lives only from exec until done()
 * returns, and memory is bounded by the fan-out, not by the fleet.
 *
 * A drone with no calls goes to the executor like any other: "ok" means
 * the drone was reached (connected and authenticated), never assumed.
 *
 * Status: a drone whose result carries no error (DX_OK) is ok, any other is
 * failed; drones that never started are skipped.
 *
 * Retries.  In the drone's thread: when an attempt failed with a connection
 * kind (resolve, connect_refused, connect_timeout, network, handshake,
 * connection_lost), sent no call (calls_sent == 0), the drone has attempts
 * left (attempts <= retries) and the run is not aborted, the worker waits
 * retry_delay_ms on the abort pipe (so an abort ends the wait at once) and
 * runs exec again on a released result.  A call that was sent is never run
 * again.  attempts counts every exec.
 *
 * Abort.  Each queue has a pipe; dx_queue_abort() records the first reason
 * (an atomic compare-and-swap), writes one byte to the pipe, which is never
 * drained and so stays readable for every poller, and wakes the main thread.
 * Executors poll ctl->abort_fd beside their sockets and ask
 * dx_ctl_aborted() why.  Drones not started by then are skipped with the
 * reason as their kind; they still go through done().
 *
 * Deadline.  Measured from the start of dx_queue_run(); the main thread
 * aborts with DX_DEADLINE when it passes.  Executors must return by the
 * deadline (ctl->deadline) and soon after an abort; the main thread then
 * still waits for them, without a timeout: it neither detaches nor
 * abandons a thread that still writes into queue memory.  A broken
 * executor that never returns therefore hangs the run rather than
 * corrupting it; that is the executor's contract, not something the queue
 * can repair without leaking.
 *
 * Circuit breaker.  Once opts.max_failures drones have failed, no new drone
 * starts; the rest are skipped with DX_MAX_FAILURES.  Running drones finish.
 *
 * There is no global mutable state: several queues may run at once in one
 * process.  Nothing polls or sleeps in a loop: the main thread sleeps on the
 * condition variable, a worker waiting to retry sleeps in poll() on the
 * abort pipe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dronex.h"

/* The default drone thread stack: libssh2 and the executor need little. */
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

/* One fan-out slot: the state of one running drone thread. */
struct queue_slot {
	struct dx_queue	*q;		/* set once in dx_queue_run() */
	size_t		 id;		/* position in the slot array */
	size_t		 index;		/* main thread, before the thread starts */
	pthread_t	 tid;		/* main thread */
	struct dx_result res;		/* the worker's alone until joined */
};

struct dx_queue {
	/* Set in dx_queue_new(), read-only afterwards. */
	struct dx_queue_opts opts;
	dx_exec_fn	 exec;
	void		*exec_arg;
	int		 abort_pipe[2];	/* [0] is ctl.abort_fd */

	/* Main thread only; read-only while drone threads run. */
	struct dx_job	*jobs;
	size_t		 njobs;
	size_t		 cap;
	bool		 ran;		/* dx_queue_run() was called */
	struct dx_ctl	 ctl;		/* written before the first thread starts */

	/* Main thread only; read by others after dx_queue_run() returns. */
	struct dx_outcome *outcomes;
	size_t		 failures;	/* failed drones so far */

	/* Lock-free: written by whoever aborts first, read by anyone. */
	_Atomic int	 abort_why;	/* enum dx_kind; DX_OK until aborted */

	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* done list grew, or wake was set */
	size_t		*done;		/* mu: slots whose worker finished */
	size_t		 ndone;		/* mu */
	bool		 wake;		/* mu: an abort wants the main thread */
	size_t		 running;	/* mu: threads alive (written by main) */
	size_t		 peak;		/* mu: most threads alive at once */
};

/* What dx_queue_run() keeps on its own stack between its helpers. */
struct queue_run {
	struct queue_slot *slots;
	size_t		*free;		/* indexes of idle slots */
	size_t		 nfree;
	size_t		*order;		/* job indexes in start order */
	size_t		 norder;
	size_t		 next;		/* next position in order to start */
	pthread_attr_t	 attr;
	sigset_t	 blocked;	/* signals drone threads never take */
	dx_done_fn	 done;
	void		*done_arg;
};

/* Sort key for the start order. */
struct queue_key {
	int		 priority;
	size_t		 index;
};

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

struct dx_queue *
dx_queue_new(const struct dx_queue_opts *opts, dx_exec_fn exec,
    void *exec_arg, struct dx_err *err)
{
	struct dx_queue *q = NULL, *ret = NULL;
	pthread_condattr_t ca;
	bool have_mu = false, have_cv = false;

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
	q->abort_pipe[0] = q->abort_pipe[1] = -1;
	q->opts = *opts;
	q->exec = exec;
	q->exec_arg = exec_arg;
	atomic_init(&q->abort_why, DX_OK);
	if (pthread_mutex_init(&q->mu, NULL) != 0) {
		dx_err_set(err, DX_INTERNAL, "cannot create queue mutex");
		goto out;
	}
	have_mu = true;
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
	have_cv = true;
	if (pipe2(q->abort_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		q->abort_pipe[0] = q->abort_pipe[1] = -1;
		dx_err_set(err, DX_INTERNAL, "cannot create abort pipe: %s",
		    strerror(errno));
		goto out;
	}
	q->ctl.abort_fd = q->abort_pipe[0];
	q->ctl.fail_fast = opts->fail_fast;
	q->ctl.queue = q;
	ret = q;
	q = NULL;
out:
	if (q != NULL) {
		if (have_cv)
			pthread_cond_destroy(&q->cv);
		if (have_mu)
			pthread_mutex_destroy(&q->mu);
		free(q);
	}
	return ret;
}

void
dx_queue_free(struct dx_queue *q)
{
	if (q == NULL)
		return;
	if (q->abort_pipe[0] != -1)
		close(q->abort_pipe[0]);
	if (q->abort_pipe[1] != -1)
		close(q->abort_pipe[1]);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->jobs);
	free(q->outcomes);
	free(q);
}

int
dx_queue_add(struct dx_queue *q, const struct dx_job *job, struct dx_err *err)
{
	struct dx_outcome *outcomes;
	struct dx_job *jobs;
	size_t cap;

	if (q->ran)
		return dx_err_set(err, DX_INTERNAL,
		    "cannot add a drone to a queue that already ran");
	if (job == NULL || job->name == NULL)
		return dx_err_set(err, DX_INTERNAL, "drone has no name");
	if (job->ncalls > 0 && job->calls == NULL)
		return dx_err_set(err, DX_INTERNAL,
		    "drone '%s' has calls but no command", job->name);
	if (q->njobs == q->cap) {
		cap = q->cap ? q->cap * 2 : 16;
		if (cap > SIZE_MAX / sizeof(*jobs))
			return dx_err_set(err, DX_INTERNAL, "out of memory");
		if ((jobs = realloc(q->jobs, cap * sizeof(*jobs))) == NULL)
			return dx_err_set(err, DX_INTERNAL, "out of memory");
		q->jobs = jobs;
		if ((outcomes = realloc(q->outcomes,
		    cap * sizeof(*outcomes))) == NULL)
			return dx_err_set(err, DX_INTERNAL, "out of memory");
		q->outcomes = outcomes;
		q->cap = cap;
	}
	q->jobs[q->njobs] = *job;
	memset(&q->outcomes[q->njobs], 0, sizeof(q->outcomes[0]));
	q->outcomes[q->njobs].status = DX_ST_PENDING;
	q->njobs++;
	return 0;
}

void
dx_queue_abort(struct dx_queue *q, enum dx_kind why)
{
	int expected = DX_OK;
	char byte = 'x';
	ssize_t n;

	if (q == NULL)
		return;
	if (why == DX_OK)
		why = DX_INTERRUPTED;
	if (!atomic_compare_exchange_strong(&q->abort_why, &expected,
	    (int)why))
		return;		/* an earlier reason won and did the rest */
	/* One byte, never read: the pipe stays readable for every poller. */
	do
		n = write(q->abort_pipe[1], &byte, 1);
	while (n == -1 && errno == EINTR);
	pthread_mutex_lock(&q->mu);
	q->wake = true;
	pthread_mutex_unlock(&q->mu);
	pthread_cond_signal(&q->cv);
}

enum dx_kind
dx_ctl_aborted(const struct dx_ctl *ctl)
{
	struct dx_queue *q;

	if (ctl == NULL || ctl->queue == NULL)
		return DX_OK;
	/* The pointer is const only to keep executors out of the queue. */
	q = (struct dx_queue *)(uintptr_t)ctl->queue;
	return (enum dx_kind)atomic_load(&q->abort_why);
}

static bool
queue_retryable(enum dx_kind kind)
{
	switch (kind) {
	case DX_RESOLVE:
	case DX_CONNECT_REFUSED:
	case DX_CONNECT_TIMEOUT:
	case DX_NETWORK:
	case DX_HANDSHAKE:
	case DX_CONNECTION_LOST:
		return true;
	default:
		return false;
	}
}

/*
 * Waits ms milliseconds, or less if the run is aborted meanwhile (the
 * abort pipe turns readable).  Returns 0 after a full wait, -1 if aborted.
 */
static int
queue_pause(struct dx_queue *q, int64_t ms)
{
	struct pollfd pfd;
	int64_t end, left;
	int rc;

	end = dx_now_ms() + ms;
	for (;;) {
		if (atomic_load(&q->abort_why) != DX_OK)
			return -1;
		left = end - dx_now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = q->abort_pipe[0];
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc > 0)
			return -1;
		/* rc == 0 (time is up) or EINTR: the loop re-checks both. */
	}
}

static void *
queue_worker(void *arg)
{
	struct queue_slot *s = arg;
	struct dx_queue *q = s->q;
	const struct dx_job *job = &q->jobs[s->index];
	struct dx_result *res = &s->res;
	int64_t t0;
	int attempts = 0;

	t0 = dx_now_ms();
	for (;;) {
		attempts++;
		q->exec(q->exec_arg, job, &q->ctl, res);
		if (res->error.kind == DX_OK ||
		    !queue_retryable(res->error.kind) ||
		    res->calls_sent > 0 ||
		    attempts > q->opts.retries ||
		    atomic_load(&q->abort_why) != DX_OK)
			break;
		/* Keep the failure if an abort ends the wait: it is the truth. */
		if (queue_pause(q, q->opts.retry_delay_ms) == -1)
			break;
		dx_result_release(res);
	}
	res->attempts = attempts;
	res->elapsed_ms = dx_now_ms() - t0;

	pthread_mutex_lock(&q->mu);
	q->done[q->ndone++] = s->id;
	pthread_mutex_unlock(&q->mu);
	/* The main thread joins us before the queue can go away. */
	pthread_cond_signal(&q->cv);
	return NULL;
}

static int
queue_key_cmp(const void *a, const void *b)
{
	const struct queue_key *ka = a, *kb = b;

	if (ka->priority != kb->priority)
		return ka->priority > kb->priority ? -1 : 1;
	if (ka->index != kb->index)
		return ka->index < kb->index ? -1 : 1;
	return 0;
}

/* Hands a finished drone to done() and keeps its outcome.  Main thread. */
static void
queue_finish(struct dx_queue *q, struct queue_run *r, size_t index,
    enum dx_status status, struct dx_result *res)
{
	struct dx_outcome *o = &q->outcomes[index];

	res->status = status;
	o->status = status;
	o->error = res->error;
	if (status == DX_ST_FAILED)
		q->failures++;
	if (r->done != NULL)
		r->done(r->done_arg, index, &q->jobs[index], res);
	dx_result_release(res);
}

static void
queue_skip(struct dx_queue *q, struct queue_run *r, size_t index,
    enum dx_kind why)
{
	struct dx_result res;
	int64_t ms;

	memset(&res, 0, sizeof(res));
	switch (why) {
	case DX_DEADLINE:
		ms = q->opts.deadline_ms;
		if (ms % 1000 == 0)
			dx_err_set(&res.error, why,
			    "not started: deadline of %lld s reached",
			    (long long)(ms / 1000));
		else
			dx_err_set(&res.error, why,
			    "not started: deadline of %g s reached",
			    (double)ms / 1000.0);
		break;
	case DX_MAX_FAILURES:
		dx_err_set(&res.error, why,
		    "not started: %zu drone%s failed (--max-failures %zu)",
		    q->failures, q->failures == 1 ? "" : "s",
		    q->opts.max_failures);
		break;
	case DX_INTERRUPTED:
		dx_err_set(&res.error, why, "not started: interrupted");
		break;
	default:
		dx_err_set(&res.error, why, "not started: %s",
		    dx_kind_name(why));
		break;
	}
	queue_finish(q, r, index, DX_ST_SKIPPED, &res);
}

/* Aborts the run once the deadline has passed.  Main thread. */
static void
queue_check_deadline(struct dx_queue *q)
{
	if (q->ctl.deadline > 0 && atomic_load(&q->abort_why) == DX_OK &&
	    dx_now_ms() >= q->ctl.deadline)
		dx_queue_abort(q, DX_DEADLINE);
}

/* Why drones may not start now, or DX_OK. */
static enum dx_kind
queue_stop_reason(struct dx_queue *q)
{
	enum dx_kind why;

	queue_check_deadline(q);
	if ((why = (enum dx_kind)atomic_load(&q->abort_why)) != DX_OK)
		return why;
	if (q->opts.max_failures > 0 && q->failures >= q->opts.max_failures)
		return DX_MAX_FAILURES;
	return DX_OK;
}

/*
 * Starts a thread for job index in a free slot.  Returns 0 or the error of
 * pthread_create() (the slot is then free again).
 */
static int
queue_spawn(struct dx_queue *q, struct queue_run *r, size_t index)
{
	struct queue_slot *s;
	sigset_t old;
	size_t slot;
	int rc;

	slot = r->free[--r->nfree];
	s = &r->slots[slot];
	s->index = index;
	memset(&s->res, 0, sizeof(s->res));
	/* Drone threads inherit a mask that keeps the CLI's signals away. */
	pthread_sigmask(SIG_BLOCK, &r->blocked, &old);
	rc = pthread_create(&s->tid, &r->attr, queue_worker, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		r->free[r->nfree++] = slot;
		return rc;
	}
	pthread_mutex_lock(&q->mu);
	q->running++;
	if (q->running > q->peak)
		q->peak = q->running;
	pthread_mutex_unlock(&q->mu);
	return 0;
}

/* Starts (or skips) drones while slots are free.  Main thread. */
static void
queue_start(struct dx_queue *q, struct queue_run *r)
{
	struct dx_result res;
	enum dx_kind why;
	size_t index;
	int rc;

	while (r->next < r->norder) {
		index = r->order[r->next];
		if ((why = queue_stop_reason(q)) != DX_OK) {
			queue_skip(q, r, index, why);
			r->next++;
			continue;
		}
		if (r->nfree == 0)
			return;
		if ((rc = queue_spawn(q, r, index)) == 0) {
			r->next++;
			continue;
		}
		/* running is only written by this thread: no lock to read it. */
		if (rc == EAGAIN && q->running > 0)
			return;		/* try again when a thread ends */
		memset(&res, 0, sizeof(res));
		dx_err_set(&res.error, DX_INTERNAL, "cannot start thread: %s",
		    strerror(rc));
		queue_finish(q, r, index, DX_ST_FAILED, &res);
		r->next++;
	}
}

/*
 * Sleeps until a worker finishes, an abort arrives or the deadline passes;
 * then joins and hands out every finished drone.  Main thread.
 */
static void
queue_reap(struct dx_queue *q, struct queue_run *r, size_t *batch)
{
	struct queue_slot *s;
	struct timespec ts;
	size_t i, n;
	bool timed;

	timed = q->ctl.deadline > 0 && atomic_load(&q->abort_why) == DX_OK;
	ts.tv_sec = q->ctl.deadline / 1000;
	ts.tv_nsec = (long)(q->ctl.deadline % 1000) * 1000000L;

	pthread_mutex_lock(&q->mu);
	while (q->ndone == 0 && !q->wake) {
		if (!timed)
			pthread_cond_wait(&q->cv, &q->mu);
		else if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) ==
		    ETIMEDOUT)
			break;
	}
	n = q->ndone;
	memcpy(batch, q->done, n * sizeof(*batch));
	q->ndone = 0;
	q->wake = false;
	pthread_mutex_unlock(&q->mu);

	for (i = 0; i < n; i++) {
		s = &r->slots[batch[i]];
		pthread_join(s->tid, NULL);
		pthread_mutex_lock(&q->mu);
		q->running--;
		pthread_mutex_unlock(&q->mu);
		queue_finish(q, r, s->index, s->res.error.kind == DX_OK ?
		    DX_ST_OK : DX_ST_FAILED, &s->res);
		r->free[r->nfree++] = s->id;
	}
}

int
dx_queue_run(struct dx_queue *q, dx_done_fn done, void *done_arg,
    struct dx_err *err)
{
	struct queue_run r;
	struct queue_key *keys = NULL;
	size_t *batch = NULL;
	size_t i, nslots, stack;
	bool have_attr = false;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.done = done;
	r.done_arg = done_arg;
	if (q->ran) {
		dx_err_set(err, DX_INTERNAL, "queue already ran");
		goto out;
	}
	q->ran = true;

	/* Everything is allocated before the first thread starts. */
	nslots = q->opts.fanout < q->njobs ? q->opts.fanout : q->njobs;
	if (nslots == 0)
		nslots = 1;
	if ((r.slots = calloc(nslots, sizeof(*r.slots))) == NULL ||
	    (r.free = calloc(nslots, sizeof(*r.free))) == NULL ||
	    (batch = calloc(nslots, sizeof(*batch))) == NULL ||
	    (q->done = calloc(nslots, sizeof(*q->done))) == NULL ||
	    (r.order = calloc(q->njobs + 1, sizeof(*r.order))) == NULL ||
	    (keys = calloc(q->njobs + 1, sizeof(*keys))) == NULL) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < nslots; i++) {
		r.slots[i].q = q;
		r.slots[i].id = i;
		r.slots[i].index = SIZE_MAX;
		r.free[i] = nslots - 1 - i;	/* slot 0 is used first */
	}
	r.nfree = nslots;

	if (pthread_attr_init(&r.attr) != 0) {
		dx_err_set(err, DX_INTERNAL, "cannot create thread attributes");
		goto out;
	}
	have_attr = true;
	stack = q->opts.stack_size ? q->opts.stack_size : QUEUE_STACK_DEFAULT;
	if (stack < QUEUE_STACK_FLOOR)
		stack = QUEUE_STACK_FLOOR;
	/* A size the system refuses outright falls back to its default. */
	(void)pthread_attr_setstacksize(&r.attr, stack);
	sigemptyset(&r.blocked);
	sigaddset(&r.blocked, SIGINT);
	sigaddset(&r.blocked, SIGTERM);
	sigaddset(&r.blocked, SIGHUP);
	sigaddset(&r.blocked, SIGQUIT);
	sigaddset(&r.blocked, SIGPIPE);

	/* Start order: priority, then add order. */
	for (i = 0; i < q->njobs; i++) {
		keys[r.norder].priority = q->jobs[i].priority;
		keys[r.norder].index = i;
		r.norder++;
	}
	qsort(keys, r.norder, sizeof(*keys), queue_key_cmp);
	for (i = 0; i < r.norder; i++)
		r.order[i] = keys[i].index;

	if (q->opts.deadline_ms > 0)
		q->ctl.deadline = dx_now_ms() + q->opts.deadline_ms;

	for (;;) {
		/* Without this a passed deadline would make the wait spin. */
		queue_check_deadline(q);
		queue_start(q, &r);
		if (r.next == r.norder && q->running == 0)
			break;
		queue_reap(q, &r, batch);
	}
	rc = 0;
out:
	if (have_attr)
		pthread_attr_destroy(&r.attr);
	free(keys);
	free(r.order);
	free(q->done);
	q->done = NULL;
	free(batch);
	free(r.free);
	free(r.slots);
	return rc;
}

size_t
dx_queue_size(const struct dx_queue *q)
{
	return q->njobs;
}

const struct dx_outcome *
dx_queue_outcome(const struct dx_queue *q, size_t index)
{
	if (index >= q->njobs)
		return NULL;
	return &q->outcomes[index];
}

const struct dx_job *
dx_queue_job(const struct dx_queue *q, size_t index)
{
	if (index >= q->njobs)
		return NULL;
	return &q->jobs[index];
}

void
dx_queue_summary(const struct dx_queue *q, struct dx_summary *sum)
{
	size_t i;

	memset(sum, 0, sizeof(*sum));
	sum->drones = q->njobs;
	for (i = 0; i < q->njobs; i++) {
		switch (q->outcomes[i].status) {
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
}

size_t
dx_queue_peak_running(const struct dx_queue *q)
{
	/* The mutex is not part of the queue's logical state. */
	pthread_mutex_t *mu = (pthread_mutex_t *)(uintptr_t)&q->mu;
	size_t peak;

	pthread_mutex_lock(mu);
	peak = q->peak;
	pthread_mutex_unlock(mu);
	return peak;
}
