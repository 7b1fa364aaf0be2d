/*
 * test_spool_cli.c - serve's clients on a spool with no serve running
 * (SPEC section 7): submit writes a private, well-formed request and
 * prints its id; options serve decides are refused; status and the
 * control commands say serve is not running; wait prints a result exactly
 * as exec would and exits as exec would; abort tells unknown and finished
 * requests apart.
 */
#include "config.h"

#include <criterion/criterion.h>

#include "spool_util.h"

static json_t *
load(const char *spool, const char *sub, const char *name)
{
	char *p = su_path(spool, sub, name);
	json_error_t e;
	json_t *v = json_load_file(p, 0, &e);

	cr_assert_not_null(v, "'%s': %s", p, e.text);
	free(p);
	return v;
}

Test(spool_cli, submit_writes_a_private_request_and_prints_its_id, .timeout = 60)
{
	struct su_serve s;
	struct stat st;
	json_t *req, *o;
	char *id, *p;
	char *sdir;

	su_init(&s, 0);
	id = su_submit(&s, (const char *[]){ "-w", "web-[01-03]", "-x", "web-02",
	    "-g", "prod", "--shard", "1/2", "-t", "2.5", "--retries", "0",
	    "--host-key-check", "accept-new", "-l", "deploy", "--port", "2222",
	    "--priority", "-3", "--", "echo", "hi", NULL });
	cr_assert_eq(strlen(id), 39, "id '%s'", id);
	/* The spool was made private, and the request with it. */
	cr_assert_eq(stat(s.spool, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	p = su_path(s.spool, "requested", id);
	cr_assert_eq(lstat(p, &st), 0, "no requested/%s", id);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600);
	free(p);
	sdir = su_path(s.spool, NULL, "tmp");
	cr_assert_eq(rmdir(sdir), 0, "tmp/ is left empty");
	free(sdir);
	req = load(s.spool, "requested", id);
	cr_assert_eq(json_integer_value(json_object_get(req, "dronex_request")), 1);
	cr_assert_eq(json_integer_value(json_object_get(req, "priority")), -3);
	o = json_object_get(req, "selection");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "drones"),
	    0)), "web-[01-03]");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "exclude"),
	    0)), "web-02");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "labels"),
	    0)), "prod");
	cr_assert_str_eq(json_string_value(json_object_get(o, "shard")), "1/2");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(req,
	    "calls"), 0)), "echo hi");
	o = json_object_get(req, "options");
	cr_assert(json_number_value(json_object_get(o, "timeout")) == 2.5);
	cr_assert(json_is_integer(json_object_get(o, "retries")) &&
	    json_integer_value(json_object_get(o, "retries")) == 0,
	    "--retries 0 is given, so it is written");
	cr_assert_str_eq(json_string_value(json_object_get(o, "host_key_check")),
	    "accept-new");
	cr_assert_str_eq(json_string_value(json_object_get(o, "user")), "deploy");
	cr_assert_eq(json_integer_value(json_object_get(o, "port")), 2222);
	/* What was not given is not written: serve's defaults apply. */
	cr_assert_null(json_object_get(o, "deadline"));
	cr_assert_null(json_object_get(o, "max_output"));
	json_decref(req);
	free(id);
	su_free(&s);
}

Test(spool_cli, ids_sort_in_submit_order, .timeout = 60)
{
	struct su_serve s;
	char *a, *b, *c;

	su_init(&s, 0);
	a = su_submit(&s, (const char *[]){ "--", "true", NULL });
	b = su_submit(&s, (const char *[]){ "--", "true", NULL });
	c = su_submit(&s, (const char *[]){ NULL });
	cr_assert_lt(strcmp(a, b), 0, "%s %s", a, b);
	cr_assert_lt(strcmp(b, c), 0, "%s %s", b, c);
	free(a);
	free(b);
	free(c);
	su_free(&s);
}

Test(spool_cli, submit_reads_stdin_and_a_names_file, .timeout = 60)
{
	struct su_serve s;
	char *names, *in, *id;
	json_t *req, *o;

	su_init(&s, 0);
	names = dxh_write_file(s.dir, "names", "# web tier\nweb-1\n  web-2  # x\n\n");
	in = dxh_write_file(s.dir, "in", "payload\n");
	{
		char w[512];

		snprintf(w, sizeof(w), "^%s", names);
		id = su_submit(&s, (const char *[]){ "-w", w, "--stdin", in, "--", "cat",
		    NULL });
	}
	req = load(s.spool, "requested", id);
	o = json_object_get(req, "selection");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o,
	    "drones"), 0)), "web-1,web-2", "serve never reads the client's files");
	o = json_object_get(req, "options");
	cr_assert_str_eq(json_string_value(json_object_get(o, "stdin_base64")),
	    "cGF5bG9hZAo=");
	json_decref(req);
	free(id);
	free(names);
	free(in);
	su_free(&s);
}

