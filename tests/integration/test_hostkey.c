/*
 * test_hostkey.c - host key checking against known_hosts (SPEC 6): an
 * unknown, changed or revoked key refuses the drone before any command is
 * sent; hashed entries and junk lines are read as OpenSSH reads them;
 * accept-new adds unknown keys only; off is reported in the results.
 *
 * "Nothing ran" is proved with a marker: the command would create a file
 * on the drone (this machine), and the file must not exist afterwards.
 */
#include "config.h"

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

struct hk_case {
	char	*dir;
	char	*known_hosts;
	char	*marker;
	char	*touch;		/* the command that makes the marker */
	json_t	*inv;
	char	*inv_path;
};

/* A one-drone case whose known_hosts file holds content. */
static void
hk_setup(struct hk_case *c, const char *content)
{
	memset(c, 0, sizeof(*c));
	c->dir = dxh_tmpdir();
	c->known_hosts = dxh_write_file(c->dir, "known_hosts", content);
	cr_assert(asprintf(&c->marker, "%s/marker", c->dir) > 0);
	cr_assert(asprintf(&c->touch, "touch %s", c->marker) > 0);
	c->inv = dxh_inv_new(1);
	dxh_inv_set(c->inv, "d-001", "known_hosts", json_string(c->known_hosts));
	c->inv_path = dxh_inv_write(c->inv);
}

static void
hk_teardown(struct hk_case *c)
{
	free(c->dir);
	free(c->known_hosts);
	free(c->marker);
	free(c->touch);
	json_decref(c->inv);
	free(c->inv_path);
}

/* "[127.0.0.1]:PORT KEYTYPE BASE64" for key ("KEYTYPE BASE64"). */
static char *
hk_line(const char *key)
{
	char *s;

	cr_assert(asprintf(&s, "[127.0.0.1]:%s %s\n", dxh_env("DX_TEST_PORT"), key) > 0);
	return s;
}

/* Runs "exec -- touch MARKER" with extra options (NULL-terminated). */
static void
hk_run(struct dxh_run *r, struct hk_case *c, const char *opt1, const char *opt2)
{
	const char *argv[10];
	size_t n = 0;
	struct dxh_opts o = { .timeout = 30 };

	argv[n++] = "exec";
	argv[n++] = "-i";
	argv[n++] = c->inv_path;
	if (opt1 != NULL)
		argv[n++] = opt1;
	if (opt2 != NULL)
		argv[n++] = opt2;
	argv[n++] = "--";
	argv[n++] = c->touch;
	argv[n] = NULL;
	dxh_run_argv(r, argv, &o);
}

static void
hk_expect_refused(struct dxh_run *r, struct hk_case *c, const char *kind)
{
	cr_expect_eq(r->status, 1, "exit %d, stderr: %s", r->status, r->err);
	cr_expect_str_eq(dxh_status(r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(r, "d-001"), kind, "%s", r->out);
	cr_expect_eq(dxh_ncalls(r, "d-001"), 0, "calls reported for a refused drone");
	cr_expect_not(dxh_exists(c->marker), "the command ran on a refused drone");
}

static void
hk_expect_ok(struct dxh_run *r, struct hk_case *c)
{
	cr_expect_eq(r->status, 0, "exit %d, stderr: %s", r->status, r->err);
	cr_expect_str_eq(dxh_status(r, "d-001"), "ok", "%s", r->out);
	cr_expect(dxh_exists(c->marker), "the command did not run");
}

Test(hostkey, an_unknown_key_is_refused_and_nothing_runs, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;

	hk_setup(&c, "");
	hk_run(&r, &c, NULL, NULL);
	hk_expect_refused(&r, &c, "hostkey_unknown");
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-001 failed: hostkey_unknown: "), 1,
	    "stderr: %s", r.err);
	dxh_run_free(&r);
	hk_teardown(&c);
}

Test(hostkey, a_missing_known_hosts_file_means_unknown, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;

	hk_setup(&c, "");
	cr_assert(unlink(c.known_hosts) == 0);
	hk_run(&r, &c, NULL, NULL);
	hk_expect_refused(&r, &c, "hostkey_unknown");
	dxh_run_free(&r);
	hk_teardown(&c);
}

Test(hostkey, a_changed_key_is_refused_and_nothing_runs, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *line = hk_line(dxh_env("DX_TEST_OTHER_HOSTKEY_PUB"));

	hk_setup(&c, line);
	hk_run(&r, &c, NULL, NULL);
	hk_expect_refused(&r, &c, "hostkey_mismatch");
	dxh_run_free(&r);
	hk_teardown(&c);
	free(line);
}

Test(hostkey, the_test_known_hosts_file_is_accepted, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *content = dxh_read_file(dxh_env("DX_TEST_KNOWN_HOSTS"));

	cr_assert_not_null(content);
	hk_setup(&c, content);
	hk_run(&r, &c, NULL, NULL);
	hk_expect_ok(&r, &c);
	dxh_run_free(&r);
	hk_teardown(&c);
	free(content);
}

