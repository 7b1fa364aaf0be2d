/*
 * test_serve_crash.c - kill -9 of "dronex serve" at any moment, then a
 * restart: every request whose id was handed out gets exactly one result,
 * and every call runs at most once (SPEC section 7, "Crash safety").
 *
 * Each call appends its own unique id to a file on the drone (the suite's
 * sshd on 127.0.0.1, so a local file).  At the end: every id appended at
 * most once; an id appended only where its result says the call ran
 * (exit status 0) or may have ("unknown": true); a call whose result says
 * it ran was appended.
 *
 * One test per crash point (DRONEX_CRASH_POINT=NAME: serve raises SIGKILL
 * there), then the random one: DX_SERVE_CRASH_KILLS kills (default 50) at
 * random moments over thousands of requests.
 */
#include "config.h"

#include <dirent.h>

#include "serve_util.h"

static char *
inv_path(int n)
{
	json_t *inv = dxh_inv_new(n);
	char *p = dxh_inv_write(inv);

	json_decref(inv);
	return p;
}

/* How often each id appears in the file, one id a line. */
static json_t *
count_lines(const char *path)
{
	json_t *counts = json_object();
	char *text = dxh_read_file(path), *save = NULL, *line;

	if (text == NULL)
		return counts;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		json_object_set_new(counts, line, json_integer(
		    json_integer_value(json_object_get(counts, line)) + 1));
	free(text);
	return counts;
}

/*
 * Checks the result of a request whose call k appended uids[k] on drone:
 * a call recorded as run was appended once, an unknown one at most once,
 * anything else never.  Returns how many calls ran or may have.
 */
static void
check_calls(json_t *res, const char *drone, const char *const *uids,
    size_t n, json_t *counts)
{
	json_t *calls = json_object_get(json_object_get(json_object_get(res,
	    "drones"), drone), "calls");

	cr_assert(json_object_get(json_object_get(res, "drones"), drone) != NULL,
	    "result %s has no drone %s", json_string_value(json_object_get(res,
	    "request")), drone);
	for (size_t k = 0; k < n; k++) {
		json_t *c = json_array_get(calls, k);
		long long seen = json_integer_value(json_object_get(counts, uids[k]));
		bool unknown = json_is_true(json_object_get(c, "unknown"));
		bool ran = json_is_integer(json_object_get(c, "exit_status")) &&
		    json_integer_value(json_object_get(c, "exit_status")) == 0;

		cr_expect(seen <= 1, "call %s ran %lld times", uids[k], seen);
		if (ran)
			cr_expect_eq(seen, 1, "call %s says it ran but did not append",
			    uids[k]);
		else if (!unknown)
			cr_expect_eq(seen, 0, "call %s appended but its result says "
			    "it did not run", uids[k]);
	}
}

static void
kill_wait(struct srv *s, double secs, bool want_sigkill, const char *point)
{
	struct dxh_run r;
	double end = dxh_now() + secs;

	while (dxh_now() < end && kill(s->p.pid, 0) == 0 &&
	    dxh_pump(&s->p, 50))
		;
	if (!want_sigkill)
		kill(s->p.pid, SIGKILL);
	srv_finish(s, &r);
	if (want_sigkill)
		cr_expect_eq(r.termsig, SIGKILL, "crash point %s was not hit "
		    "(exit %d): %s", point, r.status, r.err);
	dxh_run_free(&r);
}

