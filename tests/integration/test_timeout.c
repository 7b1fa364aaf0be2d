/*
 * test_timeout.c - time limits (SPEC 3, 5, 6): a call timeout, the run's
 * deadline and an interrupt each end the run on time, report the right
 * kinds, and leave nothing that dronex started running on the drone.
 *
 * Each test sleeps for a value no other test uses ("sleep 61.5"), so that
 * counting processes whose command line holds it finds only its own.
 */
#include "config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

/* Waits up to a second for the needle's processes to go, then counts. */
static int
to_left_after_1s(const char *needle)
{
	usleep(1000 * 1000);
	return dxh_count_procs(needle);
}

/* The leftover checks below mean nothing unless the counter can see one. */
Test(timeout, the_process_counter_sees_a_running_sleep, .timeout = 10)
{
	pid_t pid;
	int st;

	cr_assert_eq(dxh_count_procs("sleep 66.5"), 0);
	pid = fork();
	cr_assert(pid != -1);
	if (pid == 0) {
		execlp("sleep", "sleep", "66.5", (char *)NULL);
		_exit(127);
	}
	usleep(200 * 1000);
	cr_expect_eq(dxh_count_procs("sleep 66.5"), 1);
	kill(pid, SIGKILL);
	cr_assert(waitpid(pid, &st, 0) == pid);
	cr_expect_eq(dxh_count_procs("sleep 66.5"), 0);
}

