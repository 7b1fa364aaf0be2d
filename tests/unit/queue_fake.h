/*
 * queue_fake.h - the scripted fake executor the queue's tests share
 * (test_queue.c, test_queue_retry.c, test_queue_live.c; no network).
 *
 *
 * Each job's drone pointer is a struct fake that scripts what the executor
 * does for it: succeed, fail with a kind, hang until the run is aborted,
 * fail to connect a few times, sleep, wait for its peers (to prove that
 * the fan-out is reached), "connect" (a wait on the abort descriptor, as
 * dx_ssh_exec()'s connect polls it) or wait behind a gate the test opens.
 * The fake counts the executions that overlap, so the tests see the real
 * concurrency, not only what the queue reports, and it can tell the test
 * the moment an execution starts or ends (a semaphore), which the race
 * tests use to land an operation exactly then.
 *
 * The long-lived tests drive the queue from the test thread while its
 * dispatcher thread calls done(): what done() saw is kept under the
 * bench's mutex, and the test waits for it on the bench's condition.
 *
 * Everything here is static (inline for the functions), so each test
 * program, the criterion ones and the ThreadSanitizer ones built against
 * tests/tsan/criterion/criterion.h alike, gets its own copy.
 */
#ifndef DX_QUEUE_FAKE_H
#define DX_QUEUE_FAKE_H


#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "dronex.h"

enum fake_mode {
	FK_OK = 0,	/* one call, exit 0 */
	FK_FAIL,		/* fail with kind and msg (after a sent call if sent) */
	FK_HANG,		/* wait for the abort pipe or the deadline */
	FK_FLAKY,	/* fail to connect "times" times, then succeed */
	FK_SLEEP,	/* sleep sleep_ms, then succeed */
	FK_MEET,	/* wait until env->meet drones run at once, then ok */
	FK_CONNECT,	/* "connect": wait sleep_ms on the abort fd, then ok */
	FK_GATE		/* wait until the test opens the gate (or an abort), ok */
};

struct env;

struct fake {
	size_t		 id;		/* job index */
	enum fake_mode	 mode;
	enum dx_kind	 kind;
	const char	*msg;
	int		 times;
	int		 sleep_ms;
	bool		 sent;
	int		 priority;
	size_t		 ncalls;
	struct env	*env;
	atomic_int	 execs;		/* exec calls for this drone */
	atomic_int	 seen_abort;	/* dx_ctl_aborted() when it returned */
	atomic_llong	 seen_deadline;	/* ctl->deadline */
	atomic_bool	 seen_fail_fast;
	atomic_bool	 seen_pollin;	/* the abort fd was readable at the end */
	atomic_int	 seen_priority;	/* job->priority the executor saw */
	atomic_int	 seen_inflight;	/* executions running when it started */
	atomic_int	 seen_abort_fd;	/* ctl->abort_fd */
	int		 gate[2];	/* FK_GATE: a pipe, readable once open */
	bool		 have_gate;
};

struct env {
	atomic_int	 inflight;	/* exec calls running now */
	atomic_int	 peak;		/* most at once */
	atomic_size_t	 nstarted;
	size_t		*order;		/* job index of each exec start */
	size_t		 norder;
	pthread_mutex_t	 mu;		/* FK_MEET */
	pthread_cond_t	 cv;
	int		 meet;
	bool		 met;
	bool		 notify;	/* post started/ended below */
	sem_t		 started;	/* posted as each exec starts */
	sem_t		 ended;		/* posted as each exec is about to return */
};

/* What done() saw for one drone. */
struct seen {
	int		 calls;		/* done() calls for this index */
	enum dx_status	 status;
	int		 attempts;
	int64_t		 elapsed_ms;
	struct dx_err	 error;
	size_t		 ncalls;
	bool		 calls_null;
	bool		 job_ok;	/* job pointer and name as added */
	bool		 outcome_ok;	/* dx_queue_outcome() already agreed */
};

struct bench {
	struct env	 env;
	struct fake	*fakes;
	char		(*names)[32];
	struct seen	*seen;
	size_t		 n;
	struct dx_queue_opts opts;
	struct dx_queue	*q;
	size_t		 ndone;		/* mu */
	int64_t		 run_ms;
	bool		 steal_output;	/* done() takes calls[0].out.data */
	size_t		 feed;		/* done() of job i < feed adds a job */
	size_t		 nfed;		/* dispatcher: jobs done() added */
	bool		 try_blocking;	/* done() tries wait, drain and stop */
	int		 blocking_refused; /* mu: how many of those said DX_USAGE */
	pthread_mutex_t	 mu;		/* what done() saw, for the test thread */
	pthread_cond_t	 cv;
};

static const char *const one_call[] __attribute__((unused)) = { "echo hello", "echo again" };

