/*
 * test_queue_error.c - the consolidated error (SPEC section 5): it counts
 * failed and skipped drones exactly as the summary does, and folds the
 * names of each kind into ranges so that its length does not grow with
 * the fleet.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dronex.h"
#include "queue_error.h"

/* What the fake executor does with a drone: the kind it fails with. */
struct qe_drone {
	char		 name[32];
	enum dx_kind	 kind;		/* DX_OK: the call succeeds */
};

static void
qe_exec(void *arg, const struct dx_job *job, const struct dx_ctl *ctl,
    struct dx_result *res)
{
	const struct qe_drone *d = job->drone;
	struct dx_call_result *c;

	(void)arg;
	(void)ctl;
	if (d->kind != DX_OK) {
		dx_err_set(&res->error, d->kind, "fake failure of '%s'", d->name);
		return;
	}
	res->calls_sent = 1;
	if ((c = dx_result_add_call(res, job->calls[0], 64, &res->error)) != NULL)
		c->exit_status = 0;
}

static void
qe_done(void *arg, size_t index, const struct dx_job *job, struct dx_result *res)
{
	(void)arg;
	(void)index;
	(void)job;
	(void)res;
}

/* Runs the drones one at a time, in order, and returns the error. */
static char *
qe_run(struct qe_drone *d, size_t n, size_t max_failures)
{
	static const char *const calls[] = { "true" };
	struct dx_queue_opts qo;
	struct dx_queue *q;
	struct dx_err err = { 0 };
	struct dx_job job;
	char *e;

	memset(&qo, 0, sizeof(qo));
	qo.fanout = 1;
	qo.max_failures = max_failures;
	q = dx_queue_new(&qo, qe_exec, NULL, &err);
	cr_assert_not_null(q, "%s", err.msg);
	for (size_t i = 0; i < n; i++) {
		memset(&job, 0, sizeof(job));
		job.name = d[i].name;
		job.drone = &d[i];
		job.calls = calls;
		job.ncalls = 1;
		cr_assert_eq(dx_queue_add(q, &job, &err), 0, "%s", err.msg);
	}
	cr_assert_eq(dx_queue_run(q, qe_done, NULL, &err), 0, "%s", err.msg);
	e = dx_queue_error(q);
	dx_queue_free(q);
	return e;
}

Test(queue_error, counts_failed_and_skipped_apart)
{
	struct qe_drone d[12];
	char *e;

	/* 4 ok, 4 failed, then --max-failures 4 skips the last 4. */
	for (int i = 0; i < 12; i++) {
		snprintf(d[i].name, sizeof(d[i].name), "web-%02d", i + 1);
		d[i].kind = i >= 4 && i < 8 ? DX_CONNECT_REFUSED : DX_OK;
	}
	e = qe_run(d, 12, 4);
	cr_assert_not_null(e);
	cr_expect_str_eq(e, "4 of 12 drones failed, 4 skipped: "
	    "web-[05-08] (connect_refused), web-[09-12] (skipped: max_failures)");
	free(e);
}

Test(queue_error, folds_each_kind_into_ranges_in_the_order_of_its_first_drone)
{
	struct qe_drone d[40];
	char *e;

	for (int i = 0; i < 40; i++) {
		snprintf(d[i].name, sizeof(d[i].name), "web-%02d", i + 1);
		d[i].kind = DX_CONNECT_REFUSED;
	}
	snprintf(d[30].name, sizeof(d[30].name), "db-1");
	d[30].kind = DX_AUTH;
	d[35].kind = DX_OK;
	e = qe_run(d, 40, 0);
	cr_assert_not_null(e);
	cr_expect_str_eq(e, "39 of 40 drones failed: "
	    "web-[01-30,32-35,37-40] (connect_refused), db-1 (auth)");
	free(e);
}

