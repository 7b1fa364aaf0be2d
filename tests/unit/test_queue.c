/*
 * test_queue.c - the drone queue on a fake executor (no network).
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
 */
#include "config.h"

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

static const char *const one_call[] = { "echo hello", "echo again" };

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
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
static void
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

static void
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

static void
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

static struct bench *
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
static void
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
static void
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

static void
bench_make(struct bench *b)
{
	bench_make_n(b, b->n);
}

/* Starts the queue's own dispatcher; done() is bench_done(). */
static void
bench_start(struct bench *b)
{
	struct dx_err err;

	cr_assert_eq(dx_queue_start(b->q, bench_done, b, &err), 0, "%s",
	    err.msg);
}

static void
bench_wait(struct bench *b)
{
	struct dx_err err;

	cr_assert_eq(dx_queue_wait(b->q, &err), 0, "%s", err.msg);
}

/* Blocks until done() saw job i (10 s at most). */
static void
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
static bool
bench_seen(struct bench *b, size_t i)
{
	bool seen;

	pthread_mutex_lock(&b->mu);
	seen = b->seen[i].calls > 0;
	pthread_mutex_unlock(&b->mu);
	return seen;
}

/* Blocks until n executions have started (10 s at most). */
static void
bench_wait_started(struct bench *b, size_t n)
{
	int64_t end = dx_now_ms() + 10000;

	while (atomic_load(&b->env.nstarted) < n && dx_now_ms() < end)
		msleep(1);
	cr_assert_geq(atomic_load(&b->env.nstarted), n);
}

static void
gate_init(struct bench *b, size_t i)
{
	cr_assert_eq(pipe(b->fakes[i].gate), 0);
	b->fakes[i].have_gate = true;
	b->fakes[i].mode = FK_GATE;
}

static void
gate_open(struct bench *b, size_t i)
{
	cr_assert_eq(write(b->fakes[i].gate[1], "x", 1), 1);
}

static void
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
static void
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

static void
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

static void
check_fanout(size_t fanout)
{
	struct bench *b = bench_new(200, fanout);
	struct dx_summary sum;
	size_t i;

	/* The first fanout drones wait for each other: the fan-out must be
	 * reached or they fail after 10 s. */
	b->env.meet = (int)fanout;
	for (i = 0; i < b->n; i++) {
		b->fakes[i].mode = FK_MEET;
		b->fakes[i].sleep_ms = 1 + (int)(i % 3);
	}
	bench_run(b);
	bench_check_done_once(b);
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.ok, 200, "ok %zu; first error: %s", sum.ok,
	    b->seen[0].error.msg);
	cr_assert_eq((size_t)atomic_load(&b->env.peak), fanout,
	    "execs at once: %d, fan-out %zu", atomic_load(&b->env.peak),
	    fanout);
	cr_assert_eq(dx_queue_peak_running(b->q), fanout);
	bench_free(b);
}

Test(queue, fanout_1_runs_one_drone_at_a_time, .timeout = 60)
{
	check_fanout(1);
}

Test(queue, fanout_8_is_reached_and_never_exceeded, .timeout = 60)
{
	check_fanout(8);
}

Test(queue, fanout_64_is_reached_and_never_exceeded, .timeout = 60)
{
	check_fanout(64);
}

Test(queue, short_drones_never_exceed_the_fanout, .timeout = 60)
{
	static const size_t fanouts[] = { 1, 3, 8, 64 };
	struct bench *b;
	size_t f, i;

	for (f = 0; f < sizeof(fanouts) / sizeof(fanouts[0]); f++) {
		b = bench_new(200, fanouts[f]);
		for (i = 0; i < b->n; i++) {
			b->fakes[i].mode = i % 2 ? FK_SLEEP : FK_OK;
			b->fakes[i].sleep_ms = (int)(i % 4);
		}
		bench_run(b);
		bench_check_done_once(b);
		cr_assert_leq((size_t)atomic_load(&b->env.peak), fanouts[f]);
		cr_assert_leq(dx_queue_peak_running(b->q), fanouts[f]);
		cr_assert_geq(dx_queue_peak_running(b->q), 1);
		bench_free(b);
	}
}

Test(queue, fanout_above_drone_count_starts_them_all_at_once, .timeout = 60)
{
	struct bench *b = bench_new(5, 64);
	size_t i;

	b->env.meet = 5;
	for (i = 0; i < b->n; i++)
		b->fakes[i].mode = FK_MEET;
	bench_run(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->seen[i].status, DX_ST_OK, "%s",
		    b->seen[i].error.msg);
	cr_assert_eq(dx_queue_peak_running(b->q), 5);
	bench_free(b);
}

/* Priority. */

Test(queue, fanout_1_starts_by_priority_then_add_order)
{
	static const int prio[] = { 0, 5, -1, 5, 10, 0, 10, 5, 0, -1, 3 };
	static const size_t want[] = { 4, 6, 1, 3, 7, 10, 0, 5, 8, 2, 9 };
	size_t n = sizeof(prio) / sizeof(prio[0]), i;
	struct bench *b = bench_new(n, 1);

	for (i = 0; i < n; i++)
		b->fakes[i].priority = prio[i];
	bench_run(b);
	cr_assert_eq(atomic_load(&b->env.nstarted), n);
	for (i = 0; i < n; i++)
		cr_assert_eq(b->env.order[i], want[i],
		    "start %zu: drone %zu, want %zu", i, b->env.order[i],
		    want[i]);
	bench_free(b);
}

Test(queue, equal_priorities_start_in_add_order)
{
	struct bench *b = bench_new(50, 1);
	size_t i;

	for (i = 0; i < b->n; i++)
		b->fakes[i].priority = 7;
	bench_run(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->env.order[i], i);
	bench_free(b);
}

/* Failures are captured per drone. */

Test(queue, one_failure_is_captured_while_the_others_succeed)
{
	struct bench *b = bench_new(10, 4);
	struct dx_summary sum;
	const struct dx_outcome *o;
	char *e;
	size_t i;

	b->fakes[3].mode = FK_FAIL;
	b->fakes[3].kind = DX_AUTH;
	b->fakes[3].msg = "no key accepted for 'deploy'";
	bench_run(b);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++) {
		if (i == 3)
			continue;
		cr_assert_eq(b->seen[i].status, DX_ST_OK);
		cr_assert_eq(b->seen[i].error.kind, DX_OK);
		cr_assert_eq(b->seen[i].ncalls, 1);
		cr_assert_eq(b->seen[i].attempts, 1);
	}
	cr_assert_eq(b->seen[3].status, DX_ST_FAILED);
	cr_assert_eq(b->seen[3].error.kind, DX_AUTH);
	cr_assert_str_eq(b->seen[3].error.msg, "no key accepted for 'deploy'");
	o = dx_queue_outcome(b->q, 3);
	cr_assert_eq(o->status, DX_ST_FAILED);
	cr_assert_eq(o->error.kind, DX_AUTH);
	cr_assert_str_eq(o->error.msg, "no key accepted for 'deploy'");
	cr_assert_null(dx_queue_outcome(b->q, 10));
	cr_assert_null(dx_queue_job(b->q, 10));
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.drones, 10);
	cr_assert_eq(sum.ok, 9);
	cr_assert_eq(sum.failed, 1);
	cr_assert_eq(sum.skipped, 0);
	e = dx_queue_error(b->q);
	cr_assert_str_eq(e, "1 of 10 drones failed: d-0003 (auth)");
	free(e);
	bench_free(b);
}

