/*
 * test_spool_serve.c - serve's clients against a real "dronex serve" and
 * the suite's sshd (SPEC section 7): submit + wait gives exec's document
 * and exit status; status in JSON and in Prometheus' text format; pause,
 * resume, resize and priority get serve's reply (and its refusal, on
 * stderr, exit 1); wait --timeout aborts the request and exits 4; abort of
 * a running request; examples/submit.py and examples/scheduler-loop.sh
 * against the same serve.
 */
#include "config.h"

#include <sys/wait.h>

#include <dirent.h>
#include <stdarg.h>

#include <criterion/criterion.h>

#include "spool_util.h"

/* Runs a client with argv inline (NULL-terminated). */
static void
cl(struct su_serve *s, struct dxh_run *r, double timeout, ...)
{
	const char *argv[32];
	va_list ap;
	size_t n = 0;

	va_start(ap, timeout);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	su_client(s, r, argv, timeout);
}

/* Waits (pumping serve) until DIR/sub/id exists; false after 30 s. */
static bool
await_in(struct su_serve *s, const char *sub, const char *id)
{
	for (double end = dxh_now() + 30; dxh_now() < end; su_pump(s, 50))
		if (su_exists(s->spool, sub, id))
			return true;
	return false;
}

Test(spool_serve, submit_then_wait_is_exec_through_serve, .timeout = 180)
{
	struct su_serve s;
	struct dxh_run r, log;
	char *id;

	su_init(&s, 3);
	su_start(&s, NULL);
	id = su_submit(&s, (const char *[]){ "-x", "d-002", "--", "echo", "hi", NULL });
	cl(&s, &r, 60, "wait", "--spool", s.spool, id, "--timeout", "60", NULL);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_expect_eq(dxh_summary(&r, "drones"), 2);
	cr_expect_eq(dxh_summary(&r, "ok"), 2);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "hi\n");
	cr_expect_str_eq(json_string_value(json_object_get(r.json, "request")), id);
	cr_expect(json_object_get(json_object_get(r.json, "drones"), "d-002") == NULL,
	    "-x went with the request");
	cr_expect(!su_exists(s.spool, "complete", id), "wait removed the result");
	dxh_run_free(&r);
	/* A failing call: exit 1 and exec's line on stderr. */
	free(id);
	id = su_submit(&s, (const char *[]){ "-w", "d-003", "--", "exit", "3", NULL });
	cl(&s, &r, 60, "wait", "--spool", s.spool, id, NULL);
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, "d-003"), "nonzero_exit");
	cr_expect(strstr(r.err, "dronex: drone d-003 failed: nonzero_exit") != NULL,
	    "%s", r.err);
	dxh_run_free(&r);
	/* A request serve refuses: an unknown drone. */
	free(id);
	id = su_submit(&s, (const char *[]){ "-w", "nosuch", "--", "true", NULL });
	cl(&s, &r, 60, "wait", "--spool", s.spool, id, NULL);
	cr_expect_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_expect(json_is_true(json_object_get(r.json, "refused")), "%s", r.out);
	dxh_run_free(&r);
	free(id);
	su_stop(&s, &log);
	dxh_run_free(&log);
	su_free(&s);
}

