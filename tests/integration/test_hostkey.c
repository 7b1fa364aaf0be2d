/*
 * test_hostkey.c - host key checking against known_hosts (SPEC 6): an
 * unknown, changed or revoked key refuses the drone before any command is
 * sent; hashed entries and junk lines are read as OpenSSH reads them;
 * accept-new adds unknown keys only; off is reported in the results.
 *
 * The global files (/etc/ssh/ssh_known_hosts) are shown to dronex alone
 * through a private mount namespace (ns_util.h), which exercises the real
 * path.
 *
 * "Nothing ran" is proved with a marker: the command would create a file
 * on the drone (this machine), and the file must not exist afterwards.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "ns_util.h"

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

/* drones.d-001.error.message, or "" */
static const char *
hk_message(struct dxh_run *r)
{
	json_t *e = json_object_get(dxh_drone(r, "d-001"), "error");
	const char *m = json_string_value(json_object_get(e, "message"));

	return m != NULL ? m : "";
}

/* The fingerprint field of "ssh-keygen -lf FILE". */
static char *
hk_keygen_fingerprint(const char *file)
{
	char *cmd, line[512], *fp, *sp;
	FILE *p;

	cr_assert(asprintf(&cmd, "ssh-keygen -lf '%s'", file) > 0);
	cr_assert_not_null(p = popen(cmd, "r"));
	cr_assert_not_null(fgets(line, sizeof(line), p));
	pclose(p);
	free(cmd);
	cr_assert_not_null(fp = strchr(line, ' '));
	fp++;
	if ((sp = strchr(fp, ' ')) != NULL)
		*sp = '\0';
	return strdup(fp);
}

/*
 * A case whose user file holds user and whose /etc/ssh (for dronex only)
 * holds ssh_known_hosts with global.
 */
static void
hk_setup_global(struct hk_case *c, const char *user, const char *global)
{
	char *etc, *opts;

	hk_setup(c, user);
	cr_assert(asprintf(&etc, "%s/etc-ssh", c->dir) > 0);
	cr_assert(mkdir(etc, 0755) == 0);
	free(dxh_write_file(etc, "ssh_known_hosts", global));
	cr_assert(asprintf(&opts, "-b %s /etc/ssh", etc) > 0);
	ns_wrap(c->dir, opts);
	free(opts);
	free(etc);
}

Test(hostkey, a_key_revoked_in_the_global_file_is_refused, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *line = hk_line(dxh_env("DX_TEST_HOSTKEY_PUB"));
	char *global;

	cr_assert(asprintf(&global, "# fleet keys\n@revoked %s", line) > 0);
	hk_setup_global(&c, line, global);
	hk_run(&r, &c, NULL, NULL);
	hk_expect_refused(&r, &c, "hostkey_mismatch");
	cr_expect(strstr(hk_message(&r), "/etc/ssh/ssh_known_hosts:2") != NULL,
	    "message: %s", hk_message(&r));
	dxh_run_free(&r);
	hk_teardown(&c);
	free(line);
	free(global);
}

Test(hostkey, accept_new_refuses_a_key_the_global_file_pins_differently, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *other = hk_line(dxh_env("DX_TEST_OTHER_HOSTKEY_PUB"));
	char *after;

	hk_setup_global(&c, "", other);
	hk_run(&r, &c, "--host-key-check", "accept-new");
	hk_expect_refused(&r, &c, "hostkey_mismatch");
	cr_expect(strstr(hk_message(&r), "/etc/ssh/ssh_known_hosts:1") != NULL,
	    "message: %s", hk_message(&r));
	after = dxh_read_file(c.known_hosts);
	cr_expect_str_eq(after, "", "accept-new saved a key the global file "
	    "pins differently");
	dxh_run_free(&r);
	hk_teardown(&c);
	free(other);
	free(after);
}

Test(hostkey, a_key_only_the_global_file_knows_is_accepted, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *line = hk_line(dxh_env("DX_TEST_HOSTKEY_PUB"));

	hk_setup_global(&c, "", line);
	hk_run(&r, &c, NULL, NULL);
	hk_expect_ok(&r, &c);
	dxh_run_free(&r);
	hk_teardown(&c);
	free(line);
}