Test(queue, consolidated_error_matches_the_spec_example)
{
	struct bench *b = bench_new(3, 1);
	char *e;

	strcpy(b->names[0], "web-01");
	strcpy(b->names[1], "db-01");
	strcpy(b->names[2], "web-02");
	b->fakes[0].priority = 10;
	b->fakes[1].priority = 5;
	b->fakes[1].mode = FK_FAIL;
	b->fakes[1].kind = DX_HOSTKEY_MISMATCH;
	b->fakes[1].msg = "host key for 'db1' does not match";
	b->opts.max_failures = 1;
	bench_run(b);
	bench_check_done_once(b);
	cr_assert_eq(b->seen[2].status, DX_ST_SKIPPED);
	e = dx_queue_error(b->q);
	cr_assert_str_eq(e, "1 of 3 drones failed, 1 skipped: db-01 (hostkey_mismatch), "
	    "web-02 (skipped: max_failures)");
	free(e);
	bench_free(b);
}

Test(queue, consolidated_error_names_every_bad_drone_in_add_order)
{
	struct bench *b = bench_new(6, 2);
	char *e;

	b->fakes[5].mode = FK_FAIL;
	b->fakes[5].kind = DX_CONNECT_REFUSED;
	b->fakes[5].msg = "connection refused";
	b->fakes[5].priority = 9;	/* finishes first, named last */
	b->fakes[1].mode = FK_FAIL;
	b->fakes[1].kind = DX_NONZERO_EXIT;
	b->fakes[1].msg = "call 'false' exited 1";
	b->fakes[4].mode = FK_FAIL;
	b->fakes[4].kind = DX_OUTPUT;
	b->fakes[4].msg = "out of memory";
	bench_run(b);
	e = dx_queue_error(b->q);
	cr_assert_str_eq(e, "3 of 6 drones failed: d-0001 (nonzero_exit), "
	    "d-0004 (output), d-0005 (connect_refused)");
	free(e);
	bench_free(b);
}

Test(queue, all_ok_has_no_error_and_a_clean_summary)
{
	struct bench *b = bench_new(7, 3);
	struct dx_summary sum;

	bench_run(b);
	cr_assert_null(dx_queue_error(b->q));
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.drones, 7);
	cr_assert_eq(sum.ok, 7);
	cr_assert_eq(sum.failed + sum.skipped, 0);
	bench_free(b);
}

Test(queue, internal_and_output_errors_stay_in_their_drone)
{
	struct bench *b = bench_new(20, 5);
	size_t i;

	b->fakes[2].mode = FK_FAIL;
	b->fakes[2].kind = DX_INTERNAL;
	b->fakes[2].msg = "executor crashed";
	b->fakes[9].mode = FK_FAIL;
	b->fakes[9].kind = DX_OUTPUT;
	b->fakes[9].msg = "out of memory keeping stdout";
	b->fakes[9].sent = true;
	bench_run(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->seen[i].status,
		    i == 2 || i == 9 ? DX_ST_FAILED : DX_ST_OK);
	cr_assert_eq(b->seen[2].error.kind, DX_INTERNAL);
	cr_assert_eq(b->seen[9].error.kind, DX_OUTPUT);
	cr_assert_eq(b->seen[9].ncalls, 1);
	bench_free(b);
}

/* Drones without calls. */

Test(queue, drones_without_calls_still_go_to_the_executor)
{
	struct bench *b = bench_new(6, 2);
	struct dx_summary sum;
	size_t i;

	/*
	 * "ok" must mean reached: a drone with nothing to run is handed to
	 * the executor like the others (which connects and authenticates),
	 * so one that cannot be reached fails.
	 */
	b->fakes[0].ncalls = 0;
	b->fakes[3].ncalls = 0;
	b->fakes[5].ncalls = 0;
	b->fakes[5].mode = FK_FAIL;
	b->fakes[5].kind = DX_CONNECT_REFUSED;
	b->fakes[5].msg = "connection refused by '127.0.0.1:1'";
	bench_run(b);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(atomic_load(&b->fakes[i].execs), 1, "drone %zu", i);
	cr_assert_eq(b->seen[0].status, DX_ST_OK);
	cr_assert_eq(b->seen[0].attempts, 1);
	cr_assert(b->seen[0].calls_null);
	cr_assert_eq(b->seen[0].ncalls, 0);
	cr_assert_eq(b->seen[5].status, DX_ST_FAILED);
	cr_assert_eq(b->seen[5].error.kind, DX_CONNECT_REFUSED);
	cr_assert_eq(atomic_load(&b->env.nstarted), 6);
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.ok, 5);
	cr_assert_eq(sum.failed, 1);
	cr_assert_leq(dx_queue_peak_running(b->q), 2);
	bench_free(b);
}

Test(queue, empty_queue_runs_and_reports_nothing)
{
	struct bench *b = bench_new(0, 4);
	struct dx_summary sum;

	bench_run(b);
	cr_assert_eq(b->ndone, 0);
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.drones, 0);
	cr_assert_null(dx_queue_error(b->q));
	cr_assert_eq(dx_queue_peak_running(b->q), 0);
	bench_free(b);
}

/* Deadline and abort. */

Test(queue, deadline_cuts_hanging_drones_and_skips_the_rest, .timeout = 30)
{
	struct bench *b = bench_new(10, 4);
	struct dx_summary sum;
	size_t i, failed = 0, skipped = 0;
	int64_t t0;

	for (i = 0; i < b->n; i++)
		b->fakes[i].mode = FK_HANG;
	b->opts.deadline_ms = 300;
	t0 = dx_now_ms();
	bench_run(b);
	bench_check_done_once(b);
	cr_assert_geq(b->run_ms, 290, "returned after %lld ms",
	    (long long)b->run_ms);
	cr_assert_lt(b->run_ms, 300 + 1500, "returned after %lld ms",
	    (long long)b->run_ms);
	for (i = 0; i < b->n; i++) {
		cr_assert_eq(b->seen[i].error.kind, DX_DEADLINE);
		if (b->seen[i].status == DX_ST_FAILED) {
			failed++;
			cr_assert_str_eq(b->seen[i].error.msg,
			    "call 'sleep' cut");
			cr_assert_geq(atomic_load(&b->fakes[i].seen_deadline),
			    t0 + 300);
			cr_assert_leq(atomic_load(&b->fakes[i].seen_deadline),
			    t0 + 300 + 100);
		} else {
			skipped++;
			cr_assert_eq(b->seen[i].status, DX_ST_SKIPPED);
			cr_assert_str_eq(b->seen[i].error.msg,
			    "not started: deadline of 0.3 s reached");
			cr_assert_eq(atomic_load(&b->fakes[i].execs), 0);
		}
	}
	cr_assert_eq(failed, 4);
	cr_assert_eq(skipped, 6);
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.failed, 4);
	cr_assert_eq(sum.skipped, 6);
	bench_free(b);
}

Test(queue, deadline_in_whole_seconds_is_said_in_seconds, .timeout = 30)
{
	struct bench *b = bench_new(2, 1);

	b->fakes[0].mode = FK_HANG;
	b->opts.deadline_ms = 1000;
	bench_run(b);
	cr_assert_eq(b->seen[1].status, DX_ST_SKIPPED);
	cr_assert_str_eq(b->seen[1].error.msg,
	    "not started: deadline of 1 s reached");
	cr_assert_eq(dx_ctl_aborted(&(struct dx_ctl){ .queue = b->q }),
	    DX_DEADLINE);
	bench_free(b);
}

static int64_t
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(queue, waiting_for_drones_and_retries_burns_no_cpu, .timeout = 30)
{
	struct bench *b = bench_new(4, 4);
	int64_t cpu0, cpu;

	/* Two drones hang until the deadline, two wait to retry: for 600 ms
	 * nothing has work to do, so nothing may spin. */
	b->fakes[0].mode = FK_HANG;
	b->fakes[1].mode = FK_HANG;
	b->fakes[2].mode = FK_FLAKY;
	b->fakes[2].kind = DX_CONNECT_REFUSED;
	b->fakes[2].times = 100;
	b->fakes[3] = b->fakes[2];
	b->fakes[3].id = 3;
	b->opts.retries = 3;
	b->opts.retry_delay_ms = 60000;
	b->opts.deadline_ms = 600;
	bench_make(b);
	cpu0 = cpu_ms();
	bench_run(b);
	cpu = cpu_ms() - cpu0;
	cr_assert_geq(b->run_ms, 590);
	cr_assert_lt(cpu, 150, "%lld ms of CPU in %lld ms", (long long)cpu,
	    (long long)b->run_ms);
	cr_assert_eq(b->seen[2].attempts, 1);
	cr_assert_eq(b->seen[3].attempts, 1);
	bench_free(b);
}

