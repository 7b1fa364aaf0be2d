/*
 * test_timeout.c - the call timeout (-t, SPEC 3, 4, 6): a call that runs
 * too long is cut on time with kind call_timeout and ended on the drone,
 * the drone's next call still runs, a call within its timeout is
 * untouched, and a hung drone does not hold up the others.  (The run's
 * deadline is in test_deadline.c, interrupts in test_interrupt.c.)
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

#include "faults_util.h"
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

/*
 * The drone's own call times out and the command line's next call still
 * runs; the cut command is ended on the drone.  The leftover check means
 * nothing unless the sleep did run, so the test first finds it there.
 */
Test(timeout, the_next_call_runs_after_a_timed_out_call, .timeout = 30)
{
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path, *left;
	pid_t sleeper;

	cr_assert_eq(dxh_count_procs("sleep 300.37"), 0, "a 'sleep 300.37' is already running");
	inv = dxh_inv_new(1);
	dxh_inv_calls(inv, "d-001", "sleep 300.37", NULL);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-t", "1", "--", "echo", "next", NULL };

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 20 });
	}
	sleeper = fu_session_of("sleep 300.37", 5, NULL);
	cr_expect(sleeper > 0, "the call never ran on the drone");
	dxh_finish(&p, &r);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_leq(r.wall, 4.0, "took %.2f s with -t 1", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "call_timeout", "%s", r.out);
	cr_assert_eq(dxh_ncalls(&r, "d-001"), 2, "%s", r.out);
	cr_expect_str_eq(dxh_call_kind(&r, "d-001", 0), "call_timeout");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 1, "stdout"), "next\n", "%s", r.out);
	cr_expect_eq(json_integer_value(json_object_get(dxh_call(&r, "d-001", 1),
	    "exit_status")), 0);
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

