/*
 * test_queue.c - the drone queue on a fake executor (no network).
 *
 * Each job's drone pointer is a struct fake that scripts what the executor
 * does for it: succeed, fail with a kind, hang until the run is aborted,
 * fail to connect a few times, sleep, or wait for its peers (to prove that
 * the fan-out is reached).  The fake counts the executions that overlap, so
 * the tests see the real concurrency, not only what the queue reports.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
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
	FK_MEET		/* wait until env->meet drones run at once, then ok */
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
	atomic_bool	 seen_pollin;	/* FK_HANG woke on a readable pipe */
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
	size_t		 ndone;
	int64_t		 run_ms;
	bool		 steal_output;	/* done() takes calls[0].out.data */
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
	}
	atomic_fetch_sub(&env->inflight, 1);
}

static void
bench_done(void *arg, size_t index, const struct dx_job *job,
    struct dx_result *res)
{
	struct bench *b = arg;
	struct seen *s;
	const struct dx_outcome *o;

	cr_assert_lt(index, b->n);
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

static void
bench_make(struct bench *b)
{
	struct dx_err err;
	struct dx_job job;
	size_t i;

	b->q = dx_queue_new(&b->opts, fake_exec, &b->env, &err);
	cr_assert_not_null(b->q, "dx_queue_new: %s", err.msg);
	for (i = 0; i < b->n; i++) {
		memset(&job, 0, sizeof(job));
		job.name = b->names[i];
		job.priority = b->fakes[i].priority;
		job.drone = &b->fakes[i];
		job.calls = one_call;
		job.ncalls = b->fakes[i].ncalls;
		cr_assert_eq(dx_queue_add(b->q, &job, &err), 0, "%s", err.msg);
	}
	cr_assert_eq(dx_queue_size(b->q), b->n);
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
	dx_queue_free(b->q);
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

/* Result helpers. */

Test(result, add_call_copies_and_initialises)
{
	struct dx_result res;
	struct dx_call_result *c;
	struct dx_err err;
	char cmd[32];
	size_t i;

	memset(&res, 0, sizeof(res));
	for (i = 0; i < 9; i++) {
		snprintf(cmd, sizeof(cmd), "call %zu", i);
		c = dx_result_add_call(&res, cmd, 100 + i, &err);
		cr_assert_not_null(c);
		cr_assert_eq(c, &res.calls[i]);
		cr_assert_eq(c->exit_status, -1);
		cr_assert_eq(c->error.kind, DX_OK);
		cr_assert_null(c->signal);
		cr_assert_eq(c->out.max, 100 + i);
		cr_assert_eq(c->err.max, 100 + i);
		cr_assert_eq(dx_buf_append(&c->out, "x", 1), 0);
		memset(cmd, 'z', sizeof(cmd) - 1);	/* it was copied */
	}
	cr_assert_eq(res.ncalls, 9);
	for (i = 0; i < 9; i++) {
		snprintf(cmd, sizeof(cmd), "call %zu", i);
		cr_assert_str_eq(res.calls[i].command, cmd);
		cr_assert_str_eq(res.calls[i].out.data, "x");
	}
	res.kex = strdup("curve25519-sha256");
	res.hostkey_type = strdup("ssh-ed25519");
	res.calls[2].signal = strdup("TERM");
	dx_result_release(&res);
	cr_assert_null(res.calls);
	cr_assert_eq(res.ncalls, 0);
	cr_assert_null(res.kex);
	dx_result_release(&res);	/* twice is harmless */
	dx_result_release(NULL);
}

Test(result, release_survives_a_taken_calls_array)
{
	struct dx_result res;
	struct dx_call_result *calls;
	struct dx_err err;

	memset(&res, 0, sizeof(res));
	cr_assert_not_null(dx_result_add_call(&res, "a", 10, &err));
	cr_assert_not_null(dx_result_add_call(&res, "b", 10, &err));
	calls = res.calls;
	res.calls = NULL;		/* taken by the caller */
	dx_result_release(&res);
	cr_assert_eq(res.ncalls, 0);
	free(calls[0].command);
	free(calls[1].command);
	free(calls);
}
