/*
 * test_chan.c - what dronex says about a call's channel is what happened
 * (issue 7): stdin gets EOF at once or the --stdin bytes, a channel that
 * closed with no exit status is not "exit 0", a cut command on a BusyBox
 * drone is ended, and a call cut by a lost connection says its command
 * may still run.
 *
 * Some tests start an sshd of their own (tests/sshd-test with its
 * DX_SSHD_* knobs): one with sshd's ChannelTimeout, one whose sessions
 * see BusyBox as /usr/bin/ps (a private mount namespace).  The stdin
 * bytes are set through the library (struct dx_ssh_opts), as a scheduler
 * or the CLI's --stdin sets them.
 *
 * Commands sleep for values no other test uses ("sleep 30.71").
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "dronex.h"
#include "inventory.h"
#include "ssh_exec.h"

#include "faults_util.h"
#include "harness.h"

#ifndef DX_SSHD_TEST
#error "DX_SSHD_TEST (the path of tests/sshd-test) must be defined"
#endif

/* An sshd of the test's own. */
struct ch_sshd {
	char	*dir;
	char	 port[16];
	char	*key;
	char	*known_hosts;
};

/* Reads VAR='value' from an sshd-test env file. */
static char *
ch_env_get(const char *env, const char *var)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "%s='", var);
	p = strstr(env, pat);
	cr_assert_not_null(p, "no %s in the sshd env", var);
	p += strlen(pat);
	e = strchr(p, '\'');
	cr_assert_not_null(e);
	return strndup(p, (size_t)(e - p));
}

static void
ch_sshd_start(struct ch_sshd *s, const char *extra, const char *bind)
{
	char cmd[1024], *env, *path, *port;

	s->dir = dxh_tmpdir();
	/* Through the environment: the config lines may hold any quote. */
	setenv("DX_SSHD_EXTRA_CONFIG", extra ? extra : "", 1);
	setenv("DX_SSHD_BIND", bind ? bind : "", 1);
	snprintf(cmd, sizeof(cmd), "'%s' start '%s' >/dev/null", DX_SSHD_TEST,
	    s->dir);
	cr_assert_eq(system(cmd), 0, "could not start an sshd: %s", cmd);
	unsetenv("DX_SSHD_EXTRA_CONFIG");
	unsetenv("DX_SSHD_BIND");
	cr_assert(asprintf(&path, "%s/env", s->dir) > 0);
	env = dxh_read_file(path);
	cr_assert_not_null(env);
	port = ch_env_get(env, "DX_TEST_PORT");
	snprintf(s->port, sizeof(s->port), "%s", port);
	s->key = ch_env_get(env, "DX_TEST_KEY");
	s->known_hosts = ch_env_get(env, "DX_TEST_KNOWN_HOSTS");
	free(port);
	free(env);
	free(path);
}

static void
ch_sshd_stop(struct ch_sshd *s)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' stop '%s'", DX_SSHD_TEST, s->dir);
	(void)system(cmd);
	free(s->dir);
	free(s->key);
	free(s->known_hosts);
}

/* Points drone name of inv at sshd s. */
static void
ch_sshd_drone(const struct ch_sshd *s, json_t *inv, const char *name)
{
	dxh_inv_set(inv, name, "port", json_integer(atoi(s->port)));
	dxh_inv_set(inv, name, "identity", json_string(s->key));
	dxh_inv_set(inv, name, "known_hosts", json_string(s->known_hosts));
}

/* Standard input. */

