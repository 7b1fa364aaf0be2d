/*
 * test_queue_live.c - the long-lived queue on the fake executor
 * (queue_fake.h): jobs added while it runs, one job aborted, priorities
 * changed, the fan-out resized, pause, resume, drain, wait and stop, and
 * the races the issue names (abort during connect, resize down while
 * full, a priority change as a slot frees).
 */
#include "config.h"

#include "queue_fake.h"

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

