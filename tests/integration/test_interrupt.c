/*
 * test_interrupt.c - SIGINT and SIGTERM (SPEC 3, 5): each ends the run on
 * time with the complete JSON (running drones failed with kind
 * interrupted, their finished calls kept, the others skipped with it),
 * ends the cut commands on the drone, and exits 130; drones stuck in a
 * handshake end too, and a second SIGINT ends dronex at once even when
 * its teardown would take longer (a frozen sshd).  (SIGHUP and stray
 * signals are in test_cli_signals.c; an interrupt while waiting on a
 * resolver or an agent, in test_resolve.c and test_agent.c.)
 *
 * Every test sleeps for a value no other test uses, and the commands live
 * in the inventory so that dronex's own command line never matches.
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

static void
in_signal(int sig, const char *sleep)
{
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path, *left;
	double sent;

	cr_assert_eq(dxh_count_procs(sleep), 0, "a '%s' is already running", sleep);
	path = fu_inventory(6, sleep, &inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "2", NULL };

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 20 });
	}
	cr_expect_eq(fu_wait_count(sleep, 2, 5.0), 2, "the two first calls never ran");
	while (dxh_now() - p.start < 1.0)
		dxh_pump(&p, 20);
	sent = dxh_now() - p.start;
	kill(p.pid, sig);
	dxh_finish(&p, &r);
	cr_log_info("signal %d at %.2f s, exit %d at %.2f s", sig, sent, r.status, r.wall);
	cr_expect_eq(r.status, 130, "exit %d (signal %d), stderr: %s", r.status, r.termsig,
	    r.err);
	cr_expect_leq(r.wall - sent, 2.0, "took %.2f s after the signal", r.wall - sent);
	fu_check_cut(&r, 6, 2, "interrupted", true);
	usleep(1000 * 1000);
	left = fu_describe(sleep);
	cr_expect_eq(dxh_count_procs(sleep), 0,
	    "an interrupted command still runs on the drone 1 s later:\n%s", left);
	free(left);
	fu_kill_exact(sleep);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(interrupt, sigint_cuts_running_drones_skips_the_rest_and_exits_130, .timeout = 30)
{
	in_signal(SIGINT, "sleep 30.21");
}

Test(interrupt, sigterm_cuts_running_drones_skips_the_rest_and_exits_130, .timeout = 30)
{
	in_signal(SIGTERM, "sleep 30.22");
}

/* Drones stuck in a handshake still end promptly on one SIGINT. */
Test(interrupt, sigint_during_handshakes_ends_the_run_within_a_second, .timeout = 30)
{
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path, name[32];
	int fd, port, i;
	double sent;

	fd = dxh_silent_listener(&port);
	inv = dxh_inv_new(4);
	for (i = 1; i <= 4; i++) {
		dxh_name(name, sizeof(name), i);
		dxh_inv_set(inv, name, "port", json_integer(port));
	}
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "2", "--connect-timeout", "20",
		    "--", "true", NULL };

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 25 });
	}
	while (dxh_now() - p.start < 1.0)
		dxh_pump(&p, 20);
	sent = dxh_now() - p.start;
	kill(p.pid, SIGINT);
	dxh_finish(&p, &r);
	cr_log_info("SIGINT at %.2f s during handshakes, exit %d at %.2f s", sent, r.status,
	    r.wall);
	cr_expect_eq(r.status, 130, "exit %d (signal %d), stderr: %s", r.status, r.termsig,
	    r.err);
	cr_expect_leq(r.wall - sent, 1.0, "took %.2f s after SIGINT", r.wall - sent);
	fu_check_cut(&r, 4, 2, "interrupted", false);
	dxh_run_free(&r);
	close(fd);
	json_decref(inv);
	free(path);
}