Test(chan, without_stdin_a_command_reading_stdin_gets_eof_at_once, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(1);
	path = dxh_inv_write(inv);
	/* Before, cat waited for input until the call timeout. */
	dxh_run(&r, "exec", "-i", path, "-t", "10", "--", "cat", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_leq(r.wall, 3.0, "took %.2f s: stdin was not closed", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok", "%s", r.out);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "");
	cr_expect_eq(json_integer_value(json_object_get(dxh_call(&r, "d-001", 0),
	    "exit_status")), 0);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

/* What the library run of ch_lib_run() saw. */
struct ch_seen {
	enum dx_status	 status;
	struct dx_err	 error;
	size_t		 ncalls;
	int		 exit_status[4];
	char		*out[4];
	size_t		 outlen[4];
	bool		 truncated[4];
};

static void
ch_lib_done(void *arg, size_t index, const struct dx_job *job, struct dx_result *res)
{
	struct ch_seen *seen = arg;

	(void)index;
	(void)job;
	seen->status = res->status;
	seen->error = res->error;
	seen->ncalls = res->ncalls;
	for (size_t i = 0; i < res->ncalls && i < 4; i++) {
		seen->exit_status[i] = res->calls[i].exit_status;
		seen->out[i] = res->calls[i].out.data;
		seen->outlen[i] = res->calls[i].out.len;
		seen->truncated[i] = res->calls[i].out.truncated;
		res->calls[i].out.data = NULL;	/* ours now */
	}
}

/* Runs calls on the suite's sshd through libdronex with stdin bytes. */
static void
ch_lib_run(const char *const *calls, size_t ncalls, const void *data,
    size_t len, struct ch_seen *seen)
{
	struct dx_ssh_opts so = {
		.call_timeout_ms = 20000, .max_output = 4 * 1024 * 1024,
		.stdin_data = data, .stdin_len = len,
	};
	struct dx_target_cli tc = { .connect_timeout_ms = 5000 };
	struct dx_queue_opts qo = { .fanout = 1 };
	struct dx_inventory inv;
	struct dx_target t;
	struct dx_err err;
	struct dx_ssh *ssh;
	struct dx_queue *q;
	json_t *doc;
	char *text;

	dx_err_clear(&err);
	cr_assert_eq(dx_global_init(&err), 0, "%s", err.msg);
	doc = dxh_inv_new(1);
	cr_assert((text = json_dumps(doc, 0)) != NULL);
	memset(&inv, 0, sizeof(inv));
	cr_assert_eq(dx_inventory_parse(&inv, text, strlen(text), "test", &err), 0,
	    "%s", err.msg);
	cr_assert_eq(dx_target_resolve(&t, &inv, &inv.drones[0], NULL, &tc, &err), 0,
	    "%s", err.msg);
	ssh = dx_ssh_new(&so, &err);
	cr_assert_not_null(ssh, "%s", err.msg);
	q = dx_queue_new(&qo, dx_ssh_exec, ssh, &err);
	cr_assert_not_null(q, "%s", err.msg);
	{
		struct dx_job job = {
			.name = inv.drones[0].name, .drone = &t,
			.calls = calls, .ncalls = ncalls,
		};

		cr_assert_eq(dx_queue_add(q, &job, &err), 0, "%s", err.msg);
	}
	memset(seen, 0, sizeof(*seen));
	cr_assert_eq(dx_queue_run(q, ch_lib_done, seen, &err), 0, "%s", err.msg);
	dx_queue_free(q);
	dx_ssh_free(ssh);
	dx_target_release(&t);
	dx_inventory_release(&inv);
	json_decref(doc);
	free(text);
}

static void
ch_seen_free(struct ch_seen *seen)
{
	for (size_t i = 0; i < 4; i++)
		free(seen->out[i]);
}

Test(chan, stdin_bytes_reach_every_call, .timeout = 30)
{
	static const char *const calls[] = { "cat", "bash -s", "wc -c" };
	static const char script[] = "echo from-stdin-script\nexit 0\n";
	struct ch_seen seen;

	ch_lib_run(calls, 3, script, strlen(script), &seen);
	cr_assert_eq(seen.status, DX_ST_OK, "%s: %s", dx_kind_name(seen.error.kind),
	    seen.error.msg);
	cr_assert_eq(seen.ncalls, 3);
	cr_expect_eq(seen.outlen[0], strlen(script));
	cr_expect(seen.out[0] != NULL && memcmp(seen.out[0], script, strlen(script)) == 0,
	    "cat gave '%s'", seen.out[0]);
	cr_expect_str_eq(seen.out[1], "from-stdin-script\n");
	cr_expect_eq(atoi(seen.out[2] ? seen.out[2] : "-1"), (int)strlen(script));
	ch_seen_free(&seen);
}

/*
 * 1 MiB to cat, which echoes it back: with the windows of both directions
 * far smaller, writing stdin must go on while stdout is read.
 */
Test(chan, one_mib_of_stdin_through_cat_does_not_deadlock, .timeout = 40)
{
	static const char *const calls[] = { "cat", "md5sum" };
	size_t len = 1024 * 1024;
	unsigned char *data = malloc(len);
	struct ch_seen seen;
	double t0;

	cr_assert_not_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 7 + i / 4096);
	t0 = dxh_now();
	ch_lib_run(calls, 2, data, len, &seen);
	cr_assert_eq(seen.status, DX_ST_OK, "%s: %s", dx_kind_name(seen.error.kind),
	    seen.error.msg);
	cr_expect_leq(dxh_now() - t0, 15.0);
	cr_assert_eq(seen.ncalls, 2);
	cr_expect_eq(seen.outlen[0], len, "cat returned %zu bytes", seen.outlen[0]);
	cr_expect(!seen.truncated[0]);
	cr_expect(seen.outlen[0] == len && memcmp(seen.out[0], data, len) == 0,
	    "cat returned other bytes");
	cr_expect_eq(seen.exit_status[1], 0);
	ch_seen_free(&seen);
	free(data);
}

/*
 * A command that does not read its input ends without waiting for it, and
 * one whose output is closed still gets all of it before it ends.
 */
Test(chan, stdin_is_fed_until_the_command_closes_the_channel, .timeout = 40)
{
	size_t len = 1024 * 1024;
	char *data = malloc(len), *dir, *c1, *c2;
	const char *calls[3];
	struct ch_seen seen;
	double t0;

	cr_assert_not_null(data);
	memset(data, 'x', len);
	dir = dxh_tmpdir();
	cr_assert(asprintf(&c1, "exec >/dev/null 2>&1; cat > %s/got", dir) > 0);
	cr_assert(asprintf(&c2, "wc -c < %s/got", dir) > 0);
	calls[0] = "true";
	calls[1] = c1;
	calls[2] = c2;
	t0 = dxh_now();
	ch_lib_run(calls, 3, data, len, &seen);
	cr_assert_eq(seen.status, DX_ST_OK, "%s: %s", dx_kind_name(seen.error.kind),
	    seen.error.msg);
	cr_expect_leq(dxh_now() - t0, 10.0);
	cr_assert_eq(seen.ncalls, 3);
	cr_expect_eq(atol(seen.out[2] ? seen.out[2] : "-1"), (long)len,
	    "the command with its output closed got '%s' bytes", seen.out[2]);
	ch_seen_free(&seen);
	free(c1);
	free(c2);
	free(dir);
	free(data);
}

/* No exit status. */

/*
 * sshd's ChannelTimeout closes a silent command's channel after 1 s and
 * sends no exit status; libssh2 1.10 reads that as 0.  dronex must say
 * that no status came (exit_status null, kind channel), end the command
 * that is still running, and still report a real exit 0 as 0.
 */
Test(chan, a_channel_closed_with_no_exit_status_is_not_exit_0, .timeout = 40)
{
	struct ch_sshd s;
	struct dxh_run r;
	json_t *inv, *c;
	char *path;

	cr_assert_eq(dxh_count_procs("sleep 5.713"), 0, "a 'sleep 5.713' is already running");
	ch_sshd_start(&s, "ChannelTimeout session:command=1", NULL);
	inv = dxh_inv_new(2);
	/*
	 * d-002 is on the suite's sshd: sshd's ChannelTimeout counts in whole
	 * seconds, so with 1 s even a quick command's channel may be closed
	 * (with no exit status) before the command ends.
	 */
	ch_sshd_drone(&s, inv, "d-001");
	dxh_inv_calls(inv, "d-001", "sleep 5.713", NULL);
	dxh_inv_calls(inv, "d-002", "true", "exit 0", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-t", "20", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed", "%s", r.out);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "channel", "%s", r.out);
	cr_assert_eq(dxh_ncalls(&r, "d-001"), 1);
	c = dxh_call(&r, "d-001", 0);
	cr_expect(json_is_null(json_object_get(c, "exit_status")),
	    "a channel closed with no exit status reported exit_status %s",
	    json_dumps(json_object_get(c, "exit_status"), JSON_ENCODE_ANY));
	cr_expect_str_eq(dxh_call_kind(&r, "d-001", 0), "channel");
	cr_expect_lt(r.wall, 5.0, "took %.2f s", r.wall);
	/* The abandoned command was ended (the kill script found it). */
	cr_expect_eq(fu_wait_count("sleep 5.713", 0, 2.0), 0,
	    "the command whose channel was closed still runs");
	/* A real exit 0 is 0. */
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok", "%s", r.out);
	cr_assert_eq(dxh_ncalls(&r, "d-002"), 2);
	for (size_t i = 0; i < 2; i++) {
		c = dxh_call(&r, "d-002", i);
		cr_expect(json_is_integer(json_object_get(c, "exit_status")) &&
		    json_integer_value(json_object_get(c, "exit_status")) == 0,
		    "a real exit 0 was not 0: %s", r.out);
	}
	fu_kill_exact("sleep 5.713");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	ch_sshd_stop(&s);
}

/* A BusyBox drone. */

/*
 * BusyBox's ps has no -p: the kill script used to stop at its sshd check,
 * say nothing, and count as done, leaving the command running.
 */
Test(chan, a_cut_command_on_a_busybox_drone_is_ended, .timeout = 40)
{
	struct ch_sshd s;
	struct dxh_run r;
	json_t *inv;
	char *path, *left;

	cr_assert_eq(access("/bin/busybox", X_OK), 0,
	    "/bin/busybox missing (apt-get install busybox)");
	cr_assert_eq(dxh_count_procs("sleep 30.71"), 0, "a 'sleep 30.71' is already running");
	ch_sshd_start(&s, NULL, "/bin/busybox:/usr/bin/ps");
	inv = dxh_inv_new(1);
	ch_sshd_drone(&s, inv, "d-001");
	dxh_inv_calls(inv, "d-001", "ps -p 1 >/dev/null 2>&1 && echo procps-ps; "
	    "sleep 30.71", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-t", "1", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	/* The premise: the drone's ps really is BusyBox's. */
	{
		const char *o = dxh_call_str(&r, "d-001", 0, "stdout");

		cr_expect(o != NULL && strcmp(o, "") == 0,
		    "the drone's ps is not BusyBox's: %s", r.out);
	}
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "call_timeout", "%s", r.out);
	cr_expect(!fu_maybe_running(&r, "d-001"), "the kill was not confirmed: %s", r.out);
	left = fu_describe("sleep 30.71");
	cr_expect_eq(fu_wait_count("sleep 30.71", 0, 1.0), 0,
	    "the cut command still runs on the BusyBox drone:\n%s", left);
	free(left);
	fu_kill_exact("sleep 30.71");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	ch_sshd_stop(&s);
}

/* A lost connection. */

/*
 * Keepalives declare a frozen sshd lost; the cut command's end is then
 * unknown (it still runs under the frozen sshd), and the call must say so.
 */
Test(chan, a_call_cut_by_unanswered_keepalives_may_still_run, .timeout = 40)
{
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv;
	char *path;
	pid_t sleeper, sshd = -1;
	bool stop_ok;

	cr_assert_eq(dxh_count_procs("sleep 20.719"), 0, "a 'sleep 20.719' is already running");
	inv = dxh_inv_new(1);
	dxh_inv_calls(inv, "d-001", "sleep 20.719", NULL);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--keepalive", "1", NULL };

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 30 });
	}
	sleeper = fu_session_of("sleep 20.719", 10, &sshd);
	cr_assert(sleeper > 0, "no 'sleep 20.719' under a session of the test sshd");
	stop_ok = fu_signal_if(sshd, "sshd: ", SIGSTOP) == 0;
	dxh_finish(&p, &r);
	fu_signal_if(sshd, "sshd: ", SIGKILL);
	fu_signal_if(sshd, "sshd: ", SIGCONT);
	fu_signal_if(sleeper, "sleep 20.719", SIGKILL);
	cr_assert(stop_ok, "could not stop sshd %d", (int)sshd);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connection_lost", "%s", r.out);
	cr_expect(fu_maybe_running(&r, "d-001"),
	    "a call cut by a lost connection does not say it may still run: %s", r.out);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

