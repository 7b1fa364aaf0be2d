/*
 * test_serve.c - "dronex serve" against the suite's sshd (SPEC section
 * 7): requests in, exec's documents out, deferral behind a busy drone,
 * priority order, every control operation on a running serve, aborts of
 * pending and running requests (the remote command ended), SIGTERM's
 * drain, SIGHUP's reload, status.json and refused spools and requests.
 */
#include "config.h"

#include "serve_util.h"

static char *
inv_path(int n)
{
	json_t *inv = dxh_inv_new(n);
	char *p = dxh_inv_write(inv);

	json_decref(inv);
	return p;
}

static char *
scratch(const char *name)
{
	char *d = dxh_tmpdir(), *p;

	cr_assert(asprintf(&p, "%s/%s", d, name) > 0);
	free(d);
	return p;
}

static char *
req(const char *sel, const char *calls, const char *extra)
{
	char *s;

	cr_assert(asprintf(&s, "{\"dronex_request\": 1%s%s%s, \"calls\": [%s]%s}",
	    sel ? ", \"selection\": {\"drones\": [\"" : "", sel ? sel : "",
	    sel ? "\"]}" : "", calls, extra ? extra : "") > 0);
	return s;
}

Test(serve, runs_a_request_and_writes_the_exec_document, .timeout = 60)
{
	struct srv s = { 0 };
	char *inv = inv_path(3), *spool = srv_spool_dir(), id[80], *doc;
	json_t *res;
	struct stat st;

	srv_start(&s, spool, inv, (const char *[]){ "-f", "4", NULL });
	cr_assert(srv_wait_file(&s, "", "status.json", true, 10),
	    "serve wrote no status.json: %s", s.p.err);
	cr_assert(stat(spool, &st) == 0 && (st.st_mode & 0777) == 0700);
	doc = req(NULL, "\"echo hello\"", NULL);
	srv_submit(&s, doc, id, sizeof(id));
	res = srv_result(&s, id, 20);
	cr_assert(res != NULL, "no result: %s", s.p.err);
	cr_expect_str_eq(json_string_value(json_object_get(res, "request")), id);
	cr_expect_eq(json_integer_value(json_object_get(res, "dronex")), 1);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(res,
	    "summary"), "ok")), 3);
	cr_expect(json_is_null(json_object_get(res, "error")));
	cr_expect_str_eq(srv_drone_str(res, "d-002", "status"), "ok");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_object_get(json_object_get(res, "drones"),
	    "d-002"), "calls"), 0), "stdout")), "hello\n");
	/* The request and its journal are gone once the result is durable. */
	cr_expect(srv_wait_file(&s, "running", id, false, 5));
	cr_expect(!srv_exists(&s, "pending", id) && !srv_exists(&s, "requested", id));
	json_decref(res);
	srv_stop(&s);
	free(doc);
	free(inv);
	free(spool);
	free(s.spool);
}

Test(serve, refuses_a_bad_request_with_a_result_that_says_why, .timeout = 60)
{
	struct srv s = { 0 };
	char *inv = inv_path(2), *spool = srv_spool_dir(), id[80], id2[80];
	json_t *res;

	srv_start(&s, spool, inv, NULL);
	srv_submit(&s, "{\"dronex_request\": 1, \"options\": {\"timeout\": \"x\"}}",
	    id, sizeof(id));
	res = srv_result(&s, id, 20);
	cr_assert(res != NULL, "no result: %s", s.p.err);
	cr_expect(json_is_true(json_object_get(res, "refused")));
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(res,
	    "summary"), "drones")), 0);
	cr_expect(strstr(json_string_value(json_object_get(res, "error")),
	    "options.timeout") != NULL, "error: %s",
	    json_string_value(json_object_get(res, "error")));
	json_decref(res);
	/* An unknown drone is refused too (a typo never widens a run). */
	srv_submit(&s, "{\"dronex_request\": 1, \"selection\": {\"drones\": "
	    "[\"nosuch\"]}, \"calls\": [\"true\"]}", id2, sizeof(id2));
	res = srv_result(&s, id2, 20);
	cr_assert(res != NULL);
	cr_expect(json_is_true(json_object_get(res, "refused")));
	json_decref(res);
	srv_stop(&s);
	free(inv);
	free(spool);
	free(s.spool);
}

