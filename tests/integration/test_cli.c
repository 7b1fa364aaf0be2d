/*
 * test_cli.c - the command line's contract (SPEC 3, 5): exit codes, the
 * one-line-per-drone stderr, usage and inventory errors (exit 2, nothing
 * run, stdout empty, FILE:LINE:COL), --help and --version, and selections
 * with "dronex list".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

/* Asserts the shape of every exit-2 error: one "dronex: " line, no stdout. */
static void
cli_expect_usage_error(const struct dxh_run *r, const char *what)
{
	cr_expect_eq(r->status, 2, "%s: exit %d, stderr: %s", what, r->status, r->err);
	cr_expect_eq(r->outlen, 0, "%s: stdout not empty: %.500s", what, r->out);
	cr_expect_eq(dxh_count_lines(r->err, "dronex: "), 1, "%s: stderr: '%s'", what, r->err);
	cr_expect_eq(dxh_count_lines(r->err, ""), 1, "%s: stderr has more than one line: '%s'",
	    what, r->err);
}

/*
 * Finds "PATH:LINE:COL" in text and returns 0 with line and col filled,
 * or -1 if it is not there.
 */
static int
cli_position(const char *text, const char *path, int *line, int *col)
{
	const char *p = text;
	size_t plen = strlen(path);

	while ((p = strstr(p, path)) != NULL) {
		if (sscanf(p + plen, ":%d:%d", line, col) == 2)
			return 0;
		p += plen;
	}
	return -1;
}

/* The names in a "dronex list" array, comma-separated. */
static char *
cli_list_names(const struct dxh_run *r)
{
	json_t *d;
	size_t i;
	char *s = strdup("");

	cr_assert(r->json != NULL && json_is_array(r->json),
	    "dronex list did not print a JSON array: exit %d, stdout %.500s, stderr %.500s",
	    r->status, r->out, r->err);
	json_array_foreach(r->json, i, d) {
		char *t;
		const char *name = json_string_value(json_object_get(d, "name"));

		cr_assert_not_null(name, "list entry #%zu has no name", i);
		cr_assert(asprintf(&t, "%s%s%s", s, *s ? "," : "", name) > 0);
		free(s);
		s = t;
	}
	return s;
}

Test(cli, all_ok_exits_0_with_empty_stderr, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(3);
	char *path = dxh_inv_write(inv);

	dxh_run(&r, "exec", "-i", path, "--", "true", NULL);
	cr_expect_eq(r.status, 0, "exit %d", r.status);
	cr_expect_eq(r.errlen, 0, "stderr: %s", r.err);
	cr_expect_eq(dxh_summary(&r, "ok"), 3);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli, one_failed_drone_exits_1_with_one_stderr_line, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(3), *doc;
	char *path;
	const char *error;

	dxh_inv_calls(inv, "d-002", "exit 7", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-002 failed: nonzero_exit: "), 1,
	    "stderr: '%s'", r.err);
	cr_expect_eq(dxh_count_lines(r.err, ""), 1, "stderr: '%s'", r.err);
	doc = dxh_doc(&r);
	error = json_string_value(json_object_get(doc, "error"));
	cr_assert_not_null(error, "top-level error is not a string");
	cr_expect(strncmp(error, "1 of 3 drones failed: ", 22) == 0, "error: '%s'", error);
	cr_expect(strstr(error, "d-002 (nonzero_exit)") != NULL, "error: '%s'", error);
	cr_expect_eq(dxh_summary(&r, "ok"), 2);
	cr_expect_eq(dxh_summary(&r, "failed"), 1);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli, max_failures_skips_the_drones_not_started, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(3);
	char *path = dxh_inv_write(inv);
	const char *error;

	dxh_run(&r, "exec", "-i", path, "-f", "1", "--max-failures", "1", "--", "exit 1", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "nonzero_exit");
	cr_expect_str_eq(dxh_status(&r, "d-002"), "skipped");
	cr_expect_str_eq(dxh_kind(&r, "d-002"), "max_failures");
	cr_expect_str_eq(dxh_status(&r, "d-003"), "skipped");
	cr_expect_str_eq(dxh_kind(&r, "d-003"), "max_failures");
	cr_expect_eq(dxh_summary(&r, "failed"), 1);
	cr_expect_eq(dxh_summary(&r, "skipped"), 2);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-001 failed: nonzero_exit: "), 1,
	    "stderr: '%s'", r.err);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-002 skipped: "), 1,
	    "stderr: '%s'", r.err);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-003 skipped: "), 1,
	    "stderr: '%s'", r.err);
	cr_expect_eq(dxh_count_lines(r.err, ""), 3, "stderr: '%s'", r.err);
	error = json_string_value(json_object_get(dxh_doc(&r), "error"));
	cr_assert_not_null(error);
	/* Failed and skipped are counted apart, as summary counts them. */
	cr_expect(strncmp(error, "1 of 3 drones failed, 2 skipped: ", 33) == 0,
	    "error: '%s'", error);
	cr_expect(strstr(error, "d-001 (nonzero_exit)") != NULL, "error: '%s'", error);
	cr_expect(strstr(error, "d-[002-003] (skipped: max_failures)") != NULL,
	    "error: '%s'", error);
	dxh_run_free(&r);
	free(path);
	json_decref(inv);
}