Test(timeout, a_call_timeout_cuts_the_call_and_ends_it_on_the_drone, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv, *c;
	char *path;

	cr_assert_eq(dxh_count_procs("sleep 61.5"), 0, "a 'sleep 61.5' is already running");
	inv = dxh_inv_new(1);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-t", "1", "--", "sleep", "61.5", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_geq(r.wall, 0.9, "returned after %.2f s, before the timeout", r.wall);
	cr_expect_leq(r.wall, 3.0, "returned after %.2f s with -t 1", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "call_timeout", "%s", r.out);
	c = dxh_call(&r, "d-001", 0);
	cr_expect_str_eq(dxh_call_kind(&r, "d-001", 0), "call_timeout");
	cr_expect(!json_is_integer(json_object_get(c, "exit_status")) ||
	    json_integer_value(json_object_get(c, "exit_status")) != 0,
	    "a timed-out call reports exit status 0: %s", r.out);
	cr_expect_eq(to_left_after_1s("sleep 61.5"), 0,
	    "the timed-out command is still running on the drone");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(timeout, the_next_call_runs_after_a_timed_out_call, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	cr_assert_eq(dxh_count_procs("sleep 62.5"), 0, "a 'sleep 62.5' is already running");
	inv = dxh_inv_new(1);
	dxh_inv_calls(inv, "d-001", "sleep 62.5", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-t", "1", "--", "echo", "after", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_leq(r.wall, 4.0, "took %.2f s", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "call_timeout", "%s", r.out);
	cr_assert_eq(dxh_ncalls(&r, "d-001"), 2, "%s", r.out);
	cr_expect_str_eq(dxh_call_kind(&r, "d-001", 0), "call_timeout");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 1, "stdout"), "after\n", "%s", r.out);
	cr_expect_eq(json_integer_value(json_object_get(dxh_call(&r, "d-001", 1),
	    "exit_status")), 0);
	cr_expect_null(dxh_call_kind(&r, "d-001", 1));
	cr_expect_eq(to_left_after_1s("sleep 62.5"), 0,
	    "the timed-out command is still running on the drone");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(timeout, a_call_within_its_timeout_is_untouched, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(1);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-t", "5", "--", "sleep 0.2; echo done", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "done\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(timeout, the_deadline_cuts_the_running_drone_and_skips_the_rest, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	const char *msg;
	char *path;
	int left;

	cr_assert_eq(dxh_count_procs("sleep 30.5"), 0, "a 'sleep 30.5' is already running");
	inv = dxh_inv_new(3);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-f", "1", "--deadline", "2", "--",
	    "sleep", "30.5", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_leq(r.wall, 3.0, "took %.2f s with --deadline 2", r.wall);
	cr_expect_geq(r.wall, 1.8, "ended after %.2f s, before the deadline", r.wall);
	cr_expect_eq(dxh_summary(&r, "drones"), 3);
	cr_expect_eq(dxh_summary(&r, "ok"), 0);
	cr_expect_eq(dxh_summary(&r, "failed"), 1);
	cr_expect_eq(dxh_summary(&r, "skipped"), 2);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed", "%s", r.out);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "deadline", "%s", r.out);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "skipped");
	cr_expect_str_eq(dxh_kind(&r, "d-002"), "deadline");
	cr_expect_eq(dxh_ncalls(&r, "d-002"), 0);
	cr_expect_str_eq(dxh_status(&r, "d-003"), "skipped");
	cr_expect_str_eq(dxh_kind(&r, "d-003"), "deadline");
	cr_expect(json_is_string(json_object_get(dxh_doc(&r), "error")));
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-001 failed: deadline: "), 1,
	    "stderr: %s", r.err);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-002 skipped: "), 1,
	    "stderr: %s", r.err);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-003 skipped: "), 1,
	    "stderr: %s", r.err);
	/*
	 * Either the command is gone, or the call says it may still run (a
	 * drone too loaded to start the kill script before the deadline's
	 * slack): never a silent leftover.
	 */
	left = to_left_after_1s("sleep 30.5");
	msg = json_string_value(json_object_get(json_object_get(dxh_drone(&r,
	    "d-001"), "error"), "message"));
	cr_expect(left == 0 || (msg != NULL &&
	    strstr(msg, "may still be running on the drone") != NULL),
	    "the command cut by the deadline is still running on the drone, "
	    "and its error says nothing of it: %s", msg ? msg : "(none)");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(timeout, sigint_prints_results_so_far_and_exits_130, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;
	struct dxh_opts o = { .timeout = 20, .signal = SIGINT, .signal_after = 1.5 };

	cr_assert_eq(dxh_count_procs("sleep 63.5"), 0, "a 'sleep 63.5' is already running");
	inv = dxh_inv_new(2);
	dxh_inv_calls(inv, "d-001", "echo first", NULL);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "1", "--", "sleep", "63.5", NULL };

		dxh_run_argv(&r, av, &o);
	}
	cr_expect_eq(r.status, 130, "exit %d (signal %d), stderr: %s", r.status, r.termsig,
	    r.err);
	cr_expect_leq(r.wall, 4.0, "took %.2f s after SIGINT at 1.5 s", r.wall);
	/* d-001 was running: its first call's result is kept, the rest cut. */
	cr_expect_str_neq(dxh_status(&r, "d-001"), "ok");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "interrupted", "%s", r.out);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "first\n");
	cr_expect_str_eq(dxh_status(&r, "d-002"), "skipped");
	cr_expect_str_eq(dxh_kind(&r, "d-002"), "interrupted");
	cr_expect_eq(dxh_summary(&r, "drones"), 2);
	cr_expect_eq(to_left_after_1s("sleep 63.5"), 0,
	    "the interrupted command is still running on the drone");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(timeout, a_hung_drone_does_not_hold_up_the_others, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path, name[32];
	int i;

	/* d-001 hangs until its timeout; the other drones finish meanwhile. */
	inv = dxh_inv_new(6);
	dxh_inv_calls(inv, "d-001", "sleep 64.5", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-f", "3", "-t", "2", "--", "echo", "fine", NULL);
	cr_expect_eq(r.status, 1);
	cr_expect_leq(r.wall, 8.0, "took %.2f s with -t 2", r.wall);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "call_timeout");
	for (i = 2; i <= 6; i++) {
		dxh_name(name, sizeof(name), i);
		cr_expect_str_eq(dxh_status(&r, name), "ok", "%s", name);
		cr_expect_str_eq(dxh_call_str(&r, name, 0, "stdout"), "fine\n", "%s", name);
	}
	cr_expect_eq(to_left_after_1s("sleep 64.5"), 0);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(timeout, sigterm_also_prints_results_and_exits_130, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;
	struct dxh_opts o = { .timeout = 20, .signal = SIGTERM, .signal_after = 1.0 };

	cr_assert_eq(dxh_count_procs("sleep 65.5"), 0, "a 'sleep 65.5' is already running");
	inv = dxh_inv_new(1);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--", "sleep", "65.5", NULL };

		dxh_run_argv(&r, av, &o);
	}
	cr_expect_eq(r.status, 130, "exit %d (signal %d), stderr: %s", r.status, r.termsig,
	    r.err);
	cr_expect_leq(r.wall, 3.5, "took %.2f s after SIGTERM at 1 s", r.wall);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "interrupted", "%s", r.out);
	cr_expect_eq(dxh_summary(&r, "drones"), 1);
	cr_expect_eq(to_left_after_1s("sleep 65.5"), 0,
	    "the interrupted command is still running on the drone");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}