Test(interrupt, a_second_sigint_during_handshakes_exits_at_once, .timeout = 30)
{
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path, name[32];
	int fd, port, i;
	double second;

	fd = dxh_silent_listener(&port);
	inv = dxh_inv_new(4);
	for (i = 1; i <= 4; i++) {
		dxh_name(name, sizeof(name), i);
		dxh_inv_set(inv, name, "port", json_integer(port));
	}
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "2", "--connect-timeout", "20",
		    "--", "true", NULL };

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 25 });
	}
	while (dxh_now() - p.start < 1.0)
		dxh_pump(&p, 20);
	kill(p.pid, SIGINT);
	usleep(50 * 1000);
	second = dxh_now() - p.start;
	kill(p.pid, SIGINT);
	dxh_finish(&p, &r);
	cr_expect_eq(r.status, 130, "exit %d (signal %d), stderr: %s", r.status, r.termsig,
	    r.err);
	cr_expect_leq(r.wall - second, 0.5, "took %.2f s after the second SIGINT",
	    r.wall - second);
	dxh_run_free(&r);
	close(fd);
	json_decref(inv);
	free(path);
}

/*
 * A frozen sshd makes the teardown slow for real: the remote kill of the
 * cut call gets no answer and waits out its clean-up budget.  With one
 * SIGINT dronex still ends within that budget, prints everything and says
 * that the command may still run on the drone; a second SIGINT must not
 * wait for it.
 */
static void
in_frozen(bool twice, const char *sleep)
{
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path;
	pid_t sleeper, sshd = -1;
	double first, second = 0;
	bool stop_ok;

	cr_assert_eq(dxh_count_procs(sleep), 0, "a '%s' is already running", sleep);
	path = fu_inventory(1, sleep, &inv);
	{
		const char *av[] = { "exec", "-i", path, "--keepalive", "0", NULL };

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 25 });
	}
	sleeper = fu_session_of(sleep, 10, &sshd);
	cr_assert(sleeper > 0, "no '%s' under a session of the test sshd", sleep);
	stop_ok = fu_signal_if(sshd, "sshd: ", SIGSTOP) == 0;
	usleep(200 * 1000);
	first = dxh_now() - p.start;
	kill(p.pid, SIGINT);
	if (twice) {
		usleep(100 * 1000);
		second = dxh_now() - p.start;
		kill(p.pid, SIGINT);
	}
	dxh_finish(&p, &r);
	fu_signal_if(sshd, "sshd: ", SIGKILL);
	fu_signal_if(sshd, "sshd: ", SIGCONT);
	fu_signal_if(sleeper, sleep, SIGKILL);

	cr_assert(stop_ok, "could not stop sshd %d", (int)sshd);
	cr_log_info("frozen sshd, SIGINT at %.2f s%s, exit %d at %.2f s", first,
	    twice ? " and again" : "", r.status, r.wall);
	cr_expect_eq(r.status, 130, "exit %d (signal %d), stderr: %s", r.status, r.termsig,
	    r.err);
	if (twice) {
		cr_expect_leq(r.wall - second, 0.5, "took %.2f s after the second SIGINT",
		    r.wall - second);
	} else {
		cr_expect_leq(r.wall - first, 2.5, "took %.2f s after SIGINT", r.wall - first);
		cr_expect_str_eq(dxh_kind(&r, "d-001"), "interrupted", "%s", r.out);
		/* The kill could not get through: the result must not hide it. */
		cr_expect(fu_maybe_running(&r, "d-001"), "%s", r.out);
	}
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(interrupt, sigint_with_a_frozen_sshd_ends_within_the_cleanup_budget, .timeout = 40)
{
	in_frozen(false, "sleep 30.24");
}

Test(interrupt, a_second_sigint_exits_at_once_while_teardown_waits, .timeout = 40)
{
	in_frozen(true, "sleep 30.25");
}

Test(interrupt, sigint_keeps_the_finished_calls_of_a_cut_drone, .timeout = 30)
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
	cr_expect_eq(fu_wait_count("sleep 63.5", 0, 1.0), 0,
	    "the interrupted command is still running on the drone");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}