Test(cli, an_unknown_option_exits_2_with_one_line, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(1);
	char *path = dxh_inv_write(inv);

	dxh_run(&r, "exec", "-i", path, "--no-such-option", "--", "true", NULL);
	cli_expect_usage_error(&r, "--no-such-option");
	dxh_run_free(&r);
	dxh_run(&r, "no-such-subcommand", NULL);
	cli_expect_usage_error(&r, "no-such-subcommand");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli, bad_option_values_exit_2_and_run_nothing, .timeout = 40)
{
	static const char *bad[][2] = {
		{ "-f", "0" },
		{ "-f", "abc" },
		{ "-f", "-3" },
		{ "-f", "8x" },
		{ "--host-key-check", "maybe" },
		{ "--format", "yaml" },
		{ "-t", "soon" },
		{ "-t", "-1" },
		{ "--connect-timeout", "x" },
		{ "--deadline", "-5" },
		{ "--max-output", "lots" },
		{ "--retries", "-1" },
		{ "--max-failures", "none" },
	};
	struct dxh_run r;
	json_t *inv = dxh_inv_new(1);
	char *dir = dxh_tmpdir(), *marker, *touch, *path, what[100];
	size_t i;

	cr_assert(asprintf(&marker, "%s/marker", dir) > 0);
	cr_assert(asprintf(&touch, "touch %s", marker) > 0);
	path = dxh_inv_write(inv);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(what, sizeof(what), "%s %s", bad[i][0], bad[i][1]);
		dxh_run(&r, "exec", "-i", path, bad[i][0], bad[i][1], "--", touch, NULL);
		cli_expect_usage_error(&r, what);
		cr_expect_not(dxh_exists(marker), "%s: the command ran", what);
		dxh_run_free(&r);
	}
	json_decref(inv);
	free(path);
	free(dir);
	free(marker);
	free(touch);
}

/*
 * The inventory's errors as the command line shows them: exit 2, one
 * line, nothing run, the file named with the line (and column range) of
 * the fault, and the words that say which field or drone.  The unit table
 * (tests/unit/test_inventory.c) holds every message; these check that
 * the CLI passes them on.
 */
struct cli_inv_case {
	const char	*what;
	const char	*text;		/* NULL: the file does not exist */
	int		 line;		/* 0: no position to check */
	int		 col_min, col_max;
	const char	*words[2];	/* each must be in the message */
};