Test(queue, no_deadline_leaves_ctl_deadline_zero)
{
	struct bench *b = bench_new(3, 3);

	b->opts.fail_fast = true;
	bench_run(b);
	cr_assert_eq(atomic_load(&b->fakes[0].seen_deadline), 0);
	cr_assert(atomic_load(&b->fakes[0].seen_fail_fast));
	cr_assert_eq(dx_ctl_aborted(&(struct dx_ctl){ .queue = b->q }),
	    DX_OK);
	bench_free(b);
}

struct aborter {
	struct dx_queue	*q;
	int		 after_ms;
	enum dx_kind	 why;
};

static void *
aborter_main(void *arg)
{
	struct aborter *a = arg;

	msleep(a->after_ms);
	dx_queue_abort(a->q, a->why);
	return NULL;
}

Test(queue, abort_from_another_thread_interrupts_the_run, .timeout = 30)
{
	struct bench *b = bench_new(12, 3);
	struct aborter a;
	pthread_t tid;
	size_t i, failed = 0, skipped = 0;
	char *e;

	for (i = 0; i < b->n; i++)
		b->fakes[i].mode = FK_HANG;
	b->opts.deadline_ms = 20000;	/* must not be what ends it */
	bench_make(b);
	a.q = b->q;
	a.after_ms = 150;
	a.why = DX_INTERRUPTED;
	cr_assert_eq(pthread_create(&tid, NULL, aborter_main, &a), 0);
	bench_run(b);
	pthread_join(tid, NULL);
	bench_check_done_once(b);
	cr_assert_lt(b->run_ms, 5000);
	for (i = 0; i < b->n; i++) {
		cr_assert_eq(b->seen[i].error.kind, DX_INTERRUPTED);
		if (b->seen[i].status == DX_ST_FAILED) {
			failed++;
			cr_assert_eq(atomic_load(&b->fakes[i].seen_abort),
			    DX_INTERRUPTED);
		} else {
			skipped++;
			cr_assert_str_eq(b->seen[i].error.msg,
			    "not started: interrupted");
		}
	}
	cr_assert_eq(failed, 3);
	cr_assert_eq(skipped, 9);
	e = dx_queue_error(b->q);
	cr_assert_not_null(e);
	cr_assert_str_eq(e, "3 of 12 drones failed, 9 skipped: d-[0000-0002] "
	    "(interrupted), d-[0003-0011] (skipped: interrupted)");
	free(e);
	bench_free(b);
}

Test(queue, abort_before_run_skips_everything_and_first_reason_wins)
{
	struct bench *b = bench_new(5, 2);
	size_t i;

	bench_make(b);
	dx_queue_abort(b->q, DX_INTERRUPTED);
	dx_queue_abort(b->q, DX_DEADLINE);
	bench_run(b);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++) {
		cr_assert_eq(b->seen[i].status, DX_ST_SKIPPED);
		cr_assert_eq(b->seen[i].error.kind, DX_INTERRUPTED);
		cr_assert_eq(atomic_load(&b->fakes[i].execs), 0);
	}
	cr_assert_eq(atomic_load(&b->env.nstarted), 0);
	bench_free(b);
}

Test(queue, abort_pipe_stays_readable_for_every_poller, .timeout = 30)
{
	struct bench *b = bench_new(8, 8);
	struct aborter a;
	pthread_t tid;
	size_t i;

	/* All eight wait on the pipe; one byte must wake every one. */
	for (i = 0; i < b->n; i++)
		b->fakes[i].mode = FK_HANG;
	bench_make(b);
	a.q = b->q;
	a.after_ms = 100;
	a.why = DX_INTERRUPTED;
	cr_assert_eq(pthread_create(&tid, NULL, aborter_main, &a), 0);
	bench_run(b);
	pthread_join(tid, NULL);
	for (i = 0; i < b->n; i++) {
		cr_assert_eq(b->seen[i].status, DX_ST_FAILED);
		cr_assert(atomic_load(&b->fakes[i].seen_pollin), "drone %zu", i);
	}
	cr_assert_eq(dx_ctl_aborted(&(struct dx_ctl){ .queue = b->q }),
	    DX_INTERRUPTED);
	cr_assert_eq(dx_ctl_aborted(NULL), DX_OK);
	bench_free(b);
}

/* The circuit breaker. */

Test(queue, max_failures_stops_starting_drones)
{
	struct bench *b = bench_new(20, 1);
	struct dx_summary sum;
	size_t i;

	for (i = 0; i < b->n; i++) {
		b->fakes[i].mode = FK_FAIL;
		b->fakes[i].kind = DX_AUTH;
		b->fakes[i].msg = "denied";
	}
	b->opts.max_failures = 3;
	bench_run(b);
	bench_check_done_once(b);
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.failed, 3);
	cr_assert_eq(sum.skipped, 17);
	cr_assert_eq(atomic_load(&b->env.nstarted), 3);
	for (i = 3; i < b->n; i++) {
		cr_assert_eq(b->seen[i].status, DX_ST_SKIPPED);
		cr_assert_eq(b->seen[i].error.kind, DX_MAX_FAILURES);
		cr_assert_str_eq(b->seen[i].error.msg,
		    "not started: 3 drones failed (--max-failures 3)");
	}
	bench_free(b);
}

Test(queue, max_failures_lets_running_drones_finish, .timeout = 30)
{
	struct bench *b = bench_new(40, 4);
	struct dx_summary sum;
	size_t i, started;

	for (i = 0; i < b->n; i++) {
		b->fakes[i].mode = i % 2 ? FK_FAIL : FK_SLEEP;
		b->fakes[i].kind = DX_CONNECT_REFUSED;
		b->fakes[i].msg = "refused";
		b->fakes[i].sleep_ms = 5;
	}
	b->opts.max_failures = 2;
	bench_run(b);
	bench_check_done_once(b);
	dx_queue_summary(b->q, &sum);
	started = atomic_load(&b->env.nstarted);
	cr_assert_geq(sum.failed, 2);
	cr_assert_leq(sum.failed, 2 + 3);
	cr_assert_eq(sum.ok + sum.failed, started);
	cr_assert_eq(sum.skipped, 40 - started);
	cr_assert_gt(sum.skipped, 0);
	bench_free(b);
}

Test(queue, skipped_drones_do_not_trip_the_breaker)
{
	struct bench *b = bench_new(4, 1);
	struct dx_summary sum;

	b->fakes[0].mode = FK_FAIL;
	b->fakes[0].kind = DX_AUTH;
	b->fakes[0].msg = "denied";
	b->opts.max_failures = 2;
	bench_run(b);
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.failed, 1);
	cr_assert_eq(sum.ok, 3);
	bench_free(b);
}

/* Retries. */

Test(queue, connection_failures_are_retried_until_success)
{
	struct bench *b = bench_new(1, 1);

	b->fakes[0].mode = FK_FLAKY;
	b->fakes[0].kind = DX_CONNECT_REFUSED;
	b->fakes[0].times = 2;
	b->opts.retries = 3;
	b->opts.retry_delay_ms = 10;
	bench_run(b);
	cr_assert_eq(b->seen[0].status, DX_ST_OK, "%s", b->seen[0].error.msg);
	cr_assert_eq(b->seen[0].attempts, 3);
	cr_assert_eq(atomic_load(&b->fakes[0].execs), 3);
	bench_free(b);
}