/* One crash point: a request of two calls on d-001, killed, recovered. */
static void
crash_at(const char *point)
{
	struct srv s = { 0 };
	char *inv = inv_path(1), *spool = srv_spool_dir(), *f, id[80], doc[600];
	char env[100], u1[120], u2[120];
	const char *uids[2] = { u1, u2 };
	const char *envv[2] = { env, NULL };
	json_t *res, *counts;
	char *d = dxh_tmpdir();

	cr_assert(asprintf(&f, "%s/ran", d) > 0);
	free(d);
	snprintf(env, sizeof(env), "DRONEX_CRASH_POINT=%s", point);
	snprintf(u1, sizeof(u1), "%s-1", point);
	snprintf(u2, sizeof(u2), "%s-2", point);
	srv_start_env(&s, spool, inv, envv, NULL);
	cr_assert(srv_wait_file(&s, "", "status.json", true, 10), "%s", s.p.err);
	if (strcmp(point, "control-applied") == 0) {
		srv_put(&s, "control", "c1.json", "{\"dronex_control\": 1, "
		    "\"op\": \"pause\"}");
		kill_wait(&s, 20, true, point);
		srv_start(&s, spool, inv, NULL);
		cr_expect(srv_wait_file(&s, "control", "c1.json", false, 10));
		cr_expect(srv_wait_file(&s, "control", "c1.reply", true, 10));
		srv_stop(&s);
		goto out;
	}
	if (strcmp(point, "abort-applied") == 0)
		srv_put(&s, "control", "c1.json", "{\"dronex_control\": 1, "
		    "\"op\": \"pause\"}");
	snprintf(doc, sizeof(doc), "{\"dronex_request\": 1, \"calls\": ["
	    "\"echo %s >> %s\", \"echo %s >> %s\"]}", u1, f, u2, f);
	if (strcmp(point, "abort-applied") == 0) {
		cr_assert(srv_wait_file(&s, "control", "c1.reply", true, 10));
		srv_submit(&s, doc, id, sizeof(id));
		cr_assert(srv_wait_file(&s, "pending", id, true, 10));
		srv_abort(&s, id);
	} else
		srv_submit(&s, doc, id, sizeof(id));
	kill_wait(&s, 20, true, point);
	/* The point was passed: recovery must make it right. */
	srv_start(&s, spool, inv, NULL);
	res = srv_result(&s, id, 30);
	cr_assert(res != NULL, "no result after the restart at %s: %s", point,
	    s.p.err);
	cr_expect_str_eq(json_string_value(json_object_get(res, "request")), id);
	srv_pump(&s, 300);
	counts = count_lines(f);
	check_calls(res, "d-001", uids, 2, counts);
	if (strcmp(point, "abort-applied") == 0)
		cr_expect_str_eq(srv_drone_kind(res, "d-001"), "interrupted");
	if (strcmp(point, "call-journaled") == 0 || strcmp(point, "call-sent") == 0)
		/* Serve died with the first call started: never re-run. */
		cr_expect(json_is_true(json_object_get(json_array_get(json_object_get(
		    json_object_get(json_object_get(res, "drones"), "d-001"),
		    "calls"), 0), "unknown")), "call 0 is not marked unknown");
	cr_expect(srv_wait_file(&s, "running", id, false, 5));
	cr_expect(!srv_exists(&s, "pending", id) && !srv_exists(&s, "requested", id));
	json_decref(counts);
	json_decref(res);
	srv_stop(&s);
out:
	free(f);
	free(inv);
	free(spool);
	free(s.spool);
}

Test(serve_crash, request_accepted, .timeout = 60) { crash_at("request-accepted"); }
Test(serve_crash, request_started, .timeout = 60) { crash_at("request-started"); }
Test(serve_crash, call_journaled, .timeout = 60) { crash_at("call-journaled"); }
Test(serve_crash, call_sent, .timeout = 60) { crash_at("call-sent"); }
Test(serve_crash, drone_done_journaled, .timeout = 60) { crash_at("drone-done-journaled"); }
Test(serve_crash, result_written, .timeout = 60) { crash_at("result-written"); }
Test(serve_crash, control_applied, .timeout = 60) { crash_at("control-applied"); }
Test(serve_crash, abort_applied, .timeout = 60) { crash_at("abort-applied"); }

#define NDRONES	4