Test(queue_error, singular_and_skipped_only_read_right)
{
	struct qe_drone one = { "solo", DX_AUTH };
	struct qe_drone two[3] = { { "a1", DX_AUTH }, { "a2", DX_OK }, { "a3", DX_OK } };
	char *e;

	e = qe_run(&one, 1, 0);
	cr_expect_str_eq(e, "1 of 1 drone failed: solo (auth)");
	free(e);
	e = qe_run(two, 3, 0);
	cr_expect_str_eq(e, "1 of 3 drones failed: a1 (auth)");
	free(e);
	two[0].kind = DX_OK;
	cr_expect_null(qe_run(two, 3, 0));
}

Test(queue_error, a_thousand_failures_make_one_short_line)
{
	static struct qe_drone d[1000];
	char *e;

	for (int i = 0; i < 1000; i++) {
		snprintf(d[i].name, sizeof(d[i].name), "n%04d", i + 1);
		d[i].kind = i % 2 ? DX_CONNECT_REFUSED : DX_AUTH;
	}
	e = qe_run(d, 1000, 0);
	cr_assert_not_null(e);
	cr_expect_lt(strlen(e), 500, "%zu bytes: %s", strlen(e), e);
	cr_expect(strncmp(e, "1000 of 1000 drones failed: n[0001,0003,", 40) == 0, "%s", e);
	cr_expect(strstr(e, "] and ") != NULL, "%s", e);
	cr_expect(strstr(e, " more (auth), n[0002,0004,") != NULL, "%s", e);
	cr_expect(strstr(e, " more (connect_refused)") != NULL, "%s", e);
	free(e);
}

Test(queue_error, names_without_numbers_are_cut_with_a_count)
{
	static struct qe_drone d[300];
	char *e;
	size_t shown = 0, more = 0;
	const char *p;

	for (int i = 0; i < 300; i++) {
		/* Letters only: nothing to fold. */
		snprintf(d[i].name, sizeof(d[i].name), "h%c%c%c", 'a' + i / 100,
		    'a' + i / 10 % 10, 'a' + i % 10);
		d[i].kind = DX_RESOLVE;
	}
	e = qe_run(d, 300, 0);
	cr_assert_not_null(e);
	cr_expect_lt(strlen(e), 260, "%zu bytes: %s", strlen(e), e);
	for (p = strstr(e, ": ") + 2; *p != ' '; p++)
		shown += *p == ',';
	shown++;
	cr_assert_eq(sscanf(p, " and %zu more (resolve)", &more), 1, "%s", e);
	cr_expect_eq(shown + more, 300, "%zu shown + %zu more: %s", shown, more, e);
	free(e);
}

Test(queue_error, a_plain_list_reads_as_the_queue_does)
{
	struct qe_drone d[6] = { { "n1", DX_OK }, { "n2", DX_AUTH },
	    { "n10", DX_CONNECT_REFUSED }, { "n3", DX_AUTH }, { "n4", DX_OK },
	    { "n5", DX_OK } };
	struct dx_error_entry v[7];
	char *q, *l;

	for (int i = 0; i < 6; i++) {
		v[i].name = d[i].name;
		v[i].status = d[i].kind == DX_OK ? DX_ST_OK : DX_ST_FAILED;
		v[i].kind = d[i].kind;
	}
	q = qe_run(d, 6, 0);
	l = dx_error_line(v, 6);
	cr_assert_not_null(q);
	cr_assert_not_null(l);
	cr_expect_str_eq(l, q);
	cr_expect_str_eq(l, "3 of 6 drones failed: n[2-3] (auth), n10 (connect_refused)");
	free(q);
	free(l);
	/* Skipped with no kind, skipped with one, and a pending drone. */
	v[6].name = "n6";
	v[6].status = DX_ST_PENDING;
	v[0].status = DX_ST_SKIPPED;
	v[0].kind = DX_OK;
	v[4].status = DX_ST_SKIPPED;
	v[4].kind = DX_INTERRUPTED;
	l = dx_error_line(v, 7);
	cr_assert_not_null(l);
	cr_expect_str_eq(l, "3 of 7 drones failed, 2 skipped: n1 (skipped), "
	    "n[2-3] (auth), n10 (connect_refused), n4 (skipped: interrupted)");
	free(l);
	cr_expect_null(dx_error_line(v, 0));
}