Test(queue, retries_stop_after_the_last_attempt)
{
	static const enum dx_kind kinds[] = { DX_RESOLVE, DX_CONNECT_REFUSED,
	    DX_CONNECT_TIMEOUT, DX_NETWORK, DX_HANDSHAKE, DX_CONNECTION_LOST };
	size_t n = sizeof(kinds) / sizeof(kinds[0]), i;
	struct bench *b = bench_new(n, 8);

	for (i = 0; i < n; i++) {
		b->fakes[i].mode = FK_FLAKY;
		b->fakes[i].kind = kinds[i];
		b->fakes[i].times = 100;
	}
	b->opts.retries = 2;
	bench_run(b);
	for (i = 0; i < n; i++) {
		cr_assert_eq(b->seen[i].status, DX_ST_FAILED);
		cr_assert_eq(b->seen[i].error.kind, kinds[i]);
		cr_assert_eq(b->seen[i].attempts, 3, "%s: %d attempts",
		    dx_kind_name(kinds[i]), b->seen[i].attempts);
		cr_assert_str_eq(b->seen[i].error.msg,
		    "connection to 'd' failed (attempt 3)");
	}
	bench_free(b);
}

Test(queue, no_retry_once_a_call_was_sent)
{
	struct bench *b = bench_new(1, 1);

	b->fakes[0].mode = FK_FAIL;
	b->fakes[0].kind = DX_CONNECTION_LOST;
	b->fakes[0].msg = "connection lost during call 'uptime'";
	b->fakes[0].sent = true;
	b->opts.retries = 3;
	bench_run(b);
	cr_assert_eq(b->seen[0].status, DX_ST_FAILED);
	cr_assert_eq(b->seen[0].attempts, 1);
	cr_assert_eq(atomic_load(&b->fakes[0].execs), 1);
	cr_assert_eq(b->seen[0].ncalls, 1);
	bench_free(b);
}

Test(queue, no_retry_for_non_connection_kinds)
{
	static const enum dx_kind kinds[] = { DX_AUTH, DX_HOSTKEY_MISMATCH,
	    DX_HOSTKEY_UNKNOWN, DX_INTERNAL, DX_OUTPUT, DX_CHANNEL };
	size_t n = sizeof(kinds) / sizeof(kinds[0]), i;
	struct bench *b = bench_new(n, 2);

	for (i = 0; i < n; i++) {
		b->fakes[i].mode = FK_FAIL;
		b->fakes[i].kind = kinds[i];
		b->fakes[i].msg = "no";
	}
	b->opts.retries = 5;
	bench_run(b);
	for (i = 0; i < n; i++) {
		cr_assert_eq(b->seen[i].attempts, 1, "%s",
		    dx_kind_name(kinds[i]));
		cr_assert_eq(atomic_load(&b->fakes[i].execs), 1);
	}
	bench_free(b);
}

Test(queue, retry_delay_is_waited_and_counted_in_elapsed)
{
	struct bench *b = bench_new(1, 1);

	b->fakes[0].mode = FK_FLAKY;
	b->fakes[0].kind = DX_CONNECT_TIMEOUT;
	b->fakes[0].times = 2;
	b->opts.retries = 2;
	b->opts.retry_delay_ms = 100;
	bench_run(b);
	cr_assert_eq(b->seen[0].status, DX_ST_OK);
	cr_assert_eq(b->seen[0].attempts, 3);
	cr_assert_geq(b->seen[0].elapsed_ms, 200);
	cr_assert_lt(b->seen[0].elapsed_ms, 2000);
	bench_free(b);
}

Test(queue, abort_ends_a_retry_wait_at_once, .timeout = 30)
{
	struct bench *b = bench_new(3, 3);
	struct aborter a;
	pthread_t tid;
	size_t i;

	for (i = 0; i < b->n; i++) {
		b->fakes[i].mode = FK_FLAKY;
		b->fakes[i].kind = DX_CONNECT_REFUSED;
		b->fakes[i].times = 100;
	}
	b->opts.retries = 5;
	b->opts.retry_delay_ms = 60000;
	bench_make(b);
	a.q = b->q;
	a.after_ms = 100;
	a.why = DX_INTERRUPTED;
	cr_assert_eq(pthread_create(&tid, NULL, aborter_main, &a), 0);
	bench_run(b);
	pthread_join(tid, NULL);
	cr_assert_lt(b->run_ms, 5000);
	for (i = 0; i < b->n; i++) {
		/* The last real failure is kept: it says what happened. */
		cr_assert_eq(b->seen[i].status, DX_ST_FAILED);
		cr_assert_eq(b->seen[i].error.kind, DX_CONNECT_REFUSED);
		cr_assert_eq(b->seen[i].attempts, 1);
	}
	bench_free(b);
}

Test(queue, deadline_ends_a_retry_wait, .timeout = 30)
{
	struct bench *b = bench_new(1, 1);

	b->fakes[0].mode = FK_FLAKY;
	b->fakes[0].kind = DX_NETWORK;
	b->fakes[0].times = 100;
	b->opts.retries = 5;
	b->opts.retry_delay_ms = 60000;
	b->opts.deadline_ms = 200;
	bench_run(b);
	cr_assert_lt(b->run_ms, 3000);
	cr_assert_eq(b->seen[0].attempts, 1);
	cr_assert_eq(b->seen[0].error.kind, DX_NETWORK);
	bench_free(b);
}

/* done() and scale. */

Test(queue, done_is_called_once_per_drone_with_its_index, .timeout = 60)
{
	struct bench *b = bench_new(300, 16);
	size_t i;

	for (i = 0; i < b->n; i++) {
		b->fakes[i].priority = (int)(i % 7);
		switch (i % 5) {
		case 0:
			b->fakes[i].ncalls = 0;
			break;
		case 1:
			b->fakes[i].mode = FK_FAIL;
			b->fakes[i].kind = DX_NONZERO_EXIT;
			b->fakes[i].msg = "exit 1";
			break;
		case 2:
			b->fakes[i].mode = FK_SLEEP;
			b->fakes[i].sleep_ms = 2;
			break;
		case 3:
			b->fakes[i].mode = FK_FLAKY;
			b->fakes[i].kind = DX_CONNECT_REFUSED;
			b->fakes[i].times = 1;
			break;
		}
	}
	b->opts.retries = 1;
	bench_run(b);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->seen[i].status,
		    i % 5 == 1 ? DX_ST_FAILED : DX_ST_OK, "drone %zu", i);
	bench_free(b);
}

Test(queue, done_may_take_heap_parts_of_the_result)
{
	struct bench *b = bench_new(4, 2);

	b->steal_output = true;
	bench_run(b);
	bench_check_done_once(b);
	bench_free(b);
}

static void
check_thousand(size_t fanout)
{
	struct bench *b = bench_new(1000, fanout);
	struct dx_summary sum;

	bench_run(b);
	bench_check_done_once(b);
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.ok, 1000);
	cr_assert_leq(dx_queue_peak_running(b->q), fanout);
	cr_assert_leq((size_t)atomic_load(&b->env.peak), fanout);
	cr_log_info("1000 drones at fan-out %zu: %lld ms, peak %zu", fanout,
	    (long long)b->run_ms, dx_queue_peak_running(b->q));
	fprintf(stderr, "1000 drones at fan-out %zu: %lld ms, peak %zu\n",
	    fanout, (long long)b->run_ms, dx_queue_peak_running(b->q));
	bench_free(b);
}

Test(queue, thousand_drones_at_fanout_64, .timeout = 120)
{
	check_thousand(64);
}

Test(queue, thousand_drones_at_fanout_1000, .timeout = 120)
{
	check_thousand(1000);
}

