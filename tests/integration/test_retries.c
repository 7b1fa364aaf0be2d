/*
 * test_retries.c - --retries and --retry-delay (SPEC 3, 4): connection
 * failures (a refused port, an unanswered SYN, dropped connections) are
 * retried with the delay between, a drone that gets through on a later
 * attempt ends ok with the attempts counted, and a call that was sent is
 * never run twice, even when its connection is cut and retries are left.
 *
 * The flaky drone is a TCP relay in this process (faults_util.c) in front
 * of the test sshd: it closes the first K connections as soon as they are
 * accepted, or cuts the first relayed one after a while, and counts every
 * connection, so the test knows how many dronex really made.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "faults_util.h"
#include "harness.h"

Test(retries, a_refused_port_is_tried_n_plus_one_times_with_the_delay_between, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(2);
	dxh_inv_set(inv, "d-001", "port", json_integer(dxh_closed_port()));
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--retries", "2", "--retry-delay",
		    "0.5", "--", "true", NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 20 });
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connect_refused", "%s", r.out);
	cr_expect_eq(fu_attempts(&r, "d-001"), 3, "%s", r.out);
	cr_expect_geq(r.wall, 0.95, "two delays of 0.5 s took %.2f s in all", r.wall);
	cr_expect_leq(r.wall, 5.0, "took %.2f s", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	cr_expect_eq(fu_attempts(&r, "d-002"), 1);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(retries, an_unanswered_syn_is_retried_too, .timeout = 30)
{
	struct fu_backlog b;
	struct dxh_run r;
	json_t *inv;
	char *path;

	fu_backlog_open(&b);
	inv = dxh_inv_new(1);
	dxh_inv_set(inv, "d-001", "port", json_integer(b.port));
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--connect-timeout", "1",
		    "--retries", "1", "--retry-delay", "0.1", "--", "true", NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 20 });
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connect_timeout", "%s", r.out);
	cr_expect_eq(fu_attempts(&r, "d-001"), 2, "%s", r.out);
	cr_expect_geq(r.wall, 1.9, "two 1 s connect budgets took %.2f s", r.wall);
	cr_expect_leq(r.wall, 4.0, "took %.2f s", r.wall);
	dxh_run_free(&r);
	fu_backlog_close(&b);
	json_decref(inv);
	free(path);
}

Test(retries, a_drone_that_drops_two_connections_is_ok_on_the_third, .timeout = 30)
{
	struct fu_proxy *px;
	struct dxh_run r;
	json_t *inv;
	char *path;

	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 2, 0);
	inv = dxh_inv_new(2);
	fu_proxy_drone(px, inv, "d-001");
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--retries", "3", "--retry-delay",
		    "0.2", "--", "echo", "through", NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 20 });
	}
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok", "%s", r.out);
	cr_expect_eq(fu_attempts(&r, "d-001"), 3, "%s", r.out);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "through\n");
	cr_expect_eq(fu_proxy_accepted(px), 3, "the relay saw %d connections",
	    fu_proxy_accepted(px));
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	dxh_run_free(&r);
	fu_proxy_stop(px);
	json_decref(inv);
	free(path);
}

Test(retries, too_few_retries_fail_with_handshake_after_n_plus_one_attempts, .timeout = 30)
{
	struct fu_proxy *px;
	struct dxh_run r;
	json_t *inv;
	char *path;

	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 2, 0);
	inv = dxh_inv_new(1);
	fu_proxy_drone(px, inv, "d-001");
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--retries", "1", "--retry-delay",
		    "0.2", "--", "echo", "through", NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 20 });
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "handshake", "%s", r.out);
	cr_expect_eq(fu_attempts(&r, "d-001"), 2, "%s", r.out);
	cr_expect_eq(dxh_ncalls(&r, "d-001"), 0);
	cr_expect_eq(fu_proxy_accepted(px), 2, "the relay saw %d connections",
	    fu_proxy_accepted(px));
	dxh_run_free(&r);
	fu_proxy_stop(px);
	json_decref(inv);
	free(path);
}

Test(retries, a_call_cut_with_its_connection_is_never_run_twice, .timeout = 40)
{
	struct fu_proxy *px;
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv;
	char *dir, *file, *call, *text;
	pid_t sleeper;
	char *path;
	int lines;

	/*
	 * The relay passes the first connection for 1.5 s and then cuts it
	 * while the call sleeps.  Retries are left and the relay would let a
	 * second connection through: a retry would append a second line.
	 */
	dir = dxh_tmpdir();
	cr_assert(asprintf(&file, "%s/ran", dir) > 0);
	cr_assert(asprintf(&call, "echo x >> %s; exec sleep 5.31", file) > 0);
	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 0, 1500);
	inv = dxh_inv_new(2);
	fu_proxy_drone(px, inv, "d-001");
	dxh_inv_calls(inv, "d-001", call, NULL);
	dxh_inv_calls(inv, "d-002", "echo up", NULL);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--retries", "3", "--retry-delay",
		    "0.1", NULL };

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 30 });
	}
	sleeper = fu_session_of("sleep 5.31", 10, NULL);
	cr_expect(sleeper > 0, "the call never started");
	dxh_finish(&p, &r);
	if (sleeper > 0)
		fu_signal_if(sleeper, "sleep 5.31", SIGKILL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connection_lost", "%s", r.out);
	cr_expect_eq(fu_attempts(&r, "d-001"), 1, "%s", r.out);
	cr_expect_eq(fu_proxy_accepted(px), 1, "dronex connected %d times",
	    fu_proxy_accepted(px));
	cr_expect_leq(r.wall, 5.0, "took %.2f s; the cut came at 1.5 s", r.wall);
	/* Let a wrongly retried call reach the file before counting. */
	usleep(500 * 1000);
	text = dxh_read_file(file);
	cr_assert_not_null(text, "the call never ran");
	lines = dxh_count_lines(text, "x");
	cr_expect_eq(lines, 1, "the call ran %d times", lines);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	dxh_run_free(&r);
	fu_proxy_stop(px);
	json_decref(inv);
	free(text);
	free(path);
	free(call);
	free(file);
	free(dir);
}
