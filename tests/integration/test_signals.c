/*
 * test_signals.c - the run's deadline, SIGINT and SIGTERM (SPEC 3, 5, 6):
 * each ends the run on time with the complete JSON (running drones failed
 * with the kind that cut them, the others skipped with it), ends the cut
 * commands on the drone, and a second SIGINT ends dronex at once even
 * when its teardown would take longer.
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

/* n drones, each with the one call; the inventory path. */
static char *
sg_inventory(int n, const char *call, json_t **inv)
{
	char name[32];
	int i;

	*inv = dxh_inv_new(n);
	for (i = 1; i <= n; i++) {
		dxh_name(name, sizeof(name), i);
		dxh_inv_calls(*inv, name, call, NULL);
	}
	return dxh_inv_write(*inv);
}

/*
 * Every one of n drones is in the results: running ones failed with kind
 * (their first call too, when in_call), the others skipped with kind and
 * no calls.  Returns how many ran.
 */
static int
sg_check_cut(const struct dxh_run *r, int n, int running, const char *kind, bool in_call)
{
	char name[32];
	int i, failed = 0, skipped = 0;

	cr_assert_eq(dxh_summary(r, "drones"), n, "%s", r->out);
	cr_assert_eq(json_object_size(json_object_get(dxh_doc(r), "drones")), (size_t)n);
	for (i = 1; i <= n; i++) {
		const char *st, *k;

		dxh_name(name, sizeof(name), i);
		st = dxh_status(r, name);
		k = dxh_kind(r, name);
		cr_expect_str_eq(k != NULL ? k : "(null)", kind, "%s: %s", name, r->out);
		if (strcmp(st, "failed") == 0) {
			failed++;
			if (in_call)
				cr_expect_str_eq(dxh_call_kind(r, name, 0), kind, "%s", name);
			/* A healthy drone confirmed that the cut command got TERM. */
			cr_expect(!fu_maybe_running(r, name), "%s: %s", name, r->out);
		} else {
			cr_expect_str_eq(st, "skipped", "%s: %s", name, r->out);
			cr_expect_eq(dxh_ncalls(r, name), 0, "skipped %s ran calls", name);
			skipped++;
		}
	}
	cr_expect_eq(failed, running, "%d drones were cut, %d ran: %s", failed, running, r->out);
	cr_expect_eq(skipped, n - running);
	cr_expect_eq(dxh_summary(r, "failed"), running);
	cr_expect_eq(dxh_summary(r, "skipped"), n - running);
	cr_expect(json_is_string(json_object_get(dxh_doc(r), "error")));
	return failed;
}

Test(signals, the_deadline_ends_the_run_on_time_with_every_drone_reported, .timeout = 30)
{
	struct fu_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path, *left;

	cr_assert_eq(dxh_count_procs("sleep 30.11"), 0, "a 'sleep 30.11' is already running");
	path = sg_inventory(6, "sleep 30.11", &inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "2", "--deadline", "2", NULL };

		fu_spawn(&p, av, 0);
	}
	cr_expect_eq(fu_wait_count("sleep 30.11", 2, 2.0), 2, "the two first calls never ran");
	fu_finish(&p, &r, 20, NULL);
	cr_log_info("--deadline 2: returned after %.2f s", r.wall);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_leq(r.wall, 3.0, "took %.2f s with --deadline 2", r.wall);
	cr_expect_geq(r.wall, 1.8, "ended after %.2f s, before the deadline", r.wall);
	sg_check_cut(&r, 6, 2, "deadline", true);
	usleep(1000 * 1000);
	left = fu_describe("sleep 30.11");
	cr_expect_eq(dxh_count_procs("sleep 30.11"), 0,
	    "a command cut by the deadline still runs on the drone 1 s later:\n%s", left);
	free(left);
	fu_kill_exact("sleep 30.11");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

static void
sg_interrupt(int sig, const char *sleep)
{
	struct fu_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path, *left;
	double sent;

	cr_assert_eq(dxh_count_procs(sleep), 0, "a '%s' is already running", sleep);
	path = sg_inventory(6, sleep, &inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "2", NULL };

		fu_spawn(&p, av, 0);
	}
	cr_expect_eq(fu_wait_count(sleep, 2, 5.0), 2, "the two first calls never ran");
	while (dxh_now() - p.start < 1.0)
		fu_pump(&p, 20);
	sent = dxh_now() - p.start;
	kill(p.pid, sig);
	fu_finish(&p, &r, 20, NULL);
	cr_log_info("signal %d at %.2f s, exit %d at %.2f s", sig, sent, r.status, r.wall);
	cr_expect_eq(r.status, 130, "exit %d (signal %d), stderr: %s", r.status, r.termsig,
	    r.err);
	cr_expect_leq(r.wall - sent, 2.0, "took %.2f s after the signal", r.wall - sent);
	sg_check_cut(&r, 6, 2, "interrupted", true);
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

Test(signals, sigint_cuts_running_drones_skips_the_rest_and_exits_130, .timeout = 30)
{
	sg_interrupt(SIGINT, "sleep 30.21");
}

Test(signals, sigterm_cuts_running_drones_skips_the_rest_and_exits_130, .timeout = 30)
{
	sg_interrupt(SIGTERM, "sleep 30.22");
}

/* Drones stuck in a handshake still end promptly on one SIGINT. */
Test(signals, sigint_during_handshakes_ends_the_run_within_a_second, .timeout = 30)
{
	struct fu_proc p;
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

		fu_spawn(&p, av, 0);
	}
	while (dxh_now() - p.start < 1.0)
		fu_pump(&p, 20);
	sent = dxh_now() - p.start;
	kill(p.pid, SIGINT);
	fu_finish(&p, &r, 25, NULL);
	cr_log_info("SIGINT at %.2f s during handshakes, exit %d at %.2f s", sent, r.status,
	    r.wall);
	cr_expect_eq(r.status, 130, "exit %d (signal %d), stderr: %s", r.status, r.termsig,
	    r.err);
	cr_expect_leq(r.wall - sent, 1.0, "took %.2f s after SIGINT", r.wall - sent);
	sg_check_cut(&r, 4, 2, "interrupted", false);
	dxh_run_free(&r);
	close(fd);
	json_decref(inv);
	free(path);
}

Test(signals, a_second_sigint_during_handshakes_exits_at_once, .timeout = 30)
{
	struct fu_proc p;
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

		fu_spawn(&p, av, 0);
	}
	while (dxh_now() - p.start < 1.0)
		fu_pump(&p, 20);
	kill(p.pid, SIGINT);
	usleep(50 * 1000);
	second = dxh_now() - p.start;
	kill(p.pid, SIGINT);
	fu_finish(&p, &r, 25, NULL);
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
sg_frozen(bool twice, const char *sleep)
{
	struct fu_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path;
	pid_t sleeper, sshd = -1;
	double first, second = 0;
	bool stop_ok;

	cr_assert_eq(dxh_count_procs(sleep), 0, "a '%s' is already running", sleep);
	path = sg_inventory(1, sleep, &inv);
	{
		const char *av[] = { "exec", "-i", path, "--keepalive", "0", NULL };

		fu_spawn(&p, av, 0);
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
	fu_finish(&p, &r, 25, NULL);
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

Test(signals, sigint_with_a_frozen_sshd_ends_within_the_cleanup_budget, .timeout = 40)
{
	sg_frozen(false, "sleep 30.24");
}

Test(signals, a_second_sigint_exits_at_once_while_teardown_waits, .timeout = 40)
{
	sg_frozen(true, "sleep 30.25");
}