/*
 * A kill script that ends without a word proves nothing.  Here a
 * ForceCommand (as on a locked-down drone) runs every other command but
 * swallows the kill script: the script's channel ends with no marker (only
 * a start-up file's "ok"), and the call must say that its command may
 * still run (it does).
 */
Test(chan, a_kill_script_that_says_nothing_confirms_nothing, .timeout = 40)
{
	struct ch_sshd s;
	struct dxh_run r;
	json_t *inv;
	char *path;

	cr_assert_eq(dxh_count_procs("sleep 30.723"), 0, "a 'sleep 30.723' is already running");
	ch_sshd_start(&s, "ForceCommand case \"$SSH_ORIGINAL_COMMAND\" in "
	    "exec\\ /bin/sh\\ -c*) exit 0;; *) eval \"$SSH_ORIGINAL_COMMAND\";; esac",
	    NULL);
	/*
	 * And the login shell's start-up file greets the kill script with
	 * "ok", which holds a 'k' but is no marker line.
	 */
	{
		char *home, *rc;

		cr_assert(asprintf(&home, "%s/home", s.dir) > 0);
		rc = dxh_write_file(home, ".bashrc", "case \"$SSH_ORIGINAL_COMMAND\" in "
		    "\"exec /bin/sh -c\"*) echo ok;; esac\n");
		free(rc);
		free(home);
	}
	inv = dxh_inv_new(1);
	ch_sshd_drone(&s, inv, "d-001");
	dxh_inv_calls(inv, "d-001", "echo through", "sleep 30.723", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-t", "1", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	/* The premise: the ForceCommand runs ordinary commands. */
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "through\n", "%s", r.out);
	cr_expect_str_eq(dxh_call_kind(&r, "d-001", 1), "call_timeout", "%s", r.out);
	cr_expect(fu_maybe_running(&r, "d-001"),
	    "a silent kill script was taken as proof: %s", r.out);
	/* And dronex does not wait for a close that nothing announced. */
	cr_expect_leq(r.wall, 4.0, "took %.2f s with -t 1", r.wall);
	cr_expect_eq(dxh_count_procs("sleep 30.723"), 1,
	    "the premise failed: the command did not survive the swallowed script");
	fu_kill_exact("sleep 30.723");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	ch_sshd_stop(&s);
}