Test(serve, defers_a_request_behind_a_busy_drone, .timeout = 60)
{
	struct srv s = { 0 };
	char *inv = inv_path(2), *spool = srv_spool_dir(), *f = scratch("order");
	char a[80], b[80], *ra, *rb, calla[300], callb[300], *text;
	json_t *x, *y;

	srv_start(&s, spool, inv, (const char *[]){ "-f", "4", NULL });
	snprintf(calla, sizeof(calla), "\"sleep 1; echo A >> %s\"", f);
	snprintf(callb, sizeof(callb), "\"echo B >> %s\"", f);
	ra = req("d-001", calla, NULL);
	rb = req("d-001", callb, NULL);
	srv_submit(&s, ra, a, sizeof(a));
	srv_submit(&s, rb, b, sizeof(b));
	x = srv_result(&s, a, 30);
	y = srv_result(&s, b, 30);
	cr_assert(x != NULL && y != NULL, "no results: %s", s.p.err);
	/* Free fan-out slots, but one drone runs one request at a time. */
	text = dxh_read_file(f);
	cr_expect_str_eq(text, "A\nB\n");
	cr_expect_str_eq(srv_drone_str(y, "d-001", "status"), "ok");
	json_decref(x);
	json_decref(y);
	free(text);
	srv_stop(&s);
	free(ra);
	free(rb);
	free(f);
	free(inv);
	free(spool);
	free(s.spool);
}

static bool
is_paused(json_t *st)
{
	return json_is_true(json_object_get(st, "paused"));
}

static bool
has_fanout_1(json_t *st)
{
	return json_integer_value(json_object_get(st, "fanout")) == 1;
}

Test(serve, priority_order_pause_resume_and_priority_control, .timeout = 90)
{
	struct srv s = { 0 };
	char *inv = inv_path(1), *spool = srv_spool_dir(), *f = scratch("order");
	char ids[3][80], call[300], *r, *text;
	const char *names[3] = { "low", "mid", "high" };
	json_t *rep, *st, *res;

	srv_start(&s, spool, inv, (const char *[]){ "-f", "1", NULL });
	cr_assert(srv_ok(srv_control(&s, "{\"dronex_control\": 1, \"op\": \"pause\"}")));
	st = srv_status(&s, is_paused);
	cr_expect(is_paused(st), "status.json does not say paused");
	json_decref(st);
	for (int i = 0; i < 3; i++) {
		char extra[40];

		snprintf(call, sizeof(call), "\"echo %s >> %s\"", names[i], f);
		snprintf(extra, sizeof(extra), ", \"priority\": %d", i == 2 ? 5 : 0);
		r = req(NULL, call, extra);
		srv_submit(&s, r, ids[i], sizeof(ids[i]));
		free(r);
	}
	/* Paused: accepted, but nothing starts. */
	cr_expect(srv_wait_file(&s, "pending", ids[2], true, 10));
	srv_pump(&s, 700);
	cr_expect(!dxh_exists(f), "a request ran while serve was paused");
	/* "mid" overtakes "low" by its new priority, "high" stays first. */
	rep = srv_control(&s, "{\"dronex_control\": 1, \"op\": \"priority\", "
	    "\"id\": \"nosuch\", \"priority\": 1}");
	cr_expect(json_is_false(json_object_get(rep, "ok")));
	json_decref(rep);
	{
		char doc[300];

		snprintf(doc, sizeof(doc), "{\"dronex_control\": 1, \"op\": "
		    "\"priority\", \"id\": \"%s\", \"priority\": 3}", ids[1]);
		cr_assert(srv_ok(srv_control(&s, doc)));
	}
	cr_assert(srv_ok(srv_control(&s, "{\"dronex_control\": 1, \"op\": \"resume\"}")));
	for (int i = 0; i < 3; i++) {
		res = srv_result(&s, ids[i], 30);
		cr_assert(res != NULL, "no result for %s: %s", names[i], s.p.err);
		json_decref(res);
	}
	text = dxh_read_file(f);
	cr_expect_str_eq(text, "high\nmid\nlow\n");
	free(text);
	{
		/* A finished request's priority is an error that says so. */
		char doc[300];

		snprintf(doc, sizeof(doc), "{\"dronex_control\": 1, \"op\": "
		    "\"priority\", \"id\": \"%s\", \"priority\": 3}", ids[0]);
		rep = srv_control(&s, doc);
		cr_expect(json_is_false(json_object_get(rep, "ok")));
		cr_expect(strstr(json_string_value(json_object_get(rep, "error")),
		    "finished") != NULL);
		json_decref(rep);
	}
	srv_stop(&s);
	free(f);
	free(inv);
	free(spool);
	free(s.spool);
}