static const struct cli_inv_case cli_inv_cases[] = {
	{ "wrong type",
	  "{\n"
	  "  \"drones\": [\n"
	  "    { \"name\": \"d-001\", \"host\": \"127.0.0.1\",\n"
	  "      \"port\": \"twenty-two\" }\n"
	  "  ]\n"
	  "}\n",
	  /* The column must point into '"port": "twenty-two"'. */
	  4, 7, 27, { "port", NULL } },
	{ "unknown field",
	  "{\n"
	  "  \"drones\": [\n"
	  "    { \"name\": \"d-001\", \"host\": \"127.0.0.1\" },\n"
	  "    { \"name\": \"d-002\", \"host\": \"127.0.0.1\",\n"
	  "      \"colour\": \"red\" }\n"
	  "  ]\n"
	  "}\n",
	  5, 1, 80, { "colour", "d-002" } },
	{ "broken JSON",
	  "{\n"
	  "  \"drones\": [\n"
	  "    { \"name\": \"d-001\" \"host\": \"127.0.0.1\" }\n"
	  "  ]\n"
	  "}\n",
	  3, 1, 80, { NULL, NULL } },
	{ "duplicate names",
	  "{\"drones\": [{\"name\": \"d-001\", \"host\": \"127.0.0.1\"},\n"
	  "  {\"name\": \"d-001\", \"host\": \"127.0.0.1\"}]}\n",
	  2, 1, 80, { "d-001", "duplicate" } },
	{ "missing inventory", NULL, 0, 0, 0, { NULL, NULL } },
};

Test(cli, inventory_errors_exit_2_naming_file_line_and_field, .timeout = 60)
{
	struct dxh_run r;
	char *dir = dxh_tmpdir(), *path;
	int line, col;
	size_t i, k;

	for (i = 0; i < sizeof(cli_inv_cases) / sizeof(cli_inv_cases[0]); i++) {
		const struct cli_inv_case *c = &cli_inv_cases[i];
		char name[32];

		snprintf(name, sizeof(name), "drones-%zu.json", i);
		if (c->text != NULL)
			path = dxh_write_file(dir, name, c->text);
		else
			cr_assert(asprintf(&path, "%s/absent.json", dir) > 0);
		dxh_run(&r, "exec", "-i", path, "--", "true", NULL);
		cli_expect_usage_error(&r, c->what);
		cr_expect(strstr(r.err, path) != NULL, "%s: the file is not named: %s",
		    c->what, r.err);
		if (c->line > 0) {
			cr_assert(cli_position(r.err, path, &line, &col) == 0,
			    "%s: stderr does not name '%s:LINE:COL': '%s'", c->what,
			    path, r.err);
			cr_expect_eq(line, c->line, "%s: line %d, stderr: %s", c->what,
			    line, r.err);
			cr_expect(col >= c->col_min && col <= c->col_max,
			    "%s: column %d, stderr: %s", c->what, col, r.err);
		}
		for (k = 0; k < 2; k++)
			cr_expect(c->words[k] == NULL || strstr(r.err, c->words[k]) != NULL,
			    "%s: '%s' is not named: %s", c->what, c->words[k], r.err);
		dxh_run_free(&r);
		free(path);
	}
	free(dir);
}