Test(hostkey, concurrent_accept_new_runs_add_the_key_once, .timeout = 60)
{
	enum { NPROC = 4 };
	struct hk_case c;
	const char *bin = dxh_env("DRONEX_BIN");
	char *after, *b64, *p;
	pid_t pid[NPROC];
	int st, n = 0;

	hk_setup(&c, "");
	/* Several drones per run, all the same host: each run has one key to add. */
	for (int i = 2; i <= 4; i++) {
		char name[16];

		dxh_name(name, sizeof(name), i);
		dxh_inv_add(c.inv, name);
		dxh_inv_set(c.inv, name, "known_hosts", json_string(c.known_hosts));
	}
	free(c.inv_path);
	c.inv_path = dxh_inv_write(c.inv);
	for (int i = 0; i < NPROC; i++) {
		pid[i] = fork();
		cr_assert(pid[i] != -1);
		if (pid[i] == 0) {
			int fd = open("/dev/null", O_RDWR);

			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			unsetenv("SSH_AUTH_SOCK");
			execl(bin, bin, "exec", "-i", c.inv_path, "--host-key-check",
			    "accept-new", "--", "true", (char *)NULL);
			_exit(127);
		}
	}
	for (int i = 0; i < NPROC; i++) {
		cr_assert(waitpid(pid[i], &st, 0) == pid[i]);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "run %d ended with status %#x", i, st);
	}
	after = dxh_read_file(c.known_hosts);
	cr_assert_not_null(after);
	b64 = strchr(dxh_env("DX_TEST_HOSTKEY_PUB"), ' ') + 1;
	for (p = after; (p = strstr(p, b64)) != NULL; p++)
		n++;
	cr_expect_eq(n, 1, "the key was added %d times:\n%s", n, after);
	hk_teardown(&c);
	free(after);
}

Test(hostkey, the_results_carry_the_fingerprint_ssh_keygen_prints, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *pub, *want;

	cr_assert(asprintf(&pub, "%s/host_ed25519.pub", dxh_env("DX_TEST_DIR")) > 0);
	want = hk_keygen_fingerprint(pub);
	cr_assert(strncmp(want, "SHA256:", 7) == 0, "ssh-keygen said '%s'", want);
	hk_setup(&c, "");
	/* Every drone gets it once the key exchange is done, checked or not. */
	hk_run(&r, &c, "--host-key-check", "off");
	hk_expect_ok(&r, &c);
	cr_expect_str_eq(json_string_value(json_object_get(dxh_drone(&r, "d-001"),
	    "hostkey_fingerprint")), want, "%s", r.out);
	dxh_run_free(&r);
	hk_teardown(&c);
	free(pub);
	free(want);
}

Test(hostkey, a_refusal_names_the_file_line_and_fingerprint, .timeout = 30)
{
	struct hk_case c;
	struct dxh_run r;
	char *pub, *want;

	cr_assert(asprintf(&pub, "%s/host_ed25519.pub", dxh_env("DX_TEST_DIR")) > 0);
	want = hk_keygen_fingerprint(pub);
	hk_setup(&c, "");
	{
		char *line = hk_line(dxh_env("DX_TEST_OTHER_HOSTKEY_PUB"));
		char *content, *where;
		FILE *f;

		cr_assert(asprintf(&content, "# one\n# two\n%s", line) > 0);
		cr_assert_not_null(f = fopen(c.known_hosts, "w"));
		fputs(content, f);
		fclose(f);
		unlink(c.marker);
		hk_run(&r, &c, NULL, NULL);
		hk_expect_refused(&r, &c, "hostkey_mismatch");
		cr_assert(asprintf(&where, "does not match %s:3", c.known_hosts) > 0);
		cr_expect(strstr(hk_message(&r), where) != NULL, "message: %s",
		    hk_message(&r));
		cr_expect(strstr(hk_message(&r), want) != NULL, "message: %s",
		    hk_message(&r));
		dxh_run_free(&r);
		free(line);
		free(content);
		free(where);
	}
	hk_teardown(&c);
	free(pub);
	free(want);
}

/* known_hosts that is not a regular file: refused at once, no hang. */
static void
hk_expect_not_regular(const char *path, const char *what)
{
	struct hk_case c;
	struct dxh_run r;
	double t0;

	hk_setup(&c, "");
	dxh_inv_set(c.inv, "d-001", "known_hosts", json_string(path));
	free(c.inv_path);
	c.inv_path = dxh_inv_write(c.inv);
	t0 = dxh_now();
	hk_run(&r, &c, NULL, NULL);
	cr_expect(dxh_now() - t0 < 5, "took %.1f s", dxh_now() - t0);
	cr_expect(!r.killed, "dronex hung on %s", path);
	hk_expect_refused(&r, &c, "hostkey_unknown");
	cr_expect(strstr(hk_message(&r), what) != NULL, "message: %s",
	    hk_message(&r));
	dxh_run_free(&r);
	hk_teardown(&c);
}

Test(hostkey, a_fifo_as_known_hosts_fails_fast, .timeout = 30)
{
	char *dir = dxh_tmpdir(), *fifo;

	cr_assert(asprintf(&fifo, "%s/kh.fifo", dir) > 0);
	cr_assert(mkfifo(fifo, 0600) == 0);
	hk_expect_not_regular(fifo, "FIFO");
	free(fifo);
	free(dir);
}

Test(hostkey, dev_zero_as_known_hosts_is_refused, .timeout = 30)
{
	hk_expect_not_regular("/dev/zero", "not a regular file");
}