Test(serve, priority_of_a_running_request_is_refused, .timeout = 60)
{
	struct srv s = { 0 };
	char *inv = inv_path(1), *spool = srv_spool_dir(), id[80], doc[300], *r;
	json_t *rep, *res;

	srv_start(&s, spool, inv, NULL);
	r = req(NULL, "\"sleep 2\"", NULL);
	srv_submit(&s, r, id, sizeof(id));
	cr_assert(srv_wait_file(&s, "running", id, true, 10));
	snprintf(doc, sizeof(doc), "{\"dronex_control\": 1, \"op\": \"priority\", "
	    "\"id\": \"%s\", \"priority\": 3}", id);
	rep = srv_control(&s, doc);
	cr_expect(json_is_false(json_object_get(rep, "ok")));
	cr_expect(strstr(json_string_value(json_object_get(rep, "error")),
	    "is running: only a pending request's priority can change") != NULL,
	    "error: %s", json_string_value(json_object_get(rep, "error")));
	json_decref(rep);
	res = srv_result(&s, id, 20);
	cr_expect(res != NULL);
	json_decref(res);
	srv_stop(&s);
	free(r);
	free(inv);
	free(spool);
	free(s.spool);
}

Test(serve, resize_sets_the_shared_fanout, .timeout = 60)
{
	struct srv s = { 0 };
	char *inv = inv_path(3), *spool = srv_spool_dir(), *f = scratch("lock");
	char id[80], call[400], *r, *over;
	json_t *st, *res;

	srv_start(&s, spool, inv, (const char *[]){ "-f", "8", NULL });
	cr_assert(srv_ok(srv_control(&s, "{\"dronex_control\": 1, \"op\": "
	    "\"resize\", \"fanout\": 1}")));
	st = srv_status(&s, has_fanout_1);
	cr_expect(has_fanout_1(st));
	json_decref(st);
	cr_expect(!srv_ok(srv_control(&s, "{\"dronex_control\": 1, \"op\": "
	    "\"resize\", \"fanout\": 0}")));
	/* With one slot no two drones overlap. */
	snprintf(call, sizeof(call), "\"mkdir %s || echo overlap >> %s.x; "
	    "sleep 0.3; rmdir %s\"", f, f, f);
	r = req(NULL, call, NULL);
	srv_submit(&s, r, id, sizeof(id));
	res = srv_result(&s, id, 30);
	cr_assert(res != NULL);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(res,
	    "summary"), "ok")), 3);
	cr_assert(asprintf(&over, "%s.x", f) > 0);
	cr_expect(!dxh_exists(over), "drones overlapped at fan-out 1");
	json_decref(res);
	srv_stop(&s);
	free(over);
	free(r);
	free(f);
	free(inv);
	free(spool);
	free(s.spool);
}