static inline void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static inline void
fake_meet(struct env *env, struct fake *f, struct dx_result *res)
{
	struct timespec ts;
	bool met;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&env->mu);
	while (!env->met && atomic_load(&env->inflight) < env->meet)
		if (pthread_cond_timedwait(&env->cv, &env->mu, &ts) ==
		    ETIMEDOUT)
			break;
	if (atomic_load(&env->inflight) >= env->meet)
		env->met = true;
	met = env->met;
	pthread_mutex_unlock(&env->mu);
	pthread_cond_broadcast(&env->cv);
	if (!met)
		dx_err_set(&res->error, DX_INTERNAL,
		    "drone %zu never saw %d drones at once", f->id, env->meet);
}

/*
 * FK_CONNECT: the connect wait of an executor, sleep_ms on the abort fd
 * (as dx_fd_wait() does); FK_GATE: the same without a limit, until the
 * gate opens.  Cut by an abort: no call was sent, the kind says why.
 */
static inline void
fake_wait(struct fake *f, const struct dx_ctl *ctl, struct dx_result *res,
    const struct dx_job *job)
{
	struct dx_call_result *c;
	struct pollfd pfd[2];
	int64_t end = dx_now_ms() + f->sleep_ms, left;
	enum dx_kind why;
	int rc;

	pfd[0].fd = ctl->abort_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = f->mode == FK_GATE ? f->gate[0] : -1;
	pfd[1].events = POLLIN;
	for (;;) {
		pfd[0].revents = pfd[1].revents = 0;
		left = f->mode == FK_GATE ? -1 : end - dx_now_ms();
		if (f->mode == FK_CONNECT && left <= 0)
			break;
		rc = poll(pfd, 2, (int)left);
		if (rc == -1 && errno == EINTR)
			continue;
		if (pfd[0].revents != 0) {
			if ((why = dx_ctl_aborted(ctl)) == DX_OK)
				why = DX_INTERNAL;
			atomic_store(&f->seen_abort, (int)why);
			dx_err_set(&res->error, why, "connect cut");
			return;
		}
		if (pfd[1].revents != 0)
			break;
	}
	if (job->ncalls == 0)
		return;
	res->calls_sent = 1;
	if ((c = dx_result_add_call(res, job->calls[0], 64,
	    &res->error)) == NULL)
		return;
	c->exit_status = 0;
}

static inline void
fake_exec(void *arg, const struct dx_job *job, const struct dx_ctl *ctl,
    struct dx_result *res)
{
	struct env *env = arg;
	struct fake *f = (struct fake *)(uintptr_t)job->drone;
	struct dx_call_result *c;
	struct pollfd pfd;
	int64_t left;
	size_t pos;
	int now, peak, n;
	enum dx_kind why;

	now = atomic_fetch_add(&env->inflight, 1) + 1;
	peak = atomic_load(&env->peak);
	while (now > peak &&
	    !atomic_compare_exchange_weak(&env->peak, &peak, now))
		;
	pos = atomic_fetch_add(&env->nstarted, 1);
	if (pos < env->norder)
		env->order[pos] = f->id;
	n = atomic_fetch_add(&f->execs, 1) + 1;
	atomic_store(&f->seen_deadline, ctl->deadline);
	atomic_store(&f->seen_fail_fast, ctl->fail_fast);
	atomic_store(&f->seen_priority, job->priority);
	atomic_store(&f->seen_inflight, now);
	atomic_store(&f->seen_abort_fd, ctl->abort_fd);
	if (env->notify)
		sem_post(&env->started);

	switch (f->mode) {
	case FK_OK:
	case FK_SLEEP:
	case FK_MEET:
		if (f->mode == FK_MEET)
			fake_meet(env, f, res);
		if (f->sleep_ms > 0)
			msleep(f->sleep_ms);
		/* A drone with no calls is only reached. */
		if (res->error.kind != DX_OK || job->ncalls == 0)
			break;
		res->calls_sent = 1;
		if ((c = dx_result_add_call(res, job->calls[0], 64,
		    &res->error)) == NULL)
			break;
		dx_buf_append(&c->out, "hello\n", 6);
		c->exit_status = 0;
		break;
	case FK_FAIL:
		if (f->sent) {
			res->calls_sent = 1;
			if ((c = dx_result_add_call(res, job->calls[0], 64,
			    &res->error)) == NULL)
				break;
		}
		dx_err_set(&res->error, f->kind, "%s", f->msg);
		break;
	case FK_FLAKY:
		if (n <= f->times)
			dx_err_set(&res->error, f->kind,
			    "connection to 'd' failed (attempt %d)", n);
		break;
	case FK_HANG:
		res->calls_sent = 1;
		pfd.fd = ctl->abort_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		for (;;) {
			left = ctl->deadline > 0 ?
			    ctl->deadline - dx_now_ms() : -1;
			if (ctl->deadline > 0 && left < 0)
				left = 0;
			if (poll(&pfd, 1, (int)left) != -1 || errno != EINTR)
				break;
		}
		atomic_store(&f->seen_pollin, (pfd.revents & POLLIN) != 0);
		why = dx_ctl_aborted(ctl);
		atomic_store(&f->seen_abort, (int)why);
		dx_err_set(&res->error, why == DX_OK ? DX_DEADLINE : why,
		    "call 'sleep' cut");
		break;
	case FK_CONNECT:
	case FK_GATE:
		fake_wait(f, ctl, res, job);
		break;
	}
	pfd.fd = ctl->abort_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (f->mode != FK_HANG)
		atomic_store(&f->seen_pollin, poll(&pfd, 1, 0) == 1);
	atomic_fetch_sub(&env->inflight, 1);
	if (env->notify)
		sem_post(&env->ended);
}