Test(spool_cli, submit_refuses_what_serve_decides, .timeout = 60)
{
	static const char *const opts[][3] = {
		{ "-f", "4", "--fanout" },
		{ "-i", "drones.json", "--inventory" },
		{ "--identity", "/k", "--identity" },
		{ "--keepalive", "5", "--keepalive" },
		{ "--format", "text", "--format" },
		{ "--explain", "a", "--explain" },
	};
	struct su_serve s;

	su_init(&s, 0);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *argv[] = { "submit", "--spool", s.spool, opts[i][0],
		    opts[i][1], "--", "true", NULL };
		struct dxh_run r;

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 2, "%s: exit %d", opts[i][0], r.status);
		cr_expect(strstr(r.err, opts[i][2]) != NULL &&
		    strstr(r.err, "does nothing for 'dronex submit'") != NULL,
		    "%s: %s", opts[i][0], r.err);
		cr_expect_eq(r.outlen, 0, "no id printed");
		dxh_run_free(&r);
	}
	cr_assert(!su_exists(s.spool, NULL, "requested") ||
	    rmdir(su_path(s.spool, NULL, "requested")) == 0, "nothing submitted");
	/* And exec refuses submit's own. */
	{
		const char *argv[] = { "exec", "--priority", "3", "-w", "a", "--", "true",
		    NULL };
		struct dxh_run r;

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 2);
		cr_expect(strstr(r.err, "'--priority' does nothing for 'dronex exec'"),
		    "%s", r.err);
		dxh_run_free(&r);
	}
	su_free(&s);
}

Test(spool_cli, the_spool_comes_from_the_environment_or_is_asked_for, .timeout = 60)
{
	struct su_serve s;
	struct dxh_run r;
	char *env;

	su_init(&s, 0);
	{
		const char *argv[] = { "submit", "--", "true", NULL };

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 2);
		cr_expect(strstr(r.err, "give --spool DIR or set DRONEX_SPOOL"), "%s",
		    r.err);
		dxh_run_free(&r);
	}
	{
		const char *argv[] = { "submit", "--", "true", NULL };
		struct dxh_opts o = { .timeout = 30 };
		const char *envv[2];

		cr_assert(asprintf(&env, "DRONEX_SPOOL=%s", s.spool) > 0);
		envv[0] = env;
		envv[1] = NULL;
		o.env = envv;
		dxh_run_argv(&r, argv, &o);
		cr_expect_eq(r.status, 0, "%s", r.err);
		r.out[r.outlen > 0 ? r.outlen - 1 : 0] = '\0';
		cr_expect(su_exists(s.spool, "requested", r.out), "requested/%s", r.out);
		dxh_run_free(&r);
		free(env);
	}
	su_free(&s);
}

Test(spool_cli, status_and_control_say_serve_is_not_running, .timeout = 60)
{
	static const char *const cmds[][3] = {
		{ "status", NULL }, { "pause", NULL }, { "resume", NULL },
		{ "resize", "4", NULL },
		{ "priority", "20261202T013300.123456Z-0000012345-0001", "5" },
	};
	struct su_serve s;
	char *id;

	su_init(&s, 0);
	id = su_submit(&s, (const char *[]){ "--", "true", NULL });
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *argv[] = { cmds[i][0], "--spool", s.spool, cmds[i][1],
		    cmds[i][1] != NULL ? cmds[i][2] : NULL, NULL };
		struct dxh_run r;

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 1, "%s: exit %d: %s", cmds[i][0], r.status, r.err);
		cr_expect(strstr(r.err, "serve is not running on") != NULL, "%s: %s",
		    cmds[i][0], r.err);
		dxh_run_free(&r);
	}
	/* No control file is left for a serve that starts later. */
	cr_assert_eq(rmdir(su_path(s.spool, NULL, "control")), 0);
	free(id);
	su_free(&s);
}

Test(spool_cli, usage_errors_exit_2, .timeout = 60)
{
	static const char *const cmds[][5] = {
		{ "wait", NULL },				/* no id */
		{ "wait", "../x", NULL },			/* not an id */
		{ "wait", "a", "b", NULL },			/* two */
		{ "wait", "a", "--format", "xml", NULL },
		{ "wait", "a", "--timeout", "0", NULL },
		{ "abort", "a", "--timeout", "3", NULL },	/* not abort's */
		{ "status", "--format", "xml", NULL },
		{ "resize", "0", NULL },
		{ "resize", "many", NULL },
		{ "priority", "a", NULL },
		{ "priority", "a", "high", NULL },
		{ "pause", "now", NULL },
	};
	struct su_serve s;

	su_init(&s, 0);
	free(su_submit(&s, (const char *[]){ NULL }));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *argv[10] = { cmds[i][0], "--spool", s.spool };
		struct dxh_run r;
		size_t n = 3;

		for (size_t k = 1; k < 5 && cmds[i][k] != NULL; k++)
			argv[n++] = cmds[i][k];
		argv[n] = NULL;
		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 2, "%s %s: exit %d: %s", cmds[i][0],
		    cmds[i][1] ? cmds[i][1] : "", r.status, r.err);
		cr_expect_eq(r.outlen, 0);
		dxh_run_free(&r);
	}
	su_free(&s);
}