Test(serve_crash, random_kills_never_lose_or_repeat_a_call, .timeout = 900)
{
	struct srv s = { 0 };
	const char *e = getenv("DX_SERVE_CRASH_KILLS");
	int kills = e != NULL && atoi(e) > 0 ? atoi(e) : 50, per = 40;
	char *inv = inv_path(NDRONES), *spool = srv_spool_dir(), *f, *d;
	size_t n = 0, cap = (size_t)(kills + 1) * (size_t)per;
	char (*ids)[80] = calloc(cap, 80), (*uids)[40] = calloc(cap, 40);
	int *drone = calloc(cap, sizeof(int));
	json_t *counts;
	double t0 = dxh_now();
	unsigned seed = (unsigned)getpid();

	d = dxh_tmpdir();
	cr_assert(asprintf(&f, "%s/ran", d) > 0);
	free(d);
	cr_assert(ids != NULL && uids != NULL && drone != NULL);
	for (int k = 0; k <= kills; k++) {
		/* Half the batch before the start, half while it serves. */
		for (int i = 0; i < per; i++) {
			char doc[400], dn[16];

			if (i == (k == 0 ? 0 : per / 2))
				srv_start(&s, spool, inv, (const char *[]){ "-f", "4", NULL });
			drone[n] = (int)(rand_r(&seed) % NDRONES) + 1;
			snprintf(dn, sizeof(dn), "d-%03d", drone[n]);
			snprintf(uids[n], 40, "u%d-%d", k, i);
			snprintf(doc, sizeof(doc), "{\"dronex_request\": 1, \"selection\": "
			    "{\"drones\": [\"%s\"]}, \"calls\": [\"echo %s >> %s\"]}",
			    dn, uids[n], f);
			srv_submit(&s, doc, ids[n], sizeof(ids[n]));
			n++;
			if (rand_r(&seed) % 4 == 0)
				srv_pump(&s, (int)(rand_r(&seed) % 20));
		}
		if (k == kills)
			break;
		srv_pump(&s, 20 + (int)(rand_r(&seed) % 400));
		kill_wait(&s, 0, false, "random");
	}
	/* The last serve runs everything left. */
	for (size_t i = 0; i < n; i++) {
		json_t *res = srv_result(&s, ids[i], 120);
		char dn[16];
		const char *u[1] = { uids[i] };

		cr_assert(res != NULL, "request %s (%s) has no result", ids[i], uids[i]);
		cr_expect_str_eq(json_string_value(json_object_get(res, "request")),
		    ids[i]);
		if (i == 0 || i == n - 1 || i % 10 == 0)
			srv_pump(&s, 0);
		json_decref(res);
		(void)dn;
		(void)u;
	}
	srv_pump(&s, 500);
	srv_stop(&s);
	counts = count_lines(f);
	{
		size_t appended = 0, unknown = 0;

		for (size_t i = 0; i < n; i++) {
			char dn[16], *p = srv_path(&s, "complete", ids[i]);
			json_t *res = json_load_file(p, 0, NULL);
			const char *u[1] = { uids[i] };
			json_t *c;

			cr_assert(res != NULL, "%s", p);
			snprintf(dn, sizeof(dn), "d-%03d", drone[i]);
			check_calls(res, dn, u, 1, counts);
			c = json_array_get(json_object_get(json_object_get(
			    json_object_get(res, "drones"), dn), "calls"), 0);
			unknown += json_is_true(json_object_get(c, "unknown"));
			appended += json_integer_value(json_object_get(counts, uids[i])) > 0;
			json_decref(res);
			free(p);
		}
		/* Every line in the file is one of ours, once. */
		cr_expect_eq(json_object_size(counts), appended,
		    "the file holds ids no request made");
		cr_expect(!srv_exists(&s, "running", "x"));
		fprintf(stderr, "serve_crash: %d kills, %zu requests, %zu calls ran, "
		    "%zu unknown, %.1f s\n", kills, n, appended, unknown,
		    dxh_now() - t0);
	}
	{
		/* Nothing left behind in the spool's queues. */
		static const char *const subs[] = { "requested", "pending", "running" };

		for (size_t i = 0; i < 3; i++) {
			char *p = srv_path(&s, subs[i], "");
			DIR *dir = opendir(p);
			struct dirent *de;
			int left = 0;

			cr_assert(dir != NULL);
			while ((de = readdir(dir)) != NULL)
				left += de->d_name[0] != '.';
			closedir(dir);
			cr_expect_eq(left, 0, "%d files left in %s", left, subs[i]);
			free(p);
		}
	}
	json_decref(counts);
	free(ids);
	free(uids);
	free(drone);
	free(f);
	free(inv);
	free(spool);
	free(s.spool);
}