static inline void
bench_done(void *arg, size_t index, const struct dx_job *job,
    struct dx_result *res)
{
	struct bench *b = arg;
	struct seen *s;
	const struct dx_outcome *o;

	struct dx_err err;
	struct dx_job next;
	size_t id, got;
	int refused = 0;

	cr_assert_lt(index, b->n);
	if (b->try_blocking) {
		refused += dx_queue_wait(b->q, &err) == -1 && err.kind == DX_USAGE;
		refused += dx_queue_drain(b->q, &err) == -1 && err.kind == DX_USAGE;
		refused += dx_queue_stop(b->q, &err) == -1 && err.kind == DX_USAGE;
	}
	if (index < b->feed) {
		/* A follow-up job, fed from done(), while the queue runs; done()
		 * runs on one thread, so ids go on in the order of done(). */
		id = b->feed + b->nfed++;
		memset(&next, 0, sizeof(next));
		next.name = b->names[id];
		next.drone = &b->fakes[id];
		next.calls = one_call;
		next.ncalls = 1;
		cr_assert_eq(dx_queue_submit(b->q, &next, &got, &err), 0, "%s",
		    err.msg);
		cr_assert_eq(got, id);
	}
	pthread_mutex_lock(&b->mu);
	b->blocking_refused += refused;
	s = &b->seen[index];
	s->calls++;
	b->ndone++;
	s->status = res->status;
	s->attempts = res->attempts;
	s->elapsed_ms = res->elapsed_ms;
	s->error = res->error;
	s->ncalls = res->ncalls;
	s->calls_null = res->calls == NULL;
	s->job_ok = job == dx_queue_job(b->q, index) &&
	    strcmp(job->name, b->names[index]) == 0 &&
	    job->drone == &b->fakes[index];
	o = dx_queue_outcome(b->q, index);
	s->outcome_ok = o != NULL && o->status == res->status &&
	    o->error.kind == res->error.kind;
	if (b->steal_output && res->ncalls > 0) {
		/* The caller may take heap parts: the queue must not free them. */
		free(res->calls[0].out.data);
		res->calls[0].out.data = NULL;
	}
	pthread_mutex_unlock(&b->mu);
	pthread_cond_broadcast(&b->cv);
}

static inline struct bench *
bench_new(size_t n, size_t fanout)
{
	struct bench *b;
	size_t i;

	cr_assert_not_null(b = calloc(1, sizeof(*b)));
	cr_assert_not_null(b->fakes = calloc(n, sizeof(*b->fakes)));
	cr_assert_not_null(b->names = calloc(n, sizeof(*b->names)));
	cr_assert_not_null(b->seen = calloc(n, sizeof(*b->seen)));
	cr_assert_not_null(b->env.order = calloc(n, sizeof(size_t)));
	b->env.norder = n;
	pthread_mutex_init(&b->env.mu, NULL);
	pthread_cond_init(&b->env.cv, NULL);
	sem_init(&b->env.started, 0, 0);
	sem_init(&b->env.ended, 0, 0);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->n = n;
	b->opts.fanout = fanout;
	for (i = 0; i < n; i++) {
		b->fakes[i].id = i;
		b->fakes[i].env = &b->env;
		b->fakes[i].ncalls = 1;
		snprintf(b->names[i], sizeof(b->names[i]), "d-%04zu", i);
	}
	return b;
}

/* Adds job i; its id must be i (ids are the add order). */
static inline void
bench_add(struct bench *b, size_t i)
{
	struct dx_err err;
	struct dx_job job;
	size_t id = SIZE_MAX;

	memset(&job, 0, sizeof(job));
	job.name = b->names[i];
	job.priority = b->fakes[i].priority;
	job.drone = &b->fakes[i];
	job.calls = one_call;
	job.ncalls = b->fakes[i].ncalls;
	cr_assert_eq(dx_queue_submit(b->q, &job, &id, &err), 0, "%s", err.msg);
	cr_assert_eq(id, i);
}

