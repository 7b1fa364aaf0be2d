/*
 * test_deadline.c - the run's deadline (--deadline, SPEC 3, 5, 6): it ends
 * the run on time with the complete JSON (running drones failed with kind
 * deadline, the rest skipped with it, one stderr line each), and ends the
 * cut commands on the drone.  (A deadline during name resolution is in
 * test_resolve.c; at scale, in test_scale.c.)
 *
 * The test sleeps for a value no other test uses, and the command lives
 * in the inventory so that dronex's own command line never matches.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "faults_util.h"
#include "harness.h"

Test(deadline, the_deadline_ends_the_run_on_time_with_every_drone_reported, .timeout = 30)
{
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path, *left, name[32], *line;
	int i;

	cr_assert_eq(dxh_count_procs("sleep 30.11"), 0, "a 'sleep 30.11' is already running");
	path = fu_inventory(6, "sleep 30.11", &inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "2", "--deadline", "2", NULL };

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 20 });
	}
	cr_expect_eq(fu_wait_count("sleep 30.11", 2, 2.0), 2, "the two first calls never ran");
	dxh_finish(&p, &r);
	cr_log_info("--deadline 2: returned after %.2f s", r.wall);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_leq(r.wall, 3.0, "took %.2f s with --deadline 2", r.wall);
	cr_expect_geq(r.wall, 1.8, "ended after %.2f s, before the deadline", r.wall);
	fu_check_cut(&r, 6, 2, "deadline", true);
	cr_expect_eq(dxh_summary(&r, "ok"), 0);
	/* One line on stderr per drone, saying what the deadline did to it. */
	for (i = 1; i <= 6; i++) {
		dxh_name(name, sizeof(name), i);
		if (strcmp(dxh_status(&r, name), "failed") == 0)
			cr_assert(asprintf(&line, "dronex: drone %s failed: deadline: ", name) > 0);
		else
			cr_assert(asprintf(&line, "dronex: drone %s skipped: ", name) > 0);
		cr_expect_eq(dxh_count_lines(r.err, line), 1, "%s: stderr: %s", name, r.err);
		free(line);
	}
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
