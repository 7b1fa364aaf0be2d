/*
 * test_cli_options.c - the command line as peers spell it (issue 7, SPEC
 * 3, 5, 8): -l is the user and -g the label, --port and --identity,
 * repeated -w/-x as sets with ^FILE and @LABEL, ad-hoc [user@]host[:port],
 * empty selections, --shard auto and an environment that is never read
 * without it, --stdin, options refused where they do nothing, usage errors
 * kept off stdout, exit 3 when the results cannot be written, and the
 * inventory's vars shown by "dronex list".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

/*
 * Runs dronex with its stdout on out_fd (-1: a file the test reads back)
 * and its stderr in a file, after setting the NULL-terminated NAME=VALUE
 * pairs in env on top of the harness's environment.  Fills r as
 * dxh_run_argv() does (out and json only when out_fd is -1).
 */
static void
co_run(struct dxh_run *r, const char *const *env, int out_fd,
    const char *const *args)
{
	struct dxh_child ch;
	char *dir = dxh_tmpdir(), *outp, *errp;
	const char *argv[64];
	json_error_t je;
	size_t n = 0;
	pid_t pid;
	int st, ofd, efd;

	memset(r, 0, sizeof(*r));
	cr_assert(asprintf(&outp, "%s/stdout", dir) > 0);
	cr_assert(asprintf(&errp, "%s/stderr", dir) > 0);
	argv[n++] = dxh_env("DRONEX_BIN");
	for (; *args != NULL && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	dxh_child_prepare(&ch, true);
	cr_assert((pid = fork()) != -1);
	if (pid == 0) {
		dxh_child_apply(&ch);
		for (; env != NULL && *env != NULL; env++)
			putenv((char *)*env);
		ofd = out_fd != -1 ? out_fd : open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		efd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (ofd == -1 || efd == -1)
			_exit(126);
		dup2(ofd, STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		close(STDIN_FILENO);
		open("/dev/null", O_RDONLY);
		alarm(20);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	dxh_child_free(&ch);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r->termsig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	r->out = out_fd == -1 ? dxh_read_file(outp) : strdup("");
	r->err = dxh_read_file(errp);
	cr_assert(r->out != NULL && r->err != NULL);
	r->outlen = strlen(r->out);
	r->errlen = strlen(r->err);
	r->json = json_loads(r->out, 0, &je);
	free(outp);
	free(errp);
	free(dir);
}

static char *
co_names(const struct dxh_run *r)
{
	json_t *d;
	size_t i;
	char *s = strdup("");

	cr_assert(r->json != NULL && json_is_array(r->json),
	    "not a list: exit %d, stdout %.500s, stderr %.500s", r->status, r->out, r->err);
	json_array_foreach(r->json, i, d) {
		char *t;

		cr_assert(asprintf(&t, "%s%s%s", s, *s ? "," : "",
		    json_string_value(json_object_get(d, "name"))) > 0);
		free(s);
		s = t;
	}
	return s;
}

static void
co_usage_error(const struct dxh_run *r, const char *what)
{
	cr_expect_eq(r->status, 2, "%s: exit %d, stderr: %s", what, r->status, r->err);
	cr_expect_eq(r->outlen, 0, "%s: stdout not empty: %.300s", what, r->out);
	cr_expect_eq(dxh_count_lines(r->err, "dronex: "), 1, "%s: stderr: '%s'", what, r->err);
}

/* Five drones d-001..d-005; d-001 and d-002 carry web, d-002 also db. */
static char *
co_inventory(json_t **inv)
{
	*inv = dxh_inv_new(5);
	dxh_inv_set(*inv, "d-001", "labels", json_pack("[s]", "web"));
	dxh_inv_set(*inv, "d-002", "labels", json_pack("[s,s]", "web", "db"));
	return dxh_inv_write(*inv);
}

Test(cli_options, l_is_the_user_and_port_overrides_every_drone, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv, *d;
	char *path = co_inventory(&inv);
	size_t i;

	dxh_run(&r, "list", "-i", path, "-l", "alice", "--port", "2022", NULL);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_assert_eq(json_array_size(r.json), 5, "-l is not a label any more: %s", r.out);
	json_array_foreach(r.json, i, d) {
		cr_expect_str_eq(json_string_value(json_object_get(d, "user")), "alice");
		cr_expect_eq(json_integer_value(json_object_get(d, "port")), 2022);
	}
	dxh_run_free(&r);
	dxh_run(&r, "list", "-i", path, "--user", "-x", NULL);
	co_usage_error(&r, "-l -x");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, l_user_reaches_the_drone, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(1);
	char *path;

	/* The inventory's user is wrong; -l puts the right one back. */
	dxh_inv_set(inv, "d-001", "user", json_string("nobody-dronex"));
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-l", dxh_env("DX_TEST_USER"), "--", "true", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, port_reaches_the_drone, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(1);
	char *path;

	dxh_inv_set(inv, "d-001", "port", json_integer(dxh_closed_port()));
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--port", dxh_env("DX_TEST_PORT"), "--", "true", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, g_labels_must_all_be_carried, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path = co_inventory(&inv), *names;

	dxh_run(&r, "list", "-i", path, "-g", "web", "--label", "db", NULL);
	names = co_names(&r);
	cr_expect_str_eq(names, "d-002");
	free(names);
	dxh_run_free(&r);
	dxh_run(&r, "list", "-i", path, "-g", "web", "-g", "nosuch", NULL);
	co_usage_error(&r, "no drone carries both");
	cr_expect(strstr(r.err, "'web', 'nosuch'") != NULL, "%s", r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, repeated_w_and_x_add_up_as_sets, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path = co_inventory(&inv), *names;

	dxh_run(&r, "list", "-i", path, "-w", "d-001", "-w", "d-00[1-3]", "-w", "d-001",
	    "-x", "d-002", "-x", "d-003", NULL);
	names = co_names(&r);
	cr_expect_str_eq(names, "d-001");
	free(names);
	dxh_run_free(&r);
	dxh_run(&r, "list", "-i", path, "-w", "@web", "-w", "d-005", NULL);
	names = co_names(&r);
	cr_expect_str_eq(names, "d-001,d-002,d-005");
	free(names);
	dxh_run_free(&r);
	/* An unknown name in -x is a typo, as in -w. */
	dxh_run(&r, "list", "-i", path, "-x", "d-009", NULL);
	co_usage_error(&r, "-x d-009");
	cr_expect(strstr(r.err, "d-009") != NULL, "%s", r.err);
	dxh_run_free(&r);
	dxh_run(&r, "list", "-i", path, "-w", "@nosuch", NULL);
	co_usage_error(&r, "@nosuch");
	cr_expect(strstr(r.err, "nosuch") != NULL, "%s", r.err);
	dxh_run_free(&r);
	dxh_run(&r, "list", "-i", path, "-x", "d-*", NULL);
	co_usage_error(&r, "-x everything");
	cr_expect(strstr(r.err, "-x removed every drone") != NULL, "%s", r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, a_caret_file_names_the_drones, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path = co_inventory(&inv), *dir = dxh_tmpdir(), *file, *arg, *names;

	file = dxh_write_file(dir, "names", "# comment\nd-002\n\n  d-00[4-5] # two\n");
	cr_assert(asprintf(&arg, "^%s", file) > 0);
	dxh_run(&r, "list", "-i", path, "-w", arg, NULL);
	names = co_names(&r);
	cr_expect_str_eq(names, "d-002,d-004,d-005");
	free(names);
	dxh_run_free(&r);
	free(arg);
	cr_assert(asprintf(&arg, "^%s/missing", dir) > 0);
	dxh_run(&r, "list", "-i", path, "-w", arg, NULL);
	co_usage_error(&r, "^missing");
	cr_expect(strstr(r.err, "/missing") != NULL, "the file is not named: %s", r.err);
	dxh_run_free(&r);
	free(arg);
	free(file);
	free(dir);
	json_decref(inv);
	free(path);
}

Test(cli_options, adhoc_elements_carry_user_host_and_port, .timeout = 30)
{
	struct dxh_run r;
	char *spec;
	json_t *d;

	cr_assert(access("drones.json", F_OK) == -1, "a drones.json is in the way");
	cr_assert(asprintf(&spec, "%s@127.0.0.1:%s,alice@[::1]:2200",
	    dxh_env("DX_TEST_USER"), dxh_env("DX_TEST_PORT")) > 0);
	dxh_run(&r, "list", "-w", spec, NULL);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_assert_eq(json_array_size(r.json), 2, "%s", r.out);
	d = json_array_get(r.json, 0);
	cr_expect_str_eq(json_string_value(json_object_get(d, "host")), "127.0.0.1");
	cr_expect_str_eq(json_string_value(json_object_get(d, "user")), dxh_env("DX_TEST_USER"));
	cr_expect_eq(json_integer_value(json_object_get(d, "port")), atoi(dxh_env("DX_TEST_PORT")));
	d = json_array_get(r.json, 1);
	cr_expect_str_eq(json_string_value(json_object_get(d, "host")), "::1");
	cr_expect_str_eq(json_string_value(json_object_get(d, "user")), "alice");
	cr_expect_eq(json_integer_value(json_object_get(d, "port")), 2200);
	dxh_run_free(&r);
	free(spec);
	/* The error points into the argument, not into generated JSON. */
	dxh_run(&r, "list", "-w", "ok-host,bad;host", NULL);
	co_usage_error(&r, "bad;host");
	cr_expect(strstr(r.err, "-w 'ok-host,bad;host': column 9: ") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "drones[") == NULL && strstr(r.err, "\"name\"") == NULL,
	    "the message speaks of JSON: %s", r.err);
	dxh_run_free(&r);
	dxh_run(&r, "list", "-w", "h:99999", NULL);
	co_usage_error(&r, "port 99999");
	cr_expect(strstr(r.err, "column 3") != NULL, "%s", r.err);
	dxh_run_free(&r);
}

Test(cli_options, adhoc_user_and_port_reach_the_drone, .timeout = 30)
{
	struct dxh_run r;
	char *spec;

	/* A refused port proves the port is the element's, not 22. */
	cr_assert(asprintf(&spec, "bob@127.0.0.1:%d", dxh_closed_port()) > 0);
	dxh_run(&r, "exec", "-w", spec, "--", "true", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, spec), "connect_refused");
	dxh_run_free(&r);
	free(spec);
}

Test(cli_options, an_empty_selection_is_an_error_unless_the_shard_emptied_it,
    .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(1);
	char *path = dxh_inv_write(inv);
	const char *shard_of_nothing = NULL;
	int k;

	dxh_run(&r, "exec", "-i", path, "-w", "no-*", "--", "true", NULL);
	co_usage_error(&r, "-w no-*");
	dxh_run_free(&r);
	/* One drone, two shards: one of them holds nothing, and that is fine. */
	for (k = 1; k <= 2; k++) {
		dxh_run(&r, "list", "-i", path, "--shard", k == 1 ? "1/2" : "2/2", NULL);
		cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
		if (json_array_size(r.json) == 0)
			shard_of_nothing = k == 1 ? "1/2" : "2/2";
		dxh_run_free(&r);
	}
	cr_assert_not_null(shard_of_nothing);
	dxh_run(&r, "exec", "-i", path, "--shard", shard_of_nothing, "--", "true", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_eq(dxh_summary(&r, "drones"), 0);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, the_environment_never_shards_without_shard_auto, .timeout = 30)
{
	const char *env[] = { "SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=5",
	    "JOB_COMPLETION_INDEX=3", "DRONEX_SHARDS=5", NULL };
	struct dxh_run r;
	json_t *inv;
	char *path = co_inventory(&inv);

	co_run(&r, env, -1, (const char *[]){ "list", "-i", path, NULL });
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_eq(json_array_size(r.json), 5, "the environment cut the run: %s", r.out);
	dxh_run_free(&r);
	co_run(&r, env, -1, (const char *[]){ "exec", "-i", path, "--", "true", NULL });
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_eq(dxh_summary(&r, "drones"), 5, "the environment cut the run");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, shard_auto_takes_slurm_and_kubernetes_indexes, .timeout = 30)
{
	/* Slurm ids offset from the minimum: ids 10..14 are shards 1..5. */
	const char *slurm[] = { "SLURM_ARRAY_TASK_ID=12", "SLURM_ARRAY_TASK_MIN=10",
	    "SLURM_ARRAY_TASK_COUNT=5", NULL };
	const char *k8s[] = { "JOB_COMPLETION_INDEX=2", "DRONEX_SHARDS=5", NULL };
	struct dxh_run r, want;
	json_t *inv, *d;
	char *path = co_inventory(&inv), *a, *b;
	size_t i;

	dxh_run(&want, "list", "-i", path, "--shard", "3/5", NULL);
	cr_assert_eq(want.status, 0, "%s", want.err);
	co_run(&r, slurm, -1, (const char *[]){ "list", "-i", path, "--shard", "auto", NULL });
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	a = co_names(&r);
	b = co_names(&want);
	cr_expect_str_eq(a, b);
	json_array_foreach(r.json, i, d)
		cr_expect_str_eq(json_string_value(json_object_get(d, "shard")), "3/5");
	free(a);
	dxh_run_free(&r);
	co_run(&r, k8s, -1, (const char *[]){ "list", "-i", path, "--shard", "auto", NULL });
	a = co_names(&r);
	cr_expect_str_eq(a, b);
	free(a);
	free(b);
	dxh_run_free(&r);
	dxh_run_free(&want);
	/* Neither set: an error, not the whole fleet. */
	dxh_run(&r, "list", "-i", path, "--shard", "auto", NULL);
	co_usage_error(&r, "--shard auto alone");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, the_results_record_the_shard, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path = co_inventory(&inv);

	/* Needs output.c to print dx_out_opts.shard (the doc part). */
	dxh_run(&r, "exec", "-i", path, "--shard", "1/1", "--", "true", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(json_string_value(json_object_get(dxh_doc(&r), "shard")), "1/1",
	    "%s", r.out);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, without_stdin_a_command_reading_stdin_sees_eof, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(1);
	char *path = dxh_inv_write(inv);
	struct dxh_opts o = { .stdin_text = "local input\n", .timeout = 20 };
	const char *av[] = { "exec", "-i", path, "-t", "4", "--", "cat", NULL };

	/* Needs the chan part (EOF on every call's stdin when stdin_data is NULL). */
	dxh_run_argv(&r, av, &o);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_lt(r.wall, 5.0, "cat waited %.1f s for input", r.wall);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, stdin_file_goes_to_every_call, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(2);
	char *path = dxh_inv_write(inv), *dir = dxh_tmpdir(), *script;
	struct dxh_opts o = { .stdin_text = "echo from-pipe\n", .timeout = 20 };

	script = dxh_write_file(dir, "script.sh", "echo one\necho two\n");
	dxh_run(&r, "exec", "-i", path, "-t", "4", "--stdin", script, "--", "sh", "-s", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "one\ntwo\n");
	cr_expect_str_eq(dxh_call_str(&r, "d-002", 0, "stdout"), "one\ntwo\n");
	dxh_run_free(&r);
	{
		const char *av[] = { "exec", "-i", path, "-t", "4", "--stdin", "-", "--",
		    "sh", "-s", NULL };

		dxh_run_argv(&r, av, &o);
		cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
		cr_expect_str_eq(dxh_call_str(&r, "d-002", 0, "stdout"), "from-pipe\n");
		dxh_run_free(&r);
	}
	dxh_run(&r, "exec", "-i", "-", "--stdin", "-", "--", "true", NULL);
	co_usage_error(&r, "--stdin - -i -");
	dxh_run_free(&r);
	free(script);
	cr_assert(asprintf(&script, "%s/absent", dir) > 0);
	dxh_run(&r, "exec", "-i", path, "--stdin", script, "--", "true", NULL);
	co_usage_error(&r, "--stdin absent");
	cr_expect(strstr(r.err, "absent") != NULL, "%s", r.err);
	dxh_run_free(&r);
	free(script);
	free(dir);
	json_decref(inv);
	free(path);
}

Test(cli_options, list_refuses_options_that_do_nothing_for_it, .timeout = 30)
{
	static const char *opts[][2] = {
		{ "-t", "5" }, { "--format", "text" }, { "--fanout", "3" },
		{ "-f", "3" }, { "--deadline", "2" }, { "--fail-fast", NULL },
		{ "-q", NULL }, { "--stdin", "-" }, { "--identity", "/k" },
		{ "--host-key-check", "off" }, { "--retries", "1" },
	};
	struct dxh_run r;
	json_t *inv;
	char *path = co_inventory(&inv);
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *av[] = { "list", "-i", path, opts[i][0], opts[i][1], NULL };
		struct dxh_opts o = { .timeout = 20 };

		dxh_run_argv(&r, av, &o);
		co_usage_error(&r, opts[i][0]);
		dxh_run_free(&r);
	}
	dxh_run(&r, "list", "-i", path, "--pretty", "-g", "web", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, usage_errors_write_nothing_on_stdout, .timeout = 30)
{
	static const char *cases[][4] = {
		{ NULL }, { "--bogus" }, { "exec", "--bogus" }, { "list", "-Z" },
		{ "frobnicate" }, { "exec", "-f" }, { "list", "--shard", "9/2" },
	};
	struct dxh_run r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dxh_opts o = { .timeout = 20 };

		dxh_run_argv(&r, cases[i], &o);
		cr_expect_eq(r.status, 2, "case %zu: exit %d", i, r.status);
		cr_expect_eq(r.outlen, 0, "case %zu: stdout: %.200s", i, r.out);
		cr_expect_gt(r.errlen, 0, "case %zu: nothing on stderr", i);
		dxh_run_free(&r);
	}
}

Test(cli_options, list_exits_3_when_stdout_is_full, .timeout = 30)
{
	struct dxh_run r;
	int fd = open("/dev/full", O_WRONLY);

	cr_assert(fd != -1, "/dev/full: %s", strerror(errno));
	co_run(&r, NULL, fd, (const char *[]){ "list", "-w", "x", NULL });
	close(fd);
	cr_expect_eq(r.status, 3, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.err, strerror(ENOSPC)) != NULL, "stderr: %s", r.err);
	dxh_run_free(&r);
}

Test(cli_options, list_exits_3_when_the_reader_is_gone, .timeout = 30)
{
	struct dxh_run r;
	int p[2];

	cr_assert_eq(pipe(p), 0);
	close(p[0]);
	co_run(&r, NULL, p[1], (const char *[]){ "list", "-w", "x", NULL });
	close(p[1]);
	cr_expect_eq(r.status, 3, "exit %d (signal %d), stderr: %s", r.status, r.termsig,
	    r.err);
	cr_expect(strstr(r.err, strerror(EPIPE)) != NULL, "stderr: %s", r.err);
	dxh_run_free(&r);
}

Test(cli_options, exec_exits_3_when_stdout_is_full_or_gone, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(1);
	char *path = dxh_inv_write(inv);
	int fd = open("/dev/full", O_WRONLY), p[2];

	/* Needs output.c to report a failed write as DX_OUTPUT (the doc part). */
	co_run(&r, NULL, fd, (const char *[]){ "exec", "-i", path, "--", "true", NULL });
	close(fd);
	cr_expect_eq(r.status, 3, "/dev/full: exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.err, strerror(ENOSPC)) != NULL, "stderr: %s", r.err);
	dxh_run_free(&r);
	cr_assert_eq(pipe(p), 0);
	close(p[0]);
	co_run(&r, NULL, p[1], (const char *[]){ "exec", "-i", path, "--", "true", NULL });
	close(p[1]);
	cr_expect_eq(r.status, 3, "closed pipe: exit %d (signal %d), stderr: %s", r.status,
	    r.termsig, r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(cli_options, list_shows_vars_merged_over_the_defaults, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(2), *v, *want;
	char *path;

	json_object_set_new(inv, "defaults", json_pack("{s:{s:s,s:i}}", "vars",
	    "rack", "r1", "slots", 4));
	dxh_inv_set(inv, "d-002", "vars", json_pack("{s:s,s:[i]}", "rack", "r7", "ids", 1));
	path = dxh_inv_write(inv);
	dxh_run(&r, "list", "-i", path, NULL);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	v = json_object_get(json_array_get(r.json, 0), "vars");
	want = json_pack("{s:s,s:i}", "rack", "r1", "slots", 4);
	cr_expect(json_equal(v, want), "%s", r.out);
	json_decref(want);
	v = json_object_get(json_array_get(r.json, 1), "vars");
	want = json_pack("{s:s,s:i,s:[i]}", "rack", "r7", "slots", 4, "ids", 1);
	cr_expect(json_equal(v, want), "%s", r.out);
	json_decref(want);
	dxh_run_free(&r);
	/* A vars that is not an object is an inventory error with its position. */
	dxh_inv_set(inv, "d-001", "vars", json_string("x"));
	free(path);
	path = dxh_inv_write(inv);
	dxh_run(&r, "list", "-i", path, NULL);
	co_usage_error(&r, "vars \"x\"");
	cr_expect(strstr(r.err, "field 'vars'") != NULL && strstr(r.err, path) != NULL,
	    "%s", r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

/*
 * A closed stdout at start would let the first socket take descriptor 1;
 * dronex refuses at once (exit 3) instead of writing results into it.
 */
Test(cli_options, a_closed_stdout_at_start_exits_3, .timeout = 30)
{
	static const char *const cmds[] = { "list", "exec" };

	for (size_t i = 0; i < 2; i++) {
		int status;
		pid_t pid = fork();

		cr_assert(pid != -1);
		if (pid == 0) {
			int nul = open("/dev/null", O_WRONLY);

			dup2(nul, STDERR_FILENO);
			close(STDOUT_FILENO);
			execl(dxh_env("DRONEX_BIN"), "dronex", cmds[i], "-w", "127.0.0.1",
			    "--", "true", (char *)NULL);
			_exit(127);
		}
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 3,
		    "%s with stdout closed: status 0x%x", cmds[i], status);
	}
}