static void *
pair_main(void *arg)
{
	bench_run(arg);
	return NULL;
}

Test(queue, two_queues_run_at_once_without_sharing_state, .timeout = 30)
{
	struct bench *hung = bench_new(4, 2), *fine = bench_new(30, 4);
	pthread_t tid;
	size_t i;

	for (i = 0; i < hung->n; i++)
		hung->fakes[i].mode = FK_HANG;
	for (i = 0; i < fine->n; i++) {
		fine->fakes[i].mode = FK_SLEEP;
		fine->fakes[i].sleep_ms = 5;
	}
	bench_make(hung);
	bench_make(fine);
	cr_assert_eq(pthread_create(&tid, NULL, pair_main, hung), 0);
	bench_run(fine);
	dx_queue_abort(hung->q, DX_INTERRUPTED);
	pthread_join(tid, NULL);
	for (i = 0; i < fine->n; i++)
		cr_assert_eq(fine->seen[i].status, DX_ST_OK);
	for (i = 0; i < hung->n; i++)
		cr_assert_eq(hung->seen[i].error.kind, DX_INTERRUPTED);
	bench_check_done_once(hung);
	bench_check_done_once(fine);
	bench_free(hung);
	bench_free(fine);
}

/* Threads that cannot start. */

Test(queue, thread_start_failure_fails_the_drone_not_the_run)
{
	struct bench *b = bench_new(3, 2);
	size_t i;

	/* No machine maps a 64 TiB stack: pthread_create() must fail. */
	b->opts.stack_size = (size_t)1 << 46;
	bench_run(b);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++) {
		cr_assert_eq(b->seen[i].status, DX_ST_FAILED);
		cr_assert_eq(b->seen[i].error.kind, DX_INTERNAL);
		cr_assert(strncmp(b->seen[i].error.msg,
		    "cannot start thread: ", 21) == 0, "%s",
		    b->seen[i].error.msg);
	}
	cr_assert_eq(atomic_load(&b->env.nstarted), 0);
	cr_assert_eq(dx_queue_peak_running(b->q), 0);
	bench_free(b);
}

/*
 * Sanitizers reserve terabytes of shadow memory and die when an mmap fails,
 * so the address-space limit below is only tried without them.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TEST_SANITIZED 1
#endif
#endif

Test(queue, threads_refused_while_others_run_wait_for_a_slot, .timeout = 60)
{
#ifdef TEST_SANITIZED
	cr_skip_test("an address-space limit breaks sanitizers");
#else
	struct bench *b = bench_new(8, 8);
	struct rlimit old, lim;
	unsigned long pages = 0;
	FILE *f;
	size_t i;

	if (getenv("DX_TEST_NO_RLIMIT") != NULL)
		cr_skip_test("DX_TEST_NO_RLIMIT is set");
	/* Room for about two 64 MiB stacks beyond what is mapped now. */
	cr_assert_not_null(f = fopen("/proc/self/statm", "r"));
	cr_assert_eq(fscanf(f, "%lu", &pages), 1);
	fclose(f);
	for (i = 0; i < b->n; i++) {
		b->fakes[i].mode = FK_SLEEP;
		b->fakes[i].sleep_ms = 50;
	}
	b->opts.stack_size = (size_t)64 << 20;
	bench_make(b);
	cr_assert_eq(getrlimit(RLIMIT_AS, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) +
	    ((rlim_t)160 << 20);
	cr_assert_eq(setrlimit(RLIMIT_AS, &lim), 0);
	bench_run(b);
	cr_assert_eq(setrlimit(RLIMIT_AS, &old), 0);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->seen[i].status, DX_ST_OK, "drone %zu: %s", i,
		    b->seen[i].error.msg);
	cr_assert_geq(dx_queue_peak_running(b->q), 1);
	cr_assert_lt(dx_queue_peak_running(b->q), 8,
	    "the limit did not bite: %zu threads at once",
	    dx_queue_peak_running(b->q));
	bench_free(b);
#endif
}

/* API misuse is an error value. */

Test(queue, bad_options_and_misuse_are_errors)
{
	struct env env;
	struct fake f;
	struct dx_queue_opts opts;
	struct dx_queue *q;
	struct dx_err err;
	struct dx_job job;

	memset(&opts, 0, sizeof(opts));
	cr_assert_null(dx_queue_new(&opts, fake_exec, NULL, &err));
	cr_assert_eq(err.kind, DX_USAGE);
	opts.fanout = 1;
	opts.retries = -1;
	cr_assert_null(dx_queue_new(&opts, fake_exec, NULL, &err));
	cr_assert_eq(err.kind, DX_USAGE);
	opts.retries = 0;
	cr_assert_null(dx_queue_new(&opts, NULL, NULL, &err));
	/* The job without calls is run too (it must be reached). */
	memset(&env, 0, sizeof(env));
	memset(&f, 0, sizeof(f));
	f.env = &env;
	q = dx_queue_new(&opts, fake_exec, &env, &err);
	cr_assert_not_null(q);
	memset(&job, 0, sizeof(job));
	job.drone = &f;
	cr_assert_eq(dx_queue_add(q, &job, &err), -1);
	job.name = "x";
	job.ncalls = 1;
	cr_assert_eq(dx_queue_add(q, &job, &err), -1);
	job.ncalls = 0;
	cr_assert_eq(dx_queue_add(q, &job, &err), 0);
	cr_assert_eq(dx_queue_outcome(q, 0)->status, DX_ST_PENDING);
	cr_assert_null(dx_queue_error(q));
	cr_assert_eq(dx_queue_run(q, NULL, NULL, &err), 0);
	cr_assert_eq(dx_queue_outcome(q, 0)->status, DX_ST_OK);
	cr_assert_eq(atomic_load(&f.execs), 1);
	cr_assert_eq(dx_queue_run(q, NULL, NULL, &err), -1);
	cr_assert_eq(dx_queue_add(q, &job, &err), -1);
	dx_queue_free(q);
	dx_queue_free(NULL);
}

/* The long-lived queue: started, then fed. */

Test(queue, jobs_added_while_it_runs_all_run_once, .timeout = 60)
{
	struct bench *b = bench_new(60, 4);
	struct dx_summary sum;
	struct dx_err err;
	struct dx_job job;
	size_t i;

	for (i = 0; i < b->n; i++) {
		b->fakes[i].mode = FK_SLEEP;
		b->fakes[i].sleep_ms = (int)(i % 3);
	}
	bench_make_n(b, 0);
	bench_start(b);
	/* An empty running queue waits for nothing. */
	bench_wait(b);
	for (i = 0; i < b->n; i++) {
		bench_add(b, i);
		if (i % 10 == 9)
			msleep(5);
	}
	bench_wait(b);
	bench_check_done_once(b);
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.ok, 60);
	cr_assert_leq(dx_queue_peak_running(b->q), 4);
	cr_assert_leq((size_t)atomic_load(&b->env.peak), 4);
	cr_assert_eq(dx_queue_stop(b->q, &err), 0, "%s", err.msg);
	/* A finished queue that stops aborts nothing. */
	cr_assert_eq(dx_ctl_aborted(&(struct dx_ctl){ .queue = b->q }), DX_OK);
	memset(&job, 0, sizeof(job));
	job.name = "late";
	cr_assert_eq(dx_queue_add(b->q, &job, &err), -1);
	cr_assert_eq(dx_queue_stop(b->q, &err), 0);
	cr_assert_eq(dx_queue_start(b->q, NULL, NULL, &err), -1);
	cr_assert_eq(dx_queue_run(b->q, NULL, NULL, &err), -1);
	bench_free(b);
}