static const char ok_doc[] =
    "{\"dronex\":1,\"started\":\"2026-12-02T01:00:00.000Z\",\"elapsed_ms\":5,"
    "\"host_key_check\":\"strict\",\"summary\":{\"drones\":1,\"ok\":1,\"failed\":0,"
    "\"skipped\":0},\"drones\":{\"a\":{\"host\":\"127.0.0.1\",\"port\":22,"
    "\"status\":\"ok\",\"attempts\":1,\"elapsed_ms\":3,\"error\":null,\"calls\":[]}},"
    "\"error\":null,\"request\":\"R1\"}";
static const char failed_doc[] =
    "{\"dronex\":1,\"started\":\"2026-12-02T01:00:00.000Z\",\"elapsed_ms\":5,"
    "\"host_key_check\":\"strict\",\"summary\":{\"drones\":2,\"ok\":1,\"failed\":1,"
    "\"skipped\":0},\"drones\":{\"a\":{\"status\":\"ok\",\"error\":null,\"calls\":[]},"
    "\"b\":{\"status\":\"failed\",\"error\":{\"kind\":\"connect_refused\","
    "\"message\":\"connection refused\"},\"calls\":[]}},"
    "\"error\":\"1 of 2 drones failed: b (connect_refused)\",\"request\":\"R2\"}";
static const char refused_doc[] =
    "{\"dronex\":1,\"started\":\"2026-12-02T01:00:00.000Z\",\"elapsed_ms\":0,"
    "\"summary\":{\"drones\":0,\"ok\":0,\"failed\":0,\"skipped\":0},\"drones\":{},"
    "\"refused\":true,\"error\":\"request R3: field 'options.timeout': expected a "
    "number\",\"request\":\"R3\"}";

Test(spool_cli, wait_prints_the_result_as_exec_and_exits_as_exec, .timeout = 60)
{
	struct su_serve s;
	struct dxh_run r;

	su_init(&s, 0);
	free(su_submit(&s, (const char *[]){ NULL }));	/* makes the spool */
	su_put(s.spool, "complete", "R1", ok_doc, 0600);
	su_put(s.spool, "complete", "R2", failed_doc, 0600);
	su_put(s.spool, "complete", "R3", refused_doc, 0600);
	{
		const char *argv[] = { "wait", "--spool", s.spool, "R1", NULL };

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 0, "%s", r.err);
		/* exec's compact one-line document, keys in exec's order. */
		cr_expect_eq(r.outlen, strlen(ok_doc) + 1);
		cr_expect(strncmp(r.out, ok_doc, strlen(ok_doc)) == 0, "%s", r.out);
		cr_expect(!su_exists(s.spool, "complete", "R1"), "the result is removed");
		dxh_run_free(&r);
	}
	{
		const char *argv[] = { "wait", "--spool", s.spool, "R2", "--pretty", NULL };

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 1);
		cr_expect_eq(dxh_summary(&r, "failed"), 1);
		cr_expect(strchr(r.out, '\n') != r.out + r.outlen - 1, "--pretty indents");
		cr_expect(strstr(r.err, "dronex: drone b failed: connect_refused: "
		    "connection refused\n") != NULL, "%s", r.err);
		dxh_run_free(&r);
	}
	{
		const char *argv[] = { "wait", "--spool", s.spool, "R3", NULL };

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 2, "a refused request exits 2");
		cr_expect(json_is_true(json_object_get(r.json, "refused")));
		cr_expect(strstr(r.err, "field 'options.timeout'") != NULL, "%s", r.err);
		dxh_run_free(&r);
	}
	su_put(s.spool, "complete", "R2", failed_doc, 0600);
	{
		const char *argv[] = { "wait", "--spool", s.spool, "--format", "jsonl",
		    "-q", "R2", NULL };
		json_t *line;

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 1);
		cr_expect_eq(dxh_count_lines(r.out, "{\"type\":\"drone\""), 2, "%s", r.out);
		line = json_loads(strrchr(r.out, '{') == NULL ? "" :
		    strstr(r.out, "{\"type\":\"summary\""), JSON_DISABLE_EOF_CHECK, NULL);
		cr_expect_not_null(line, "%s", r.out);
		cr_expect_eq(json_integer_value(json_object_get(json_object_get(line,
		    "summary"), "failed")), 1);
		json_decref(line);
		/* -q: only the one-line error. */
		cr_expect_str_eq(r.err, "dronex: 1 of 2 drones failed: b (connect_refused)\n");
		dxh_run_free(&r);
	}
	/* --format text: exec's own text output, from the document. */
	su_put(s.spool, "complete", "R2", failed_doc, 0600);
	{
		const char *argv[] = { "wait", "--spool", s.spool, "--format", "text",
		    "R2", NULL };

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 1);
		cr_expect_null(r.json);
		cr_expect(strstr(r.out, "2 drones: 1 ok, 1 failed, 0 skipped") != NULL,
		    "%s", r.out);
		cr_expect(strstr(r.out, "b failed: connect_refused: connection refused")
		    != NULL, "%s", r.out);
		dxh_run_free(&r);
	}
	su_free(&s);
}