/* The queue, with the first n jobs added. */
static inline void
bench_make_n(struct bench *b, size_t n)
{
	struct dx_err err;
	size_t i;

	b->q = dx_queue_new(&b->opts, fake_exec, &b->env, &err);
	cr_assert_not_null(b->q, "dx_queue_new: %s", err.msg);
	for (i = 0; i < n; i++)
		bench_add(b, i);
	cr_assert_eq(dx_queue_size(b->q), n);
}

static inline void
bench_make(struct bench *b)
{
	bench_make_n(b, b->n);
}

/* Starts the queue's own dispatcher; done() is bench_done(). */
static inline void
bench_start(struct bench *b)
{
	struct dx_err err;

	cr_assert_eq(dx_queue_start(b->q, bench_done, b, &err), 0, "%s",
	    err.msg);
}

static inline void
bench_wait(struct bench *b)
{
	struct dx_err err;

	cr_assert_eq(dx_queue_wait(b->q, &err), 0, "%s", err.msg);
}

/* Blocks until done() saw job i (10 s at most). */
static inline void
bench_wait_done(struct bench *b, size_t i)
{
	struct timespec ts;
	bool seen;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&b->mu);
	while (b->seen[i].calls == 0)
		if (pthread_cond_timedwait(&b->cv, &b->mu, &ts) == ETIMEDOUT)
			break;
	seen = b->seen[i].calls > 0;
	pthread_mutex_unlock(&b->mu);
	cr_assert(seen, "job %zu never reached done()", i);
}

/* Whether done() saw job i yet. */
static inline bool
bench_seen(struct bench *b, size_t i)
{
	bool seen;

	pthread_mutex_lock(&b->mu);
	seen = b->seen[i].calls > 0;
	pthread_mutex_unlock(&b->mu);
	return seen;
}

/* Blocks until n executions have started (10 s at most). */
static inline void
bench_wait_started(struct bench *b, size_t n)
{
	int64_t end = dx_now_ms() + 10000;

	while (atomic_load(&b->env.nstarted) < n && dx_now_ms() < end)
		msleep(1);
	cr_assert_geq(atomic_load(&b->env.nstarted), n);
}

static inline void
gate_init(struct bench *b, size_t i)
{
	cr_assert_eq(pipe(b->fakes[i].gate), 0);
	b->fakes[i].have_gate = true;
	b->fakes[i].mode = FK_GATE;
}

static inline void
gate_open(struct bench *b, size_t i)
{
	cr_assert_eq(write(b->fakes[i].gate[1], "x", 1), 1);
}

static inline void
bench_run(struct bench *b)
{
	struct dx_err err;
	int64_t t0;

	if (b->q == NULL)
		bench_make(b);
	t0 = dx_now_ms();
	cr_assert_eq(dx_queue_run(b->q, bench_done, b, &err), 0, "%s",
	    err.msg);
	b->run_ms = dx_now_ms() - t0;
}

/* Every drone reached done() exactly once, as itself. */
static inline void
bench_check_done_once(struct bench *b)
{
	size_t i;

	cr_assert_eq(b->ndone, b->n);
	for (i = 0; i < b->n; i++) {
		cr_assert_eq(b->seen[i].calls, 1, "drone %zu: done %d times",
		    i, b->seen[i].calls);
		cr_assert(b->seen[i].job_ok, "drone %zu: wrong job", i);
		cr_assert(b->seen[i].outcome_ok, "drone %zu: outcome", i);
		cr_assert_neq(b->seen[i].status, DX_ST_PENDING);
	}
}

static inline void
bench_free(struct bench *b)
{
	size_t i;

	dx_queue_free(b->q);
	for (i = 0; i < b->n; i++)
		if (b->fakes[i].have_gate) {
			close(b->fakes[i].gate[0]);
			close(b->fakes[i].gate[1]);
		}
	sem_destroy(&b->env.started);
	sem_destroy(&b->env.ended);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->env.mu);
	pthread_cond_destroy(&b->env.cv);
	free(b->env.order);
	free(b->fakes);
	free(b->names);
	free(b->seen);
	free(b);
}

/* Fan-out: never exceeded, and reached. */

struct aborter {
	struct dx_queue	*q;
	int		 after_ms;
	enum dx_kind	 why;
};

/* Aborts a->q with a->why after a->after_ms, from a thread of its own. */
static inline void *
aborter_main(void *arg)
{
	struct aborter *a = arg;

	msleep(a->after_ms);
	dx_queue_abort(a->q, a->why);
	return NULL;
}

#endif