Test(cli, selecting_a_drone_not_in_the_inventory_exits_2, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(3);
	char *path = dxh_inv_write(inv);

	dxh_run(&r, "exec", "-i", path, "-w", "d-001,d-999", "--", "true", NULL);
	cli_expect_usage_error(&r, "-w d-999");
	cr_expect(strstr(r.err, "d-999") != NULL, "the name is not given: %s", r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli, nothing_to_run_exits_2_instead_of_a_hollow_success, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(3);
	char *path = dxh_inv_write(inv);

	/* No command and no inventory calls: "ok" would claim work never done. */
	dxh_run(&r, "exec", "-i", path, NULL);
	cli_expect_usage_error(&r, "no command");
	cr_expect(strstr(r.err, "nothing to run") != NULL, "stderr: %s", r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli, without_an_inventory_file_w_names_hosts_as_pdsh_does, .timeout = 30)
{
	struct dxh_run r;

	/*
	 * No -i, no DRONEX_INVENTORY and no ./drones.json (the tests run in the
	 * build directory): the names of -w are the hosts, on port 22.  The
	 * test sshd listens elsewhere, so each is refused or has an unknown
	 * key; what matters is that both are tried and reported.
	 */
	cr_assert(access("drones.json", F_OK) == -1, "a drones.json is in the way");
	dxh_run(&r, "exec", "-w", "127.0.0.1,localhost", "--connect-timeout", "2",
	    "--", "true", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "127.0.0.1"), "failed");
	cr_expect_str_eq(dxh_status(&r, "localhost"), "failed");
	dxh_run_free(&r);
}

Test(cli, help_exits_0_and_mentions_every_option, .timeout = 30)
{
	static const char *opts[] = {
		"exec", "list", "--inventory", "-i", "--drones", "-w", "--exclude", "-x",
		"--label", "-g", "--user", "-l", "--port", "--identity", "--stdin",
		"--shard", "auto", "--fanout", "-f", "--connect-timeout", "--timeout",
		"-t", "--deadline", "--retries", "--retry-delay", "--max-failures",
		"--fail-fast", "--max-output", "--host-key-check", "--format",
		"--pretty", "-q", "--help", "--version",
	};
	struct dxh_run r;
	size_t i;

	dxh_run(&r, "--help", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_assert(r.outlen > 0, "--help printed nothing on stdout");
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		cr_expect(strstr(r.out, opts[i]) != NULL, "--help does not mention '%s'",
		    opts[i]);
	dxh_run_free(&r);
}

Test(cli, version_exits_0_and_prints_the_version, .timeout = 30)
{
	struct dxh_run r;

	dxh_run(&r, "--version", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, PACKAGE_VERSION) != NULL, "stdout '%s' lacks '%s'",
	    r.out, PACKAGE_VERSION);
	dxh_run_free(&r);
}

Test(cli, list_with_a_label_prints_exactly_those_drones, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(5), *d;
	char *path, *names;
	int closed = dxh_closed_port();

	dxh_inv_set(inv, "d-001", "labels", json_pack("[s,s]", "web", "prod"));
	dxh_inv_set(inv, "d-002", "labels", json_pack("[s]", "db"));
	dxh_inv_set(inv, "d-004", "labels", json_pack("[s]", "web"));
	dxh_inv_set(inv, "d-004", "priority", json_integer(7));
	dxh_inv_calls(inv, "d-004", "uptime", NULL);
	/* list connects nowhere: a closed port changes nothing. */
	dxh_inv_set(inv, "d-004", "port", json_integer(closed));
	path = dxh_inv_write(inv);

	dxh_run(&r, "list", "-i", path, "-g", "web", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	names = cli_list_names(&r);
	cr_expect_str_eq(names, "d-001,d-004");
	free(names);
	d = json_array_get(r.json, 1);
	cr_expect_str_eq(json_string_value(json_object_get(d, "host")), "127.0.0.1");
	cr_expect_eq(json_integer_value(json_object_get(d, "port")), closed);
	cr_expect_str_eq(json_string_value(json_object_get(d, "user")), dxh_env("DX_TEST_USER"));
	cr_expect_eq(json_integer_value(json_object_get(d, "priority")), 7);
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(d, "labels"), 0)),
	    "web");
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(d, "calls"), 0)),
	    "uptime");
	dxh_run_free(&r);

	/* Two labels: a drone must carry both. */
	dxh_run(&r, "list", "-i", path, "-g", "web", "-g", "prod", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	names = cli_list_names(&r);
	cr_expect_str_eq(names, "d-001");
	free(names);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli, ranges_and_exclusions_select_the_right_drones, .timeout = 30)
{
	static const char *cases[][3] = {
		/* -w, -x (or NULL), the drones expected */
		{ "d-[001-003]", NULL, "d-001,d-002,d-003" },
		{ "d-[001-002,005]", NULL, "d-001,d-002,d-005" },
		{ "d-[001-005]", "d-[002-003]", "d-001,d-004,d-005" },
		{ "d-004,d-001", NULL, "d-001,d-004" },
		{ NULL, "d-001", "d-002,d-003,d-004,d-005" },
	};
	struct dxh_run r;
	json_t *inv = dxh_inv_new(5);
	char *path = dxh_inv_write(inv), *names;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[10];
		size_t n = 0;
		struct dxh_opts o = { .timeout = 20 };

		argv[n++] = "list";
		argv[n++] = "-i";
		argv[n++] = path;
		if (cases[i][0] != NULL) {
			argv[n++] = "-w";
			argv[n++] = cases[i][0];
		}
		if (cases[i][1] != NULL) {
			argv[n++] = "-x";
			argv[n++] = cases[i][1];
		}
		argv[n] = NULL;
		dxh_run_argv(&r, argv, &o);
		cr_expect_eq(r.status, 0, "-w %s -x %s: exit %d, stderr: %s",
		    cases[i][0], cases[i][1], r.status, r.err);
		names = cli_list_names(&r);
		cr_expect_str_eq(names, cases[i][2], "-w %s -x %s", cases[i][0], cases[i][1]);
		free(names);
		dxh_run_free(&r);
	}
	json_decref(inv);
	free(path);
}

