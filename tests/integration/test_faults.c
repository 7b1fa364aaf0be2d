/*
 * test_faults.c - network and server faults made for real, each failing
 * only its own drone with the kind the man page names, on time (SPEC 1, 4,
 * 6): a port whose accept queue is full (the SYN is never answered), a
 * listener that never speaks SSH, the session's sshd killed in the middle
 * of a call, a call cut by -t, and a frozen sshd found by keepalives.
 *
 * Commands sleep for values no other test uses ("sleep 30.13"), so that
 * a process count or a search of /proc finds only this test's processes.
 * Commands live in the inventory, not on dronex's command line, so that
 * dronex's own argv never matches.
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

/* The premise of the next test: the fault really is a silent SYN. */
Test(faults, a_full_backlog_port_leaves_a_new_connect_unanswered, .timeout = 20)
{
	struct fu_backlog b;

	fu_backlog_open(&b);
	cr_expect_not(fu_connect_completes(b.port, 1500),
	    "a connect to the full-backlog port completed (%d queued)", b.nfds);
	fu_backlog_close(&b);
}

Test(faults, a_syn_never_answered_is_connect_timeout_within_the_budget, .timeout = 30)
{
	struct fu_backlog b;
	struct dxh_run r;
	json_t *inv;
	char *path;

	fu_backlog_open(&b);
	inv = dxh_inv_new(3);
	dxh_inv_set(inv, "d-002", "port", json_integer(b.port));
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--connect-timeout", "2",
		    "--", "echo", "up", NULL };

		fu_run(&r, av, 0, 20, NULL);
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-002"), "connect_timeout", "%s", r.out);
	cr_expect_eq(dxh_ncalls(&r, "d-002"), 0);
	cr_expect_geq(r.wall, 1.8, "gave up after %.2f s with --connect-timeout 2", r.wall);
	cr_expect_leq(r.wall, 3.0, "took %.2f s with --connect-timeout 2", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "up\n");
	cr_expect_str_eq(dxh_status(&r, "d-003"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-003", 0, "stdout"), "up\n");
	cr_expect_eq(dxh_summary(&r, "ok"), 2);
	dxh_run_free(&r);
	fu_backlog_close(&b);
	json_decref(inv);
	free(path);
}

Test(faults, a_listener_that_never_speaks_ssh_is_handshake_within_the_budget, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;
	int fd, port;

	fd = dxh_silent_listener(&port);
	cr_assert(fu_connect_completes(port, 1000), "the silent listener does not accept TCP");
	inv = dxh_inv_new(3);
	dxh_inv_set(inv, "d-003", "port", json_integer(port));
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--connect-timeout", "2",
		    "--", "echo", "up", NULL };

		fu_run(&r, av, 0, 20, NULL);
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-003"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-003"), "handshake", "%s", r.out);
	cr_expect_eq(dxh_ncalls(&r, "d-003"), 0);
	cr_expect_geq(r.wall, 1.8, "gave up after %.2f s with --connect-timeout 2", r.wall);
	cr_expect_leq(r.wall, 3.0, "took %.2f s with --connect-timeout 2", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok");
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	dxh_run_free(&r);
	close(fd);
	json_decref(inv);
	free(path);
}

