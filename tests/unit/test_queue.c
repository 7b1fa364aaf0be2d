/*
 * test_queue.c - the queue's one-shot run on the fake executor
 * (queue_fake.h): the fan-out, start order, per-drone errors and the
 * consolidated error, drones without calls, the deadline and the abort.
 * test_queue_retry.c has the circuit breaker, retries, done() and scale;
 * test_queue_live.c the long-lived queue's operations and races.
 */
#include "config.h"

#include "queue_fake.h"

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

