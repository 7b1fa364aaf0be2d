/*
 * test_cli_signals.c - SIGHUP ends a run as SIGTERM does (cut, ended on
 * the drone, results printed, exit 130), and a stray SIGUSR2 sent to
 * dronex does not switch Ctrl-C off (SPEC 5).
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

/* Starts "exec" on two drones that each run call; waits until both run. */
static char *
cs_start(struct dxh_proc *p, const char *call, json_t **inv)
{
	char *path;

	cr_assert_eq(dxh_count_procs(call), 0, "a '%s' is already running", call);
	*inv = dxh_inv_new(2);
	dxh_inv_calls(*inv, "d-001", call, NULL);
	dxh_inv_calls(*inv, "d-002", call, NULL);
	path = dxh_inv_write(*inv);
	{
		const char *av[] = { "exec", "-i", path, NULL };
		struct dxh_opts o = { .timed = true, .timeout = 20 };

		dxh_start(p, av, &o);
	}
	cr_assert_eq(fu_wait_count(call, 2, 5.0), 2, "the calls never ran");
	return path;
}

/* Both drones were cut with kind interrupted, and the document says so. */
static void
cs_check(const struct dxh_run *r, double sent, const char *call)
{
	cr_expect_eq(r->status, 130, "exit %d (signal %d), stderr: %s", r->status,
	    r->termsig, r->err);
	cr_expect_leq(r->wall - sent, 3.0, "took %.2f s after the signal", r->wall - sent);
	cr_assert_not_null(r->json, "no JSON on stdout: %s", r->out);
	cr_expect_eq(dxh_summary(r, "drones"), 2);
	cr_expect_str_eq(dxh_status(r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(r, "d-001"), "interrupted");
	cr_expect_str_eq(dxh_kind(r, "d-002"), "interrupted");
	usleep(500 * 1000);
	cr_expect_eq(dxh_count_procs(call), 0, "the cut command still runs on the drone");
	fu_kill_exact(call);
}

Test(cli_signals, sighup_cuts_the_run_prints_it_and_exits_130, .timeout = 30)
{
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path = cs_start(&p, "sleep 30.31", &inv);
	double sent;

	sent = dxh_now() - p.start;
	kill(p.pid, SIGHUP);
	dxh_finish(&p, &r);
	cs_check(&r, sent, "sleep 30.31");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_signals, a_stray_sigusr2_leaves_ctrl_c_working, .timeout = 30)
{
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path = cs_start(&p, "sleep 30.32", &inv);
	double sent;

	kill(p.pid, SIGUSR2);
	/* Give the stray signal time to be taken before the real one. */
	dxh_pump(&p, 300);
	cr_expect_eq(kill(p.pid, 0), 0, "SIGUSR2 ended dronex");
	sent = dxh_now() - p.start;
	kill(p.pid, SIGINT);
	dxh_finish(&p, &r);
	cs_check(&r, sent, "sleep 30.32");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}