Test(queue, done_may_feed_the_queue_but_not_wait_for_it, .timeout = 60)
{
	struct bench *b = bench_new(40, 3);
	size_t i;

	b->feed = 20;
	b->try_blocking = true;
	bench_make_n(b, 20);
	bench_start(b);
	bench_wait(b);
	cr_assert_eq(dx_queue_size(b->q), 40);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->seen[i].status, DX_ST_OK);
	/* Every done() had wait, drain and stop refused. */
	cr_assert_eq(b->blocking_refused, 3 * 40);
	bench_free(b);
}

Test(queue, dx_queue_run_also_takes_jobs_from_done, .timeout = 60)
{
	struct bench *b = bench_new(10, 2);

	b->feed = 5;
	b->try_blocking = true;
	bench_make_n(b, 5);
	bench_run(b);
	bench_check_done_once(b);
	cr_assert_eq(b->blocking_refused, 3 * 10);
	bench_free(b);
}

Test(queue, ids_and_job_pointers_stay_stable_while_adding)
{
	struct bench *b = bench_new(5000, 4);
	const struct dx_job *first;
	const struct dx_outcome *o;
	size_t i;

	bench_make_n(b, 1);
	first = dx_queue_job(b->q, 0);
	o = dx_queue_outcome(b->q, 0);
	for (i = 1; i < b->n; i++)
		bench_add(b, i);
	cr_assert_eq(dx_queue_job(b->q, 0), first);
	cr_assert_eq(dx_queue_outcome(b->q, 0), o);
	cr_assert_str_eq(first->name, "d-0000");
	cr_assert_str_eq(dx_queue_job(b->q, 4999)->name, "d-4999");
	cr_assert_null(dx_queue_job(b->q, 5000));
	bench_run(b);
	bench_check_done_once(b);
	bench_free(b);
}

/* Aborting one job. */

Test(queue, abort_job_skips_a_waiting_job_at_once, .timeout = 30)
{
	struct bench *b = bench_new(4, 1);
	struct dx_err err;

	gate_init(b, 0);
	bench_make(b);
	bench_start(b);
	bench_wait_started(b, 1);
	cr_assert_eq(dx_queue_abort_job(b->q, 2, DX_INTERRUPTED, &err), 0);
	cr_assert_eq(dx_queue_abort_job(b->q, 3, DX_DEADLINE, &err), 0);
	/* Skipped while job 0 still holds the only slot. */
	bench_wait_done(b, 2);
	bench_wait_done(b, 3);
	cr_assert_not(bench_seen(b, 0));
	cr_assert_eq(dx_queue_abort_job(b->q, 3, DX_INTERRUPTED, &err), -1);
	cr_assert_eq(err.kind, DX_USAGE);
	cr_assert_str_eq(err.msg, "job 3 ('d-0003') has already finished");
	gate_open(b, 0);
	bench_wait(b);
	bench_check_done_once(b);
	cr_assert_eq(b->seen[0].status, DX_ST_OK);
	cr_assert_eq(b->seen[1].status, DX_ST_OK);
	cr_assert_eq(b->seen[2].status, DX_ST_SKIPPED);
	cr_assert_eq(b->seen[2].error.kind, DX_INTERRUPTED);
	cr_assert_str_eq(b->seen[2].error.msg, "not started: interrupted");
	cr_assert_eq(b->seen[3].error.kind, DX_DEADLINE);
	cr_assert_str_eq(b->seen[3].error.msg, "not started: aborted (deadline)");
	cr_assert_eq(atomic_load(&b->fakes[2].execs), 0);
	cr_assert_eq(atomic_load(&b->fakes[3].execs), 0);
	cr_assert_eq(dx_queue_abort_job(b->q, 9, DX_INTERRUPTED, &err), -1);
	cr_assert_eq(err.kind, DX_USAGE);
	cr_assert_str_eq(err.msg, "no job 9 in the queue");
	/* The run itself was never aborted. */
	cr_assert_eq(dx_ctl_aborted(&(struct dx_ctl){ .queue = b->q }), DX_OK);
	bench_free(b);
}

Test(queue, abort_job_cuts_one_running_job_and_no_other, .timeout = 30)
{
	struct bench *b = bench_new(4, 4);
	struct dx_err err;
	size_t i, j;

	for (i = 0; i < b->n; i++)
		gate_init(b, i);
	bench_make(b);
	bench_start(b);
	bench_wait_started(b, 4);
	cr_assert_eq(dx_queue_abort_job(b->q, 1, DX_INTERRUPTED, &err), 0);
	bench_wait_done(b, 1);
	/* The others still run, and their descriptors stayed quiet. */
	for (i = 0; i < b->n; i++)
		if (i != 1)
			cr_assert_not(bench_seen(b, i), "job %zu", i);
	for (i = 0; i < b->n; i++) {
		if (i != 1)
			gate_open(b, i);
		for (j = 0; j < i; j++)
			cr_assert_neq(atomic_load(&b->fakes[i].seen_abort_fd),
			    atomic_load(&b->fakes[j].seen_abort_fd),
			    "jobs %zu and %zu share an abort descriptor", i, j);
	}
	bench_wait(b);
	bench_check_done_once(b);
	cr_assert_eq(b->seen[1].status, DX_ST_FAILED);
	cr_assert_eq(b->seen[1].error.kind, DX_INTERRUPTED);
	cr_assert_eq(atomic_load(&b->fakes[1].seen_abort), DX_INTERRUPTED);
	for (i = 0; i < b->n; i++) {
		if (i == 1)
			continue;
		cr_assert_eq(b->seen[i].status, DX_ST_OK, "job %zu: %s", i,
		    b->seen[i].error.msg);
		cr_assert_not(atomic_load(&b->fakes[i].seen_pollin));
		cr_assert_eq(atomic_load(&b->fakes[i].seen_abort), DX_OK);
	}
	cr_assert_eq(dx_ctl_aborted(&(struct dx_ctl){ .queue = b->q }), DX_OK);
	bench_free(b);
}

Test(queue, abort_job_ends_its_retry_wait_and_is_not_retried, .timeout = 30)
{
	struct bench *b = bench_new(2, 2);
	struct dx_err err;

	b->fakes[0].mode = FK_FLAKY;
	b->fakes[0].kind = DX_CONNECT_REFUSED;
	b->fakes[0].times = 100;
	gate_init(b, 1);
	b->opts.retries = 5;
	b->opts.retry_delay_ms = 60000;
	bench_make(b);
	bench_start(b);
	bench_wait_started(b, 2);
	cr_assert_eq(dx_queue_abort_job(b->q, 0, DX_INTERRUPTED, &err), 0);
	bench_wait_done(b, 0);
	cr_assert_eq(b->seen[0].status, DX_ST_FAILED);
	cr_assert_eq(b->seen[0].error.kind, DX_CONNECT_REFUSED);
	cr_assert_eq(b->seen[0].attempts, 1);
	cr_assert_not(bench_seen(b, 1));
	gate_open(b, 1);
	bench_wait(b);
	cr_assert_eq(b->seen[1].status, DX_ST_OK);
	bench_free(b);
}

/*
 * The race of an abort that lands while the job's executor is in its
 * connect wait, or just before it gets there: the test thread aborts each
 * even job the moment its execution starts.  Each must end promptly, by
 * its own abort; the odd ones, connecting at the same time, never see one.
 */