Test(spool_serve, status_as_json_and_prometheus, .timeout = 180)
{
	struct su_serve s;
	struct dxh_run r, log;
	char *id;
	json_t *st;

	su_init(&s, 2);
	su_start(&s, NULL);
	id = su_submit(&s, (const char *[]){ "--", "true", NULL });
	cl(&s, &r, 60, "wait", "--spool", s.spool, id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	dxh_run_free(&r);
	su_pump(&s, 600);	/* status.json is rewritten at most ~5 times a second */
	cl(&s, &r, 30, "status", "--spool", s.spool, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	st = r.json;
	cr_assert_not_null(st, "%s", r.out);
	cr_expect_eq(json_integer_value(json_object_get(st, "dronex_status")), 1);
	cr_expect_eq(json_integer_value(json_object_get(st, "pid")), s.p.pid);
	cr_expect_geq(json_integer_value(json_object_get(st, "received")), 1);
	cr_expect_eq(json_integer_value(json_object_get(st, "drones")), 2);
	cr_expect(json_is_false(json_object_get(st, "paused")));
	dxh_run_free(&r);
	cl(&s, &r, 30, "status", "--spool", s.spool, "--format", "prometheus", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_null(r.json, "text, not JSON");
	cr_expect(strstr(r.out, "# TYPE dronex_serve_pending gauge\n"), "%s", r.out);
	cr_expect(strstr(r.out, "# TYPE dronex_serve_received_total counter\n"));
	cr_expect(strstr(r.out, "\ndronex_serve_received_total 1\n"), "%s", r.out);
	cr_expect(strstr(r.out, "\ndronex_serve_paused 0\n"));
	cr_expect(strstr(r.out, "# TYPE dronex_serve_wait_seconds summary\n"));
	cr_expect(strstr(r.out, "\ndronex_serve_wait_seconds{quantile=\"0.99\"} "));
	cr_expect(strstr(r.out, "\ndronex_serve_run_seconds_count 1\n"), "%s", r.out);
	/* Every sample line is NAME[{labels}] VALUE. */
	for (char *line = r.out, *nl; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		cr_assert_not_null(nl, "the text ends with a newline");
		if (line[0] == '#')
			continue;
		cr_expect(strncmp(line, "dronex_serve_", 13) == 0, "%.*s",
		    (int)(nl - line), line);
		cr_expect(memchr(line, ' ', (size_t)(nl - line)) != NULL);
	}
	dxh_run_free(&r);
	free(id);
	su_stop(&s, &log);
	dxh_run_free(&log);
	/* After serve: not running, exit 1. */
	cl(NULL, &r, 30, "status", "--spool", s.spool, NULL);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "serve is not running") != NULL, "%s", r.err);
	dxh_run_free(&r);
	su_free(&s);
}

Test(spool_serve, control_replies_and_refusals, .timeout = 180)
{
	struct su_serve s;
	struct dxh_run r, log;
	char *held, *running;

	su_init(&s, 2);
	su_start(&s, NULL);
	cl(&s, &r, 30, "pause", "--spool", s.spool, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	dxh_run_free(&r);
	/* Paused: a request stays pending, and its priority may change. */
	held = su_submit(&s, (const char *[]){ "-w", "d-001", "--", "true", NULL });
	cr_assert(await_in(&s, "pending", held), "accepted while paused");
	su_pump(&s, 300);
	cr_expect(su_exists(s.spool, "pending", held), "not started while paused");
	cl(&s, &r, 30, "priority", "--spool", s.spool, held, "-2", NULL);
	cr_expect_eq(r.status, 0, "a negative priority is an operand: %s", r.err);
	dxh_run_free(&r);
	cl(&s, &r, 30, "priority", "--spool", s.spool, held, "9", NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	dxh_run_free(&r);
	cl(&s, &r, 30, "resize", "--spool", s.spool, "1", NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	dxh_run_free(&r);
	cl(&s, &r, 30, "resume", "--spool", s.spool, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	dxh_run_free(&r);
	cl(&s, &r, 60, "wait", "--spool", s.spool, held, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	dxh_run_free(&r);
	/* A running request's priority cannot change: serve says why. */
	running = su_submit(&s, (const char *[]){ "-w", "d-002", "--", "sleep", "30",
	    NULL });
	cr_assert(await_in(&s, "running", running));
	cl(&s, &r, 30, "priority", "--spool", s.spool, running, "3", NULL);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "dronex: priority: ") != NULL &&
	    strstr(r.err, "running") != NULL, "%s", r.err);
	dxh_run_free(&r);
	/* An unknown one either. */
	cl(&s, &r, 30, "priority", "--spool", s.spool,
	    "20991231T000000.000000Z-0000000001-0000", "3", NULL);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "20991231T000000.000000Z-0000000001-0000") != NULL,
	    "%s", r.err);
	dxh_run_free(&r);
	/* Neither control files nor replies are left behind. */
	su_pump(&s, 300);
	{
		char *p = su_path(s.spool, NULL, "control");
		struct dirent *de;
		DIR *d = opendir(p);
		int left = 0;

		cr_assert_not_null(d);
		while ((de = readdir(d)) != NULL)
			left += de->d_name[0] != '.';
		closedir(d);
		cr_expect_eq(left, 0, "%d files in control/", left);
		free(p);
	}
	/* abort of the running one: cut, then a result with kind interrupted. */
	cl(&s, &r, 30, "abort", "--spool", s.spool, running, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	dxh_run_free(&r);
	cl(&s, &r, 60, "wait", "--spool", s.spool, running, NULL);
	cr_expect_eq(r.status, 1);
	cr_expect_str_eq(dxh_kind(&r, "d-002"), "interrupted");
	cr_expect(r.wall < 20, "the call was cut, not waited for: %.1f s", r.wall);
	dxh_run_free(&r);
	free(held);
	free(running);
	su_stop(&s, &log);
	cr_expect(strstr(log.err, "pause applied") != NULL, "%s", log.err);
	dxh_run_free(&log);
	su_free(&s);
}

Test(spool_serve, wait_timeout_aborts_and_exits_4, .timeout = 180)
{
	struct su_serve s;
	struct dxh_run r, log;
	char *id;

	su_init(&s, 2);
	su_start(&s, NULL);
	id = su_submit(&s, (const char *[]){ "--", "sleep", "60", NULL });
	cr_assert(await_in(&s, "running", id));
	cl(&s, &r, 60, "wait", "--spool", s.spool, id, "--timeout", "1", NULL);
	cr_expect_eq(r.status, 4, "exit %d: %s", r.status, r.err);
	cr_expect(r.wall >= 0.9 && r.wall < 10, "%.1f s", r.wall);
	/* The aborted result came within the grace: printed and removed. */
	cr_expect_eq(dxh_summary(&r, "ok"), 0);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "interrupted");
	cr_expect(strstr(r.err, "did not finish within 1 s: aborted") != NULL, "%s",
	    r.err);
	cr_expect(!su_exists(s.spool, "complete", id));
	cr_expect(!su_exists(s.spool, "running", id));
	dxh_run_free(&r);
	free(id);
	su_stop(&s, &log);
	dxh_run_free(&log);
	su_free(&s);
}

/* Runs a shell command line with the spool and dronex in the environment. */
static int
sh(struct su_serve *s, const char *cmdline, char **out)
{
	char *full, buf[4096];
	size_t len = 0, cap = 0;
	FILE *f;
	int st;

	*out = NULL;
	cr_assert(asprintf(&full, "cd '%s' && DRONEX_SPOOL='%s' DRONEX='%s' %s",
	    dxh_env("DRONEX_SRCDIR"), s->spool, dxh_env("DRONEX_BIN"), cmdline) > 0);
	cr_assert_not_null(f = popen(full, "r"));
	/* serve's log is pumped between reads: the example is not blocked. */
	for (;;) {
		size_t n;

		su_pump(s, 0);
		if ((n = fread(buf, 1, sizeof(buf), f)) == 0)
			break;
		dxh_append(out, &len, &cap, buf, n);
	}
	if (*out == NULL)
		*out = strdup("");
	st = pclose(f);
	free(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(spool_serve, the_examples_run_against_serve, .timeout = 240)
{
	struct su_serve s;
	struct dxh_run log;
	char *out, *nl;
	json_t *doc;
	int rc;

	su_init(&s, 2);
	su_start(&s, NULL);
	/* submit.py writes the request by the same protocol and waits. */
	rc = sh(&s, "python3 examples/submit.py --wait --wait-timeout 60 -w d-001 "
	    "--priority 2 -- echo from python", &out);
	cr_expect_eq(rc, 0, "%s", out);
	nl = strchr(out, '\n');
	cr_assert_not_null(nl, "%s", out);
	cr_expect_eq(nl - out, 39, "the id first: %s", out);
	doc = json_loads(nl + 1, 0, NULL);
	cr_assert_not_null(doc, "%s", out);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_object_get(json_object_get(doc, "drones"), "d-001"),
	    "calls"), 0), "stdout")), "from python\n");
	json_decref(doc);
	free(out);
	/* A refused one exits 2. */
	rc = sh(&s, "python3 examples/submit.py --wait -w nosuch -- true 2>/dev/null",
	    &out);
	cr_expect_eq(rc, 2, "%s", out);
	free(out);
	/* The tick loop: 3 ticks, one line each, every drone ok. */
	rc = sh(&s, "sh examples/scheduler-loop.sh -n 3 -s 0 -t 60 -- uptime", &out);
	cr_expect_eq(rc, 0, "%s", out);
	cr_expect_eq(dxh_count_lines(out, "tick "), 3, "%s", out);
	cr_expect(strstr(out, "exit 0 drones=2 ok=2 failed=0 skipped=0") != NULL, "%s",
	    out);
	free(out);
	su_stop(&s, &log);
	dxh_run_free(&log);
	su_free(&s);
}