Test(faults, the_session_sshd_killed_mid_call_loses_only_that_drone, .timeout = 40)
{
	struct fu_proc p;
	struct dxh_run r;
	json_t *inv;
	char *dir, *path, *marker, *touch;
	pid_t sleeper, sshd;

	cr_assert_eq(dxh_count_procs("sleep 30.13"), 0, "a 'sleep 30.13' is already running");
	dir = dxh_tmpdir();
	cr_assert(asprintf(&marker, "%s/marker", dir) > 0);
	cr_assert(asprintf(&touch, "touch %s", marker) > 0);
	inv = dxh_inv_new(4);
	dxh_inv_calls(inv, "d-001", "echo first", "sleep 30.13", touch, NULL);
	dxh_inv_calls(inv, "d-002", "echo up", NULL);
	dxh_inv_calls(inv, "d-003", "echo up", NULL);
	dxh_inv_calls(inv, "d-004", "echo up", NULL);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--retries", "2",
		    "--retry-delay", "0.1", NULL };

		fu_spawn(&p, av, 0);
	}
	sleeper = fu_session_of("sleep 30.13", 10, &sshd);
	cr_assert(sleeper > 0, "no 'sleep 30.13' under a session of the test sshd");
	cr_assert_eq(fu_signal_if(sshd, "sshd: ", SIGKILL), 0, "could not kill sshd %d",
	    (int)sshd);
	fu_finish(&p, &r, 30, NULL);
	/* The orphaned sleep is this test's own; end it before asserting. */
	fu_signal_if(sleeper, "sleep 30.13", SIGKILL);

	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_leq(r.wall, 10.0, "took %.2f s to notice a killed sshd", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connection_lost", "%s", r.out);
	cr_expect_eq(fu_attempts(&r, "d-001"), 1, "retried after a call was sent: %s", r.out);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "first\n");
	cr_expect_null(dxh_call_kind(&r, "d-001", 0), "%s", r.out);
	cr_expect_leq(dxh_ncalls(&r, "d-001"), 2, "a call after the loss was attempted: %s",
	    r.out);
	cr_expect_not(dxh_exists(marker), "the call after the lost one ran");
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	cr_expect_str_eq(dxh_status(&r, "d-003"), "ok");
	cr_expect_str_eq(dxh_status(&r, "d-004"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-004", 0, "stdout"), "up\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	free(dir);
	free(marker);
	free(touch);
}

Test(faults, a_call_cut_by_the_timeout_ends_on_the_drone_and_the_next_runs, .timeout = 30)
{
	struct fu_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path, *left;
	pid_t sleeper;

	cr_assert_eq(dxh_count_procs("sleep 300.37"), 0, "a 'sleep 300.37' is already running");
	inv = dxh_inv_new(1);
	dxh_inv_calls(inv, "d-001", "sleep 300.37", "echo next", NULL);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-t", "1", NULL };

		fu_spawn(&p, av, 0);
	}
	/* The leftover check below means nothing unless the sleep did run. */
	sleeper = fu_session_of("sleep 300.37", 5, NULL);
	cr_expect(sleeper > 0, "the call never ran on the drone");
	fu_finish(&p, &r, 20, NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_leq(r.wall, 4.0, "took %.2f s with -t 1", r.wall);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "call_timeout", "%s", r.out);
	cr_expect_str_eq(dxh_call_kind(&r, "d-001", 0), "call_timeout");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 1, "stdout"), "next\n", "%s", r.out);
	cr_expect_null(dxh_call_kind(&r, "d-001", 1), "%s", r.out);
	usleep(1000 * 1000);
	left = fu_describe("sleep 300.37");
	cr_expect_eq(dxh_count_procs("sleep 300.37"), 0,
	    "the timed-out command still runs on the drone 1 s after dronex returned:\n%s",
	    left);
	free(left);
	fu_kill_exact("sleep 300.37");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(faults, keepalives_find_a_frozen_sshd_long_before_the_call_ends, .timeout = 40)
{
	struct fu_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path;
	pid_t sleeper, sshd = -1;
	double stopped = 0;
	bool stop_ok;

	cr_assert_eq(dxh_count_procs("sleep 20.517"), 0, "a 'sleep 20.517' is already running");
	inv = dxh_inv_new(2);
	dxh_inv_calls(inv, "d-001", "sleep 20.517", NULL);
	dxh_inv_calls(inv, "d-002", "echo up", NULL);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--keepalive", "1", NULL };

		fu_spawn(&p, av, 0);
	}
	sleeper = fu_session_of("sleep 20.517", 10, &sshd);
	cr_assert(sleeper > 0, "no 'sleep 20.517' under a session of the test sshd");
	while (dxh_now() - p.start < 2.0)
		fu_pump(&p, 50);
	/* Only the session process found above, never the listener. */
	stop_ok = fu_signal_if(sshd, "sshd: ", SIGSTOP) == 0;
	stopped = dxh_now() - p.start;
	fu_finish(&p, &r, 30, NULL);
	/* Clean up before asserting: kill the frozen sshd and its sleep. */
	fu_signal_if(sshd, "sshd: ", SIGKILL);
	fu_signal_if(sshd, "sshd: ", SIGCONT);
	fu_signal_if(sleeper, "sleep 20.517", SIGKILL);

	cr_assert(stop_ok, "could not stop sshd %d", (int)sshd);
	cr_log_info("sshd stopped at %.2f s, dronex returned at %.2f s", stopped, r.wall);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connection_lost", "%s", r.out);
	cr_expect_leq(r.wall - stopped, 10.0,
	    "the frozen session was noticed %.2f s after SIGSTOP with --keepalive 1",
	    r.wall - stopped);
	cr_expect_leq(r.wall, 15.0, "took %.2f s; the call would end at 20.5 s", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}
