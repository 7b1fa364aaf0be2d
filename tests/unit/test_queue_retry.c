/*
 * test_queue_retry.c - the queue's circuit breaker (--max-failures),
 * connection retries, the done callback, a thousand drones, two queues at
 * once, thread-start failures and misuse, on the fake executor
 * (queue_fake.h).
 */
#include "config.h"

#include "queue_fake.h"

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