Test(cli, exec_runs_only_the_selected_drones, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(5);
	char *path = dxh_inv_write(inv);

	dxh_run(&r, "exec", "-i", path, "-w", "d-[002-003]", "--", "echo", "x", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_eq(json_object_size(json_object_get(dxh_doc(&r), "drones")), 2, "%s", r.out);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	cr_expect_str_eq(dxh_status(&r, "d-003"), "ok");
	cr_expect_eq(dxh_summary(&r, "drones"), 2);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli, the_inventory_can_come_from_stdin, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(2);
	char *text = json_dumps(inv, 0);
	const char *argv[] = { "exec", "-i", "-", "--", "echo", "piped", NULL };
	struct dxh_opts o = { .timeout = 20, .stdin_text = text };

	dxh_run_argv(&r, argv, &o);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_call_str(&r, "d-002", 0, "stdout"), "piped\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(text);
}

Test(cli, inventory_defaults_apply_to_every_drone, .timeout = 30)
{
	struct dxh_run r;
	char *dir = dxh_tmpdir(), *path, *text;

	cr_assert(asprintf(&text,
	    "{ \"defaults\": { \"user\": \"%s\", \"port\": %s, \"identity\": \"%s\",\n"
	    "                \"known_hosts\": \"%s\" },\n"
	    "  \"drones\": [ { \"name\": \"a\", \"host\": \"127.0.0.1\" },\n"
	    "              { \"name\": \"127.0.0.1\" } ] }\n",
	    dxh_env("DX_TEST_USER"), dxh_env("DX_TEST_PORT"), dxh_env("DX_TEST_KEY"),
	    dxh_env("DX_TEST_KNOWN_HOSTS")) > 0);
	path = dxh_write_file(dir, "drones.json", text);
	dxh_run(&r, "exec", "-i", path, "--", "echo", "d", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "a"), "ok");
	/* host defaults to name. */
	cr_expect_str_eq(dxh_status(&r, "127.0.0.1"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "127.0.0.1", 0, "stdout"), "d\n");
	dxh_run_free(&r);
	free(text);
	free(path);
	free(dir);
}

Test(cli, jsonl_prints_one_line_per_drone_then_the_summary, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(3), *last = NULL;
	char *path = dxh_inv_write(inv), *copy, *line, *save = NULL;
	int ndrones = 0, nlines = 0;

	dxh_run(&r, "exec", "-i", path, "--format", "jsonl", "--", "echo", "l", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	copy = strdup(r.out);
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);

		cr_assert_not_null(j, "line %d is not JSON: %s", nlines + 1, line);
		nlines++;
		if (json_object_get(j, "name") != NULL) {
			ndrones++;
			cr_expect_str_eq(json_string_value(json_object_get(j, "status")), "ok");
		}
		json_decref(last);
		last = j;
	}
	cr_expect_eq(ndrones, 3, "stdout: %s", r.out);
	cr_expect_eq(nlines, 4, "stdout: %s", r.out);
	cr_assert_not_null(last);
	cr_expect(json_is_object(json_object_get(last, "summary")), "last line: %s", r.out);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(last, "summary"), "ok")), 3);
	cr_expect(json_object_get(last, "error") != NULL);
	json_decref(last);
	free(copy);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli, text_format_shows_the_output, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(2);
	char *path = dxh_inv_write(inv);

	dxh_run(&r, "exec", "-i", path, "--format", "text", "--", "echo", "visible-text", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, "visible-text") != NULL, "stdout: %s", r.out);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli, pretty_output_is_the_same_document_indented, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(1);
	char *path = dxh_inv_write(inv);

	dxh_run(&r, "exec", "-i", path, "--pretty", "--", "echo", "p", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "p\n");
	cr_expect_gt(dxh_count_lines(r.out, ""), 5, "not indented: %s", r.out);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}