/*
 * A wrapper between sshd and the commands (a ForceCommand that forks):
 * the kill script's parent is then that shell, not sshd, so its guard
 * refuses ("g"), and the call says the command may still run, and why.
 */
Test(chan, a_kill_script_refused_by_its_guard_says_so, .timeout = 40)
{
	struct ch_sshd s;
	struct dxh_run r;
	json_t *inv;
	const char *msg;
	char *path;

	cr_assert_eq(dxh_count_procs("sleep 30.731"), 0, "a 'sleep 30.731' is already running");
	ch_sshd_start(&s, "ForceCommand /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"; exit $?",
	    NULL);
	inv = dxh_inv_new(1);
	ch_sshd_drone(&s, inv, "d-001");
	dxh_inv_calls(inv, "d-001", "sleep 30.731", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-t", "1", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "call_timeout", "%s", r.out);
	cr_expect(fu_maybe_running(&r, "d-001"),
	    "a refused kill script was taken as proof: %s", r.out);
	msg = json_string_value(json_object_get(json_object_get(dxh_drone(&r, "d-001"),
	    "error"), "message"));
	cr_expect(msg != NULL && strstr(msg, "not sshd") != NULL,
	    "the message does not say why: %s", msg);
	cr_expect_leq(r.wall, 4.0, "took %.2f s with -t 1", r.wall);
	fu_kill_exact("sleep 30.731");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	ch_sshd_stop(&s);
}