Test(queue, abort_during_connect_ends_that_job_promptly, .timeout = 60)
{
	struct bench *b = bench_new(40, 4);
	struct dx_err err;
	size_t i, k, id;
	int64_t t0;

	for (i = 0; i < b->n; i++) {
		b->fakes[i].mode = FK_CONNECT;
		b->fakes[i].sleep_ms = i % 2 ? 20 : 30000;
	}
	b->opts.retries = 3;
	b->env.notify = true;
	bench_make(b);
	t0 = dx_now_ms();
	bench_start(b);
	for (k = 0; k < b->n; k++) {
		cr_assert_eq(sem_wait(&b->env.started), 0);
		id = b->env.order[k];
		if (id % 2 == 0)
			cr_assert_eq(dx_queue_abort_job(b->q, id,
			    DX_INTERRUPTED, &err), 0, "%s", err.msg);
	}
	bench_wait(b);
	cr_assert_lt(dx_now_ms() - t0, 10000);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++) {
		cr_assert_eq(atomic_load(&b->fakes[i].execs), 1, "job %zu", i);
		cr_assert_eq(b->seen[i].attempts, 1);
		if (i % 2 == 0) {
			cr_assert_eq(b->seen[i].status, DX_ST_FAILED);
			cr_assert_eq(b->seen[i].error.kind, DX_INTERRUPTED);
			cr_assert_eq(atomic_load(&b->fakes[i].seen_abort),
			    DX_INTERRUPTED);
			cr_assert_lt(b->seen[i].elapsed_ms, 5000);
		} else {
			cr_assert_eq(b->seen[i].status, DX_ST_OK, "job %zu: %s",
			    i, b->seen[i].error.msg);
			cr_assert_not(atomic_load(&b->fakes[i].seen_pollin));
		}
	}
	bench_free(b);
}

/* Priorities while waiting. */

Test(queue, set_priority_reorders_waiting_jobs_only, .timeout = 30)
{
	static const size_t want[] = { 0, 4, 3, 1, 2 };
	struct bench *b = bench_new(5, 1);
	struct dx_err err;
	size_t i;

	gate_init(b, 0);
	bench_make(b);
	bench_start(b);
	bench_wait_started(b, 1);
	cr_assert_eq(dx_queue_set_priority(b->q, 4, 10, &err), 0);
	cr_assert_eq(dx_queue_set_priority(b->q, 3, 5, &err), 0);
	cr_assert_eq(dx_queue_job(b->q, 4)->priority, 10);
	cr_assert_eq(dx_queue_set_priority(b->q, 0, 99, &err), -1);
	cr_assert_eq(err.kind, DX_USAGE);
	cr_assert_str_eq(err.msg, "job 0 ('d-0000') is running: only a "
	    "waiting job's priority can change");
	cr_assert_eq(dx_queue_set_priority(b->q, 5, 1, &err), -1);
	cr_assert_eq(err.kind, DX_USAGE);
	cr_assert_str_eq(err.msg, "no job 5 in the queue");
	gate_open(b, 0);
	bench_wait(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->env.order[i], want[i], "start %zu: job %zu",
		    i, b->env.order[i]);
	cr_assert_eq(atomic_load(&b->fakes[4].seen_priority), 10);
	cr_assert_eq(dx_queue_job(b->q, 0)->priority, 0);
	cr_assert_eq(dx_queue_set_priority(b->q, 1, 3, &err), -1);
	cr_assert_str_eq(err.msg, "job 1 ('d-0001') has finished: only a "
	    "waiting job's priority can change");
	bench_free(b);
}

/*
 * The race of a priority change at the moment a slot frees: as each job's
 * execution ends, the test re-prioritises the next one, which the
 * dispatcher is starting at that very moment.  Whichever wins, the change
 * is either made while the job waits (the executor then sees it) or
 * refused because the job started (the executor saw the old one).
 */
Test(queue, priority_change_as_a_slot_frees_is_made_or_refused, .timeout = 60)
{
	struct bench *b = bench_new(300, 1);
	struct timespec ts;
	struct dx_err err;
	volatile int spin;
	int *rc;
	size_t i, made = 0, refused = 0;

	cr_assert_not_null(rc = calloc(b->n, sizeof(*rc)));
	b->env.notify = true;
	bench_make(b);
	bench_start(b);
	for (i = 0; i + 1 < b->n; i++) {
		cr_assert_eq(sem_wait(&b->env.ended), 0);
		/* At once, or a little late: both sides of the race win some. */
		if (i % 4 == 1)
			sched_yield();
		else if (i % 4 == 2)
			for (spin = 0; spin < 2000; spin = spin + 1)
				;
		else if (i % 4 == 3) {
			ts.tv_sec = 0;
			ts.tv_nsec = 10000L;
			nanosleep(&ts, NULL);
		}
		rc[i + 1] = dx_queue_set_priority(b->q, i + 1, 5, &err);
		if (rc[i + 1] == -1)
			cr_assert(strstr(err.msg, "is running") != NULL ||
			    strstr(err.msg, "has finished") != NULL, "%s",
			    err.msg);
	}
	bench_wait(b);
	bench_check_done_once(b);
	for (i = 1; i < b->n; i++) {
		cr_assert_eq(atomic_load(&b->fakes[i].execs), 1);
		cr_assert_eq(b->env.order[i], i);
		if (rc[i] == 0) {
			made++;
			cr_assert_eq(atomic_load(&b->fakes[i].seen_priority), 5,
			    "job %zu: change made but not seen", i);
			cr_assert_eq(dx_queue_job(b->q, i)->priority, 5);
		} else {
			refused++;
			cr_assert_eq(atomic_load(&b->fakes[i].seen_priority), 0,
			    "job %zu: change refused but seen", i);
			cr_assert_eq(dx_queue_job(b->q, i)->priority, 0);
		}
	}
	cr_log_info("priority at a free slot: %zu made, %zu refused", made,
	    refused);
	free(rc);
	bench_free(b);
}

/* Resize. */

Test(queue, resize_up_at_run_time_starts_more_at_once, .timeout = 60)
{
	struct bench *b = bench_new(8, 1);
	struct dx_err err;
	size_t i;

	/* Four must meet, and the first waits for them: only a resize helps. */
	b->env.meet = 4;
	for (i = 0; i < b->n; i++)
		b->fakes[i].mode = FK_MEET;
	bench_make(b);
	bench_start(b);
	bench_wait_started(b, 1);
	cr_assert_eq(dx_queue_resize(b->q, 0, &err), -1);
	cr_assert_eq(err.kind, DX_USAGE);
	cr_assert_eq(dx_queue_resize(b->q, 4, &err), 0);
	bench_wait(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->seen[i].status, DX_ST_OK, "%s",
		    b->seen[i].error.msg);
	cr_assert_eq(dx_queue_peak_running(b->q), 4);
	bench_free(b);
}

Test(queue, resize_down_while_full_kills_nothing, .timeout = 60)
{
	struct bench *b = bench_new(12, 4);
	struct dx_err err;
	size_t i;

	for (i = 0; i < 4; i++)
		gate_init(b, i);
	bench_make(b);
	bench_start(b);
	bench_wait_started(b, 4);
	cr_assert_eq(dx_queue_resize(b->q, 2, &err), 0);
	/* 3, then 2 running: neither is below the new limit. */
	gate_open(b, 0);
	bench_wait_done(b, 0);
	gate_open(b, 1);
	bench_wait_done(b, 1);
	msleep(50);
	cr_assert_eq(atomic_load(&b->env.nstarted), 4);
	for (i = 2; i < 4; i++)
		cr_assert_not(bench_seen(b, i));
	gate_open(b, 2);
	/* Job 3 stays in its gate; the rest run beside it, one at a time. */
	cr_assert_not(bench_seen(b, 3));
	for (i = 4; i < b->n; i++) {
		bench_wait_done(b, i);
		cr_assert_leq(atomic_load(&b->fakes[i].seen_inflight), 2,
		    "job %zu started beside %d", i,
		    atomic_load(&b->fakes[i].seen_inflight) - 1);
	}
	gate_open(b, 3);
	bench_wait(b);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->seen[i].status, DX_ST_OK, "job %zu", i);
	cr_assert_eq(dx_queue_peak_running(b->q), 4);
	bench_free(b);
}

/* Pause, resume, drain, wait, stop. */