Test(serve, abort_of_a_running_request_ends_the_remote_command, .timeout = 60)
{
	struct srv s = { 0 };
	char *inv = inv_path(1), *spool = srv_spool_dir(), id[80], *r;
	json_t *res;
	double end;

	cr_assert_eq(dxh_count_procs("sleep 71.5"), 0);
	srv_start(&s, spool, inv, NULL);
	r = req(NULL, "\"sleep 71.5\"", NULL);
	srv_submit(&s, r, id, sizeof(id));
	end = dxh_now() + 10;
	while (dxh_count_procs("sleep 71.5") == 0 && dxh_now() < end)
		srv_pump(&s, 50);
	cr_assert_eq(dxh_count_procs("sleep 71.5"), 1, "the call never started");
	srv_abort(&s, id);
	res = srv_result(&s, id, 20);
	cr_assert(res != NULL, "no result after the abort: %s", s.p.err);
	cr_expect_str_eq(srv_drone_kind(res, "d-001"), "interrupted");
	end = dxh_now() + 5;
	while (dxh_count_procs("sleep 71.5") > 0 && dxh_now() < end)
		srv_pump(&s, 50);
	cr_expect_eq(dxh_count_procs("sleep 71.5"), 0, "the command outlived the abort");
	cr_expect(srv_wait_file(&s, "aborting", id, false, 5));
	json_decref(res);
	srv_stop(&s);
	free(r);
	free(inv);
	free(spool);
	free(s.spool);
}

Test(serve, abort_of_a_pending_request_skips_every_drone, .timeout = 60)
{
	struct srv s = { 0 };
	char *inv = inv_path(2), *spool = srv_spool_dir(), id[80], *r;
	json_t *res, *st;

	srv_start(&s, spool, inv, NULL);
	cr_assert(srv_ok(srv_control(&s, "{\"dronex_control\": 1, \"op\": \"pause\"}")));
	r = req(NULL, "\"true\"", NULL);
	srv_submit(&s, r, id, sizeof(id));
	cr_assert(srv_wait_file(&s, "pending", id, true, 10));
	srv_abort(&s, id);
	res = srv_result(&s, id, 20);
	cr_assert(res != NULL, "no result after the abort: %s", s.p.err);
	cr_expect_str_eq(srv_drone_str(res, "d-001", "status"), "skipped");
	cr_expect_str_eq(srv_drone_kind(res, "d-002"), "interrupted");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(res,
	    "summary"), "skipped")), 2);
	cr_expect(srv_wait_file(&s, "pending", id, false, 5));
	cr_expect(srv_wait_file(&s, "aborting", id, false, 5));
	json_decref(res);
	st = srv_status(&s, NULL);
	cr_expect_eq(json_integer_value(json_object_get(st, "dronex_status")), 1);
	json_decref(st);
	srv_stop(&s);
	free(r);
	free(inv);
	free(spool);
	free(s.spool);
}

Test(serve, sigterm_drains_running_requests_then_exits_0, .timeout = 60)
{
	struct srv s = { 0 };
	char *inv = inv_path(1), *spool = srv_spool_dir(), id[80], id2[80], *r;
	struct dxh_run run;
	json_t *res;

	srv_start(&s, spool, inv, NULL);
	r = req(NULL, "\"sleep 1; echo done\"", NULL);
	srv_submit(&s, r, id, sizeof(id));
	cr_assert(srv_wait_file(&s, "running", id, true, 10));
	kill(s.p.pid, SIGTERM);
	srv_pump(&s, 200);
	/* No new request starts while draining: it waits in pending/. */
	srv_submit(&s, r, id2, sizeof(id2));
	srv_finish(&s, &run);
	cr_expect_eq(run.status, 0, "exit %d: %s", run.status, run.err);
	res = srv_result(&s, id, 1);
	cr_assert(res != NULL, "the running request has no result");
	cr_expect_str_eq(srv_drone_str(res, "d-001", "status"), "ok");
	cr_expect(!srv_exists(&s, "complete", id2));
	json_decref(res);
	dxh_run_free(&run);
	/* The next serve runs it. */
	srv_start(&s, spool, inv, NULL);
	res = srv_result(&s, id2, 20);
	cr_expect(res != NULL, "the request left pending never ran");
	json_decref(res);
	srv_stop(&s);
	free(r);
	free(inv);
	free(spool);
	free(s.spool);
}

