/*
 * test_jobs.c - the queue jobs of a run (jobs.h): one per selected drone,
 * in selection order, each with the drone's own calls first and then the
 * run's, pointing at its target.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "jobs.h"

static const char jb_text[] =
    "{\"drones\": [{\"name\": \"a\", \"calls\": [\"uptime\", \"df\"]},"
    " {\"name\": \"b\", \"priority\": 5}, {\"name\": \"c\", \"calls\": [\"id\"]}]}";

Test(jobs, own_calls_first_then_the_runs_in_selection_order)
{
	static const char *const run[] = { "echo x", "true" };
	struct dx_inventory inv;
	struct dx_target targets[2];
	struct dx_jobs jobs;
	struct dx_err err = { 0 };
	const size_t idx[] = { 2, 1 };

	setenv("HOME", "/home/op", 1);
	cr_assert_eq(dx_inventory_parse(&inv, jb_text, strlen(jb_text), "j.json",
	    &err), 0, "%s", err.msg);
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(dx_target_resolve(&targets[i], &inv,
		    &inv.drones[idx[i]], NULL, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(dx_jobs_build(&jobs, &inv, idx, targets, 2, run, 2, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(jobs.n, 2);
	cr_expect_str_eq(jobs.v[0].name, "c");
	cr_expect_eq(jobs.v[0].ncalls, 3);
	cr_expect_str_eq(jobs.v[0].calls[0], "id");
	cr_expect_str_eq(jobs.v[0].calls[1], "echo x");
	cr_expect_str_eq(jobs.v[0].calls[2], "true");
	cr_expect_null(jobs.v[0].calls[3]);
	cr_expect_eq(jobs.v[0].drone, (const void *)&targets[0]);
	cr_expect_str_eq(jobs.v[1].name, "b");
	cr_expect_eq(jobs.v[1].priority, 5);
	cr_expect_eq(jobs.v[1].ncalls, 2);
	cr_expect_str_eq(jobs.v[1].calls[0], "echo x");
	dx_jobs_release(&jobs);
	dx_jobs_release(&jobs);

	/* No run calls: the drone's own alone. */
	cr_assert_eq(dx_jobs_build(&jobs, &inv, (const size_t[]){ 0 }, targets, 1,
	    NULL, 0, &err), 0, "%s", err.msg);
	cr_expect_eq(jobs.v[0].ncalls, 2);
	cr_expect_str_eq(jobs.v[0].calls[1], "df");
	dx_jobs_release(&jobs);
	for (size_t i = 0; i < 2; i++)
		dx_target_release(&targets[i]);
	dx_inventory_release(&inv);
}