Test(queue, pause_before_start_holds_every_job_until_resume, .timeout = 30)
{
	struct bench *b = bench_new(6, 2);
	size_t i;

	bench_make_n(b, 3);
	dx_queue_pause(b->q);
	bench_start(b);
	for (i = 3; i < b->n; i++)
		bench_add(b, i);
	msleep(50);
	cr_assert_eq(atomic_load(&b->env.nstarted), 0);
	dx_queue_resume(b->q);
	bench_wait(b);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->seen[i].status, DX_ST_OK);
	bench_free(b);
}

Test(queue, pause_lets_running_jobs_finish_and_starts_nothing, .timeout = 30)
{
	struct bench *b = bench_new(4, 1);
	struct dx_err err;

	gate_init(b, 0);
	bench_make(b);
	bench_start(b);
	bench_wait_started(b, 1);
	dx_queue_pause(b->q);
	gate_open(b, 0);
	bench_wait_done(b, 0);
	cr_assert_eq(b->seen[0].status, DX_ST_OK);
	msleep(50);
	cr_assert_eq(atomic_load(&b->env.nstarted), 1);
	/* Paused, a waiting job can still be aborted: it is skipped. */
	cr_assert_eq(dx_queue_abort_job(b->q, 3, DX_INTERRUPTED, &err), 0);
	bench_wait_done(b, 3);
	cr_assert_eq(dx_queue_outcome(b->q, 3)->status, DX_ST_SKIPPED);
	dx_queue_resume(b->q);
	bench_wait(b);
	bench_check_done_once(b);
	cr_assert_eq(b->seen[1].status, DX_ST_OK);
	cr_assert_eq(b->seen[2].status, DX_ST_OK);
	bench_free(b);
}

Test(queue, drain_waits_for_the_running_and_keeps_the_waiting, .timeout = 30)
{
	struct bench *b = bench_new(6, 2);
	struct dx_err err;
	size_t i;

	b->fakes[0].mode = b->fakes[1].mode = FK_SLEEP;
	b->fakes[0].sleep_ms = b->fakes[1].sleep_ms = 100;
	bench_make(b);
	bench_start(b);
	bench_wait_started(b, 2);
	cr_assert_eq(dx_queue_drain(b->q, &err), 0, "%s", err.msg);
	/* When drain returns, the running ones were handed out. */
	cr_assert(bench_seen(b, 0));
	cr_assert(bench_seen(b, 1));
	cr_assert_eq(dx_queue_outcome(b->q, 0)->status, DX_ST_OK);
	for (i = 2; i < b->n; i++) {
		cr_assert_not(bench_seen(b, i));
		cr_assert_eq(dx_queue_outcome(b->q, i)->status, DX_ST_PENDING);
	}
	cr_assert_eq(atomic_load(&b->env.nstarted), 2);
	/* Drained again: nothing runs, it returns at once. */
	cr_assert_eq(dx_queue_drain(b->q, &err), 0);
	dx_queue_resume(b->q);
	bench_wait(b);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->seen[i].status, DX_ST_OK);
	bench_free(b);
}

Test(queue, wait_needs_a_started_queue)
{
	struct bench *b = bench_new(1, 1);
	struct dx_err err;

	bench_make_n(b, 0);
	cr_assert_eq(dx_queue_wait(b->q, &err), 0);
	bench_add(b, 0);
	cr_assert_eq(dx_queue_wait(b->q, &err), -1);
	cr_assert_eq(err.kind, DX_USAGE);
	cr_assert_eq(dx_queue_drain(b->q, &err), 0);	/* nothing runs */
	dx_queue_resume(b->q);
	bench_run(b);
	cr_assert_eq(dx_queue_wait(b->q, &err), 0);	/* after run: done */
	cr_assert_eq(b->seen[0].status, DX_ST_OK);
	bench_free(b);
}

Test(queue, stop_cuts_the_running_and_skips_the_waiting, .timeout = 30)
{
	struct bench *b = bench_new(10, 3);
	struct dx_err err;
	size_t i, failed = 0, skipped = 0;

	for (i = 0; i < b->n; i++)
		b->fakes[i].mode = FK_HANG;
	bench_make(b);
	bench_start(b);
	bench_wait_started(b, 3);
	cr_assert_eq(dx_queue_stop(b->q, &err), 0, "%s", err.msg);
	bench_check_done_once(b);
	for (i = 0; i < b->n; i++) {
		cr_assert_eq(b->seen[i].error.kind, DX_INTERRUPTED);
		if (b->seen[i].status == DX_ST_FAILED)
			failed++;
		else
			skipped++;
	}
	cr_assert_eq(failed, 3);
	cr_assert_eq(skipped, 7);
	cr_assert_eq(dx_ctl_aborted(&(struct dx_ctl){ .queue = b->q }),
	    DX_INTERRUPTED);
	cr_assert_eq(dx_queue_stop(b->q, &err), 0);
	bench_free(b);
}

Test(queue, free_stops_and_joins_a_running_queue, .timeout = 30)
{
	struct bench *b = bench_new(6, 2);
	size_t i;

	for (i = 0; i < b->n; i++)
		b->fakes[i].mode = FK_HANG;
	bench_make(b);
	bench_start(b);
	bench_wait_started(b, 2);
	dx_queue_free(b->q);
	b->q = NULL;
	/* Every job reached done() before free returned (seen needs no lock). */
	cr_assert_eq(b->ndone, 6);
	for (i = 0; i < b->n; i++)
		cr_assert_eq(b->seen[i].calls, 1);
	bench_free(b);
}

Test(queue, whole_abort_reaches_every_running_job_and_later_adds, .timeout = 30)
{
	struct bench *b = bench_new(6, 4);
	size_t i;

	for (i = 0; i < 4; i++)
		b->fakes[i].mode = FK_HANG;
	bench_make_n(b, 4);
	bench_start(b);
	bench_wait_started(b, 4);
	dx_queue_abort(b->q, DX_INTERRUPTED);
	for (i = 0; i < 4; i++)
		bench_wait_done(b, i);
	/* Added after the abort: accepted, and skipped. */
	bench_add(b, 4);
	bench_add(b, 5);
	bench_wait(b);
	bench_check_done_once(b);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(b->seen[i].status, DX_ST_FAILED);
		cr_assert(atomic_load(&b->fakes[i].seen_pollin));
	}
	cr_assert_eq(b->seen[4].status, DX_ST_SKIPPED);
	cr_assert_eq(b->seen[5].error.kind, DX_INTERRUPTED);
	bench_free(b);
}

Test(queue, breaker_and_deadline_hold_in_a_started_queue, .timeout = 30)
{
	struct bench *b = bench_new(8, 1), *d = bench_new(2, 1);
	struct dx_summary sum;
	size_t i;

	for (i = 0; i < 7; i++) {
		b->fakes[i].mode = FK_FAIL;
		b->fakes[i].kind = DX_AUTH;
		b->fakes[i].msg = "denied";
	}
	b->opts.max_failures = 2;
	bench_make_n(b, 7);
	bench_start(b);
	bench_wait(b);
	bench_add(b, 7);	/* after the breaker tripped: skipped */
	bench_wait(b);
	dx_queue_summary(b->q, &sum);
	cr_assert_eq(sum.failed, 2);
	cr_assert_eq(sum.skipped, 6);
	cr_assert_eq(b->seen[7].error.kind, DX_MAX_FAILURES);

	d->fakes[0].mode = FK_HANG;
	d->opts.deadline_ms = 200;
	bench_make(d);
	bench_start(d);
	bench_wait(d);
	cr_assert_eq(d->seen[0].status, DX_ST_FAILED);
	cr_assert_eq(d->seen[0].error.kind, DX_DEADLINE);
	cr_assert_eq(d->seen[1].status, DX_ST_SKIPPED);
	cr_assert_str_eq(d->seen[1].error.msg,
	    "not started: deadline of 0.2 s reached");
	bench_free(b);
	bench_free(d);
}