Test(hostkey, a_malformed_line_before_the_right_entry_is_skipped, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *line = hk_line(dxh_env("DX_TEST_HOSTKEY_PUB"));
	char *content;

	cr_assert(asprintf(&content,
	    "# a comment\n"
	    "this line is not a known_hosts entry\n"
	    "[127.0.0.1]:1 ssh-ed25519 !!!not-base64!!!\n"
	    "\n"
	    "%s", line) > 0);
	hk_setup(&c, content);
	hk_run(&r, &c, NULL, NULL);
	hk_expect_ok(&r, &c);
	dxh_run_free(&r);
	hk_teardown(&c);
	free(line);
	free(content);
}

Test(hostkey, a_hashed_entry_is_accepted, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *line = hk_line(dxh_env("DX_TEST_HOSTKEY_PUB"));
	char *hashed;
	pid_t pid;
	int st;

	hk_setup(&c, line);
	/* ssh-keygen -H rewrites the file with hashed host names. */
	pid = fork();
	cr_assert(pid != -1);
	if (pid == 0) {
		execlp("ssh-keygen", "ssh-keygen", "-q", "-H", "-f", c.known_hosts,
		    (char *)NULL);
		_exit(127);
	}
	cr_assert(waitpid(pid, &st, 0) == pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ssh-keygen -H failed");
	hashed = dxh_read_file(c.known_hosts);
	cr_assert_not_null(hashed);
	cr_assert(strncmp(hashed, "|1|", 3) == 0, "not hashed: %s", hashed);
	cr_assert(strstr(hashed, "127.0.0.1") == NULL, "not hashed: %s", hashed);
	hk_run(&r, &c, NULL, NULL);
	hk_expect_ok(&r, &c);
	dxh_run_free(&r);
	hk_teardown(&c);
	free(line);
	free(hashed);
}

Test(hostkey, a_revoked_key_is_refused_even_if_also_listed, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *line = hk_line(dxh_env("DX_TEST_HOSTKEY_PUB"));
	char *content;

	cr_assert(asprintf(&content, "@revoked %s%s", line, line) > 0);
	hk_setup(&c, content);
	hk_run(&r, &c, NULL, NULL);
	hk_expect_refused(&r, &c, "hostkey_mismatch");
	dxh_run_free(&r);
	hk_teardown(&c);
	free(line);
	free(content);
}

Test(hostkey, a_revoked_key_alone_is_refused, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *line = hk_line(dxh_env("DX_TEST_HOSTKEY_PUB"));
	char *content;

	cr_assert(asprintf(&content, "@revoked %s", line) > 0);
	hk_setup(&c, content);
	hk_run(&r, &c, NULL, NULL);
	hk_expect_refused(&r, &c, "hostkey_mismatch");
	dxh_run_free(&r);
	hk_teardown(&c);
	free(line);
	free(content);
}

Test(hostkey, accept_new_adds_an_unknown_key_and_strict_then_accepts_it, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *after, *b64;

	hk_setup(&c, "");
	hk_run(&r, &c, "--host-key-check", "accept-new");
	hk_expect_ok(&r, &c);
	cr_expect_str_eq(json_string_value(json_object_get(dxh_doc(&r), "host_key_check")),
	    "accept-new");
	dxh_run_free(&r);

	after = dxh_read_file(c.known_hosts);
	cr_assert_not_null(after);
	b64 = strchr(dxh_env("DX_TEST_HOSTKEY_PUB"), ' ');
	cr_assert_not_null(b64);
	cr_expect(strstr(after, b64 + 1) != NULL,
	    "known_hosts does not hold the host key after accept-new: '%s'", after);

	unlink(c.marker);
	hk_run(&r, &c, "--host-key-check", "strict");
	hk_expect_ok(&r, &c);
	dxh_run_free(&r);
	hk_teardown(&c);
	free(after);
}

Test(hostkey, accept_new_still_refuses_a_changed_key, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *line = hk_line(dxh_env("DX_TEST_OTHER_HOSTKEY_PUB"));
	char *after;

	hk_setup(&c, line);
	hk_run(&r, &c, "--host-key-check", "accept-new");
	hk_expect_refused(&r, &c, "hostkey_mismatch");
	after = dxh_read_file(c.known_hosts);
	cr_expect_str_eq(after, line, "accept-new changed known_hosts for a changed key");
	dxh_run_free(&r);
	hk_teardown(&c);
	free(line);
	free(after);
}

Test(hostkey, off_connects_without_a_known_key_and_says_so, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *after;

	hk_setup(&c, "");
	hk_run(&r, &c, "--host-key-check", "off");
	hk_expect_ok(&r, &c);
	cr_expect_str_eq(json_string_value(json_object_get(dxh_doc(&r), "host_key_check")),
	    "off", "%s", r.out);
	after = dxh_read_file(c.known_hosts);
	cr_expect_str_eq(after, "", "off wrote to known_hosts");
	dxh_run_free(&r);
	hk_teardown(&c);
	free(after);
}