Test(serve, sighup_reloads_the_inventory_and_keeps_it_when_bad, .timeout = 60)
{
	struct srv s = { 0 };
	json_t *inv = dxh_inv_new(1), *res;
	char *path = dxh_inv_write(inv), *spool = srv_spool_dir(), id[80];
	const char *doc = "{\"dronex_request\": 1, \"selection\": {\"drones\": "
	    "[\"d-002\"]}, \"calls\": [\"echo two\"]}";
	FILE *f;

	srv_start(&s, spool, path, NULL);
	srv_submit(&s, doc, id, sizeof(id));
	res = srv_result(&s, id, 20);
	cr_assert(res != NULL);
	cr_expect(json_is_true(json_object_get(res, "refused")), "d-002 is not there yet");
	json_decref(res);
	/* A broken inventory is logged and the old one kept. */
	cr_assert((f = fopen(path, "w")) != NULL);
	fputs("{\"drones\": [", f);
	fclose(f);
	kill(s.p.pid, SIGHUP);
	{
		double end = dxh_now() + 10;

		while (strstr(s.p.err ? s.p.err : "", "keeping the old one") == NULL &&
		    dxh_now() < end)
			srv_pump(&s, 50);
	}
	cr_expect(strstr(s.p.err, "keeping the old one") != NULL, "%s", s.p.err);
	dxh_inv_add(inv, "d-002");
	cr_assert(json_dump_file(inv, path, 0) == 0);
	kill(s.p.pid, SIGHUP);
	{
		double end = dxh_now() + 10;

		while (strstr(s.p.err, "1 added") == NULL && dxh_now() < end)
			srv_pump(&s, 50);
	}
	srv_submit(&s, doc, id, sizeof(id));
	res = srv_result(&s, id, 20);
	cr_assert(res != NULL);
	cr_expect_str_eq(srv_drone_str(res, "d-002", "status"), "ok", "%s", s.p.err);
	json_decref(res);
	srv_stop(&s);
	json_decref(inv);
	free(path);
	free(spool);
	free(s.spool);
}

static bool
completed_1(json_t *st)
{
	return json_integer_value(json_object_get(st, "completed")) == 1;
}

Test(serve, status_json_counts_and_times, .timeout = 60)
{
	struct srv s = { 0 };
	char *inv = inv_path(2), *spool = srv_spool_dir(), id[80], *r;
	json_t *st, *res;
	static const char *const keys[] = { "pid", "started", "updated", "paused",
	    "draining", "fanout", "pending", "running", "received", "completed",
	    "aborted", "warm_sessions", "busy_sessions", "max_sessions", "wait_ms",
	    "run_ms", "drones", "cooled" };

	srv_start(&s, spool, inv, NULL);
	r = req(NULL, "\"true\"", NULL);
	srv_submit(&s, r, id, sizeof(id));
	res = srv_result(&s, id, 20);
	cr_assert(res != NULL);
	json_decref(res);
	st = srv_status(&s, completed_1);
	cr_assert(st != NULL);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect(json_object_get(st, keys[i]) != NULL, "no '%s'", keys[i]);
	cr_expect_eq(json_integer_value(json_object_get(st, "pid")), s.p.pid);
	cr_expect_eq(json_integer_value(json_object_get(st, "received")), 1);
	cr_expect_eq(json_integer_value(json_object_get(st, "completed")), 1);
	cr_expect_eq(json_integer_value(json_object_get(st, "drones")), 2);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(st,
	    "run_ms"), "count")), 1);
	cr_expect(json_is_number(json_object_get(json_object_get(st, "wait_ms"),
	    "p99")));
	json_decref(st);
	srv_stop(&s);
	free(r);
	free(inv);
	free(spool);
	free(s.spool);
}

Test(serve, one_serve_per_spool_and_an_unsafe_spool_is_refused, .timeout = 60)
{
	struct srv s = { 0 }, t = { 0 };
	char *inv = inv_path(1), *spool = srv_spool_dir();
	struct dxh_run run;

	srv_start(&s, spool, inv, NULL);
	cr_assert(srv_wait_file(&s, "", "status.json", true, 10));
	srv_start(&t, spool, inv, NULL);
	srv_finish(&t, &run);
	cr_expect_eq(run.status, 2, "a second serve: exit %d", run.status);
	cr_expect(strstr(run.err, "already running") != NULL, "%s", run.err);
	dxh_run_free(&run);
	srv_stop(&s);
	cr_assert(chmod(spool, 0770) == 0);
	srv_start(&t, spool, inv, NULL);
	srv_finish(&t, &run);
	cr_expect_eq(run.status, 2, "a group-writable spool: exit %d", run.status);
	dxh_run_free(&run);
	free(inv);
	free(spool);
	free(s.spool);
	free(t.spool);
}