Test(spool_cli, wait_keeps_a_result_it_could_not_print, .timeout = 60)
{
	struct su_serve s;
	struct dxh_run r;
	const char *argv[] = { "wait", "--spool", "", "R1", NULL };
	struct dxh_opts o = { .timeout = 30 };
	int fd;

	su_init(&s, 0);
	free(su_submit(&s, (const char *[]){ NULL }));
	su_put(s.spool, "complete", "R1", ok_doc, 0600);
	argv[2] = s.spool;
	cr_assert_geq(fd = open("/dev/full", O_WRONLY), 0);
	o.stdout_fd = fd;
	dxh_run_argv(&r, argv, &o);
	close(fd);
	cr_expect_eq(r.status, 3, "exit %d: %s", r.status, r.err);
	cr_expect(su_exists(s.spool, "complete", "R1"), "not printed, so kept");
	dxh_run_free(&r);
	su_free(&s);
}

Test(spool_cli, abort_tells_unknown_and_finished_requests_apart, .timeout = 60)
{
	struct su_serve s;
	struct dxh_run r;
	char *id;

	su_init(&s, 0);
	id = su_submit(&s, (const char *[]){ "--", "true", NULL });
	su_put(s.spool, "complete", "R1", ok_doc, 0600);
	{
		const char *argv[] = { "abort", "--spool", s.spool,
		    "20991231T000000.000000Z-0000000001-0000", NULL };

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 2);
		cr_expect(strstr(r.err, "no request") != NULL, "%s", r.err);
		dxh_run_free(&r);
	}
	{
		const char *argv[] = { "abort", "--spool", s.spool, "R1", NULL };

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 1);
		cr_expect(strstr(r.err, "already finished") != NULL, "%s", r.err);
		cr_expect(!su_exists(s.spool, "aborting", "R1"));
		dxh_run_free(&r);
	}
	{
		const char *argv[] = { "abort", "--spool", s.spool, id, NULL };
		struct stat st;
		char *p = su_path(s.spool, "aborting", id);

		su_client(NULL, &r, argv, 30);
		cr_expect_eq(r.status, 0, "%s", r.err);
		cr_expect(strstr(r.err, "serve is not running") != NULL, "%s", r.err);
		cr_expect_eq(lstat(p, &st), 0, "aborting/%s", id);
		cr_expect_eq(st.st_mode & 07777, 0600);
		free(p);
		dxh_run_free(&r);
	}
	free(id);
	su_free(&s);
}

Test(spool_cli, wait_for_an_unknown_request_exits_2, .timeout = 60)
{
	struct su_serve s;
	struct dxh_run r;
	const char *argv[] = { "wait", "--spool", "", "R9", "--timeout", "30", NULL };

	su_init(&s, 0);
	free(su_submit(&s, (const char *[]){ NULL }));
	argv[2] = s.spool;
	su_client(NULL, &r, argv, 30);
	cr_expect_eq(r.status, 2);
	cr_expect(r.wall < 5, "at once, not after the timeout");
	cr_expect(strstr(r.err, "no request 'R9'") != NULL, "%s", r.err);
	dxh_run_free(&r);
	su_free(&s);
}

Test(spool_cli, a_spool_others_can_write_is_refused, .timeout = 60)
{
	struct su_serve s;
	struct dxh_run r;
	const char *argv[] = { "submit", "--spool", "", "--", "true", NULL };

	su_init(&s, 0);
	free(su_submit(&s, (const char *[]){ NULL }));
	cr_assert_eq(chmod(s.spool, 0777), 0);
	argv[2] = s.spool;
	su_client(NULL, &r, argv, 30);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "writable by group or others") != NULL, "%s", r.err);
	dxh_run_free(&r);
	su_free(&s);
}
