/*
 * test_connection_lost.c - a connection lost after it was made (SPEC 1, 4,
 * 6): the session's sshd killed in the middle of a call, from outside or
 * by the call itself, and a frozen sshd found by keepalives each fail only
 * their own drone with kind connection_lost, on time; a call that was sent
 * is never retried, so the calls after it never run.  (What the lost call
 * says about its command is in test_chan.c.)
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

Test(connection_lost, the_session_sshd_killed_mid_call_loses_only_that_drone, .timeout = 40)
{
	struct dxh_proc p;
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

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 30 });
	}
	sleeper = fu_session_of("sleep 30.13", 10, &sshd);
	cr_assert(sleeper > 0, "no 'sleep 30.13' under a session of the test sshd");
	cr_assert_eq(fu_signal_if(sshd, "sshd: ", SIGKILL), 0, "could not kill sshd %d",
	    (int)sshd);
	dxh_finish(&p, &r);
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

Test(connection_lost, a_connection_lost_mid_call_fails_only_its_drone, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *dir, *path, *marker, *touch;

	/*
	 * The call kills the sshd process that serves its own connection.
	 * No retry may follow (a call was sent), so the next call never runs.
	 */
	dir = dxh_tmpdir();
	cr_assert(asprintf(&marker, "%s/marker", dir) > 0);
	cr_assert(asprintf(&touch, "touch %s", marker) > 0);
	inv = dxh_inv_new(2);
	dxh_inv_calls(inv, "d-001", "echo before; kill -KILL $PPID; sleep 1", touch, NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--retries", "2", "--", "echo", "up", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connection_lost", "%s", r.out);
	cr_expect_eq(json_integer_value(json_object_get(dxh_drone(&r, "d-001"), "attempts")), 1,
	    "a drone was retried after its first call was sent: %s", r.out);
	cr_expect_not(dxh_exists(marker), "a call ran after the connection was lost");
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-002", 0, "stdout"), "up\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	free(dir);
	free(marker);
	free(touch);
}

Test(connection_lost, keepalives_find_a_frozen_sshd_long_before_the_call_ends, .timeout = 40)
{
	struct dxh_proc p;
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

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 30 });
	}
	sleeper = fu_session_of("sleep 20.517", 10, &sshd);
	cr_assert(sleeper > 0, "no 'sleep 20.517' under a session of the test sshd");
	while (dxh_now() - p.start < 2.0)
		dxh_pump(&p, 50);
	/* Only the session process found above, never the listener. */
	stop_ok = fu_signal_if(sshd, "sshd: ", SIGSTOP) == 0;
	stopped = dxh_now() - p.start;
	dxh_finish(&p, &r);
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