static bool
has_cooled(json_t *st)
{
	return json_array_size(json_object_get(st, "cooled")) == 1;
}

Test(serve, a_drone_that_keeps_failing_is_throttled_and_skipped, .timeout = 60)
{
	struct srv s = { 0 };
	json_t *inv = dxh_inv_new(2), *res = NULL, *st;
	char *path, *spool = srv_spool_dir(), id[80];
	const char *doc = "{\"dronex_request\": 1, \"selection\": {\"drones\": "
	    "[\"d-002\"]}, \"calls\": [\"true\"]}";

	dxh_inv_set(inv, "d-002", "port", json_integer(dxh_closed_port()));
	path = dxh_inv_write(inv);
	srv_start(&s, spool, path, (const char *[]){ "--throttle-failures", "2",
	    "--throttle-window", "600", NULL });
	for (int i = 0; i < 2; i++) {
		srv_submit(&s, doc, id, sizeof(id));
		res = srv_result(&s, id, 20);
		cr_assert(res != NULL);
		cr_expect_str_eq(srv_drone_kind(res, "d-002"), "connect_refused");
		json_decref(res);
	}
	srv_submit(&s, doc, id, sizeof(id));
	res = srv_result(&s, id, 20);
	cr_assert(res != NULL);
	cr_expect_str_eq(srv_drone_str(res, "d-002", "status"), "skipped");
	cr_expect_str_eq(srv_drone_kind(res, "d-002"), "throttled");
	json_decref(res);
	st = srv_status(&s, has_cooled);
	cr_expect(has_cooled(st), "status.json lists no cooled drone");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(st, "cooled"), 0), "drone")), "d-002");
	json_decref(st);
	srv_stop(&s);
	json_decref(inv);
	free(path);
	free(spool);
	free(s.spool);
}

Test(serve, request_options_stdin_timeout_and_max_failures, .timeout = 60)
{
	struct srv s = { 0 };
	char *inv = inv_path(3), *spool = srv_spool_dir(), a[80], b[80], c[80];
	json_t *res;

	srv_start(&s, spool, inv, (const char *[]){ "-f", "1", NULL });
	srv_submit(&s, "{\"dronex_request\": 1, \"selection\": {\"drones\": "
	    "[\"d-001\"]}, \"calls\": [\"cat\"], \"options\": {\"stdin_base64\": "
	    "\"aGVsbG8=\"}}", a, sizeof(a));
	srv_submit(&s, "{\"dronex_request\": 1, \"selection\": {\"drones\": "
	    "[\"d-002\"]}, \"calls\": [\"sleep 30\"], \"options\": {\"timeout\": 1}}",
	    b, sizeof(b));
	/* Fan-out 1: after the first failure no other drone of it starts. */
	srv_submit(&s, "{\"dronex_request\": 1, \"calls\": [\"false\"], "
	    "\"options\": {\"max_failures\": 1}}", c, sizeof(c));
	res = srv_result(&s, a, 20);
	cr_assert(res != NULL);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_object_get(json_object_get(res, "drones"),
	    "d-001"), "calls"), 0), "stdout")), "hello");
	json_decref(res);
	res = srv_result(&s, b, 20);
	cr_assert(res != NULL);
	cr_expect_str_eq(srv_drone_kind(res, "d-002"), "call_timeout");
	json_decref(res);
	res = srv_result(&s, c, 20);
	cr_assert(res != NULL);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(res,
	    "summary"), "failed")), 1);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(res,
	    "summary"), "skipped")), 2);
	{
		int skipped = 0;
		const char *k;

		for (int i = 1; i <= 3; i++) {
			char name[16];

			dxh_name(name, sizeof(name), i);
			k = srv_drone_kind(res, name);
			skipped += k != NULL && strcmp(k, "max_failures") == 0;
		}
		cr_expect_eq(skipped, 2, "drones skipped for max_failures: %d", skipped);
	}
	json_decref(res);
	srv_stop(&s);
	free(inv);
	free(spool);
	free(s.spool);
}
