/*
 * test_auth.c - public-key authentication with key files (SPEC 6): an
 * unauthorised key fails the drone with kind auth and runs nothing;
 * ed25519, ecdsa and rsa identity files all work (one table); a key file
 * others can read, one the user does not own, a missing file, a
 * directory, a public key and a FIFO given as identity each fail with
 * their own message; and with no file named and no agent, HOME's
 * ~/.ssh/id_ed25519, id_ecdsa and id_rsa are offered in that order, the
 * first the server accepts getting in.  (Agent keys are in test_agent.c,
 * --identity through the library in test_identities.c.)
 *
 * Which key got in is what the session says: tests/sshd-test gives each
 * authorised key's sessions DX_AUTH_KEY=ed25519, ecdsa or rsa.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

/*
 * Runs one drone with identity file identity (NULL: the drone names none)
 * and, when home is not NULL, HOME=home for dronex.  The command makes a
 * marker file and prints "in" and the key the session authenticated with
 * (tests/sshd-test's DX_AUTH_KEY).
 */
static void
auth_run_home(struct dxh_run *r, const char *identity, const char *home, char **marker)
{
	json_t *inv;
	char *dir, *path, *touch, *henv = NULL;
	const char *env[2] = { NULL, NULL };

	dir = dxh_tmpdir();
	cr_assert(asprintf(marker, "%s/marker", dir) > 0);
	cr_assert(asprintf(&touch, "touch %s && echo in && echo \"$DX_AUTH_KEY\"",
	    *marker) > 0);
	inv = dxh_inv_new(1);
	if (identity != NULL)
		dxh_inv_set(inv, "d-001", "identity", json_string(identity));
	else
		json_object_del(dxh_inv_drone(inv, "d-001"), "identity");
	path = dxh_inv_write(inv);
	if (home != NULL) {
		cr_assert(asprintf(&henv, "HOME=%s", home) > 0);
		env[0] = henv;
	}
	{
		const char *av[] = { "exec", "-i", path, "--", touch, NULL };

		dxh_run_argv(r, av, &(struct dxh_opts){ .env = env });
	}
	json_decref(inv);
	free(henv);
	free(path);
	free(touch);
	free(dir);
}

static void
auth_run(struct dxh_run *r, const char *identity, char **marker)
{
	auth_run_home(r, identity, NULL, marker);
}

/* The drone got in with the key of type want, ran its command, and said so. */
static void
auth_expect_in(const struct dxh_run *r, const char *marker, const char *what,
    const char *want)
{
	char *out;

	cr_assert(asprintf(&out, "in\n%s\n", want) > 0);
	cr_expect_eq(r->status, 0, "%s: exit %d, stderr: %s", what, r->status, r->err);
	cr_expect_str_eq(dxh_status(r, "d-001"), "ok", "%s: %s", what, r->out);
	cr_expect_str_eq(dxh_call_str(r, "d-001", 0, "stdout"), out,
	    "%s: not in with the %s key: %s", what, want, r->out);
	cr_expect(dxh_exists(marker), "%s: the command did not run", what);
	free(out);
}

Test(auth, an_unauthorised_key_fails_with_auth_and_runs_nothing, .timeout = 30)
{
	struct dxh_run r;
	char *marker;

	auth_run(&r, dxh_env("DX_TEST_BADKEY"), &marker);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "auth", "%s", r.out);
	cr_expect_eq(dxh_ncalls(&r, "d-001"), 0);
	cr_expect_not(dxh_exists(marker));
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-001 failed: auth: "), 1,
	    "stderr: %s", r.err);
	dxh_run_free(&r);
	free(marker);
}

Test(auth, a_missing_identity_file_fails_with_auth, .timeout = 30)
{
	struct dxh_run r;
	char *marker, *missing;

	cr_assert(asprintf(&missing, "%s/no-such-key", dxh_env("DX_TEST_DIR")) > 0);
	auth_run(&r, missing, &marker);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "auth", "%s", r.out);
	cr_expect_not(dxh_exists(marker));
	dxh_run_free(&r);
	free(marker);
	free(missing);
}

/* The suite's authorised client keys, one of each type. */
static const struct auth_key {
	const char	*type;		/* what DX_AUTH_KEY says on the drone */
	const char	*var;		/* the test environment's path to it */
} auth_keys[] = {
	{ "ed25519", "DX_TEST_KEY" },
	{ "ecdsa", "DX_TEST_KEY_ECDSA" },
	{ "rsa", "DX_TEST_KEY_RSA" },
};

Test(auth, an_identity_file_of_each_key_type_works, .timeout = 60)
{
	for (size_t i = 0; i < sizeof(auth_keys) / sizeof(auth_keys[0]); i++) {
		struct dxh_run r;
		char *marker;

		auth_run(&r, dxh_env(auth_keys[i].var), &marker);
		auth_expect_in(&r, marker, auth_keys[i].var, auth_keys[i].type);
		dxh_run_free(&r);
		free(marker);
	}
}

Test(auth, one_bad_key_does_not_disturb_drones_with_good_keys, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(3);
	dxh_inv_set(inv, "d-002", "identity", json_string(dxh_env("DX_TEST_BADKEY")));
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", "echo", "in", NULL);
	cr_expect_eq(r.status, 1);
	cr_expect_str_eq(dxh_kind(&r, "d-002"), "auth");
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok");
	cr_expect_str_eq(dxh_status(&r, "d-003"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-003", 0, "stdout"), "in\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

/* drones.d-001.error.message, or "" */
static const char *
auth_message(struct dxh_run *r)
{
	json_t *e = json_object_get(dxh_drone(r, "d-001"), "error");
	const char *m = json_string_value(json_object_get(e, "message"));

	return m != NULL ? m : "";
}

/* A copy of the good key at dir/name with mode (the key's own is 0600). */
static char *
auth_key_copy(const char *dir, const char *name, mode_t mode)
{
	char *text = dxh_read_file(dxh_env("DX_TEST_KEY")), *path;

	cr_assert_not_null(text);
	path = dxh_write_file(dir, name, text);
	cr_assert(chmod(path, mode) == 0);
	free(text);
	return path;
}

/* Runs with identity and expects kind auth, nothing run, and want in the message. */
static void
auth_expect_refused(const char *identity, const char *want)
{
	struct dxh_run r;
	char *marker;

	auth_run(&r, identity, &marker);
	cr_expect(!r.killed, "dronex hung on identity '%s'", identity);
	cr_expect(r.wall < 10, "took %.1f s", r.wall);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "auth", "%s", r.out);
	cr_expect_not(dxh_exists(marker));
	cr_expect(strstr(auth_message(&r), want) != NULL, "message: %s",
	    auth_message(&r));
	dxh_run_free(&r);
	free(marker);
}

Test(auth, a_key_file_others_can_read_is_refused_as_openssh_does, .timeout = 30)
{
	char *dir = dxh_tmpdir(), *key = auth_key_copy(dir, "id_open", 0644), *want;

	cr_assert(asprintf(&want, "permissions 0644 for '%s' are too open", key) > 0);
	auth_expect_refused(key, want);
	free(want);
	free(key);
	free(dir);
}

Test(auth, a_key_file_the_group_can_read_is_refused, .timeout = 30)
{
	char *dir = dxh_tmpdir(), *key = auth_key_copy(dir, "id_group", 0640);

	auth_expect_refused(key, "permissions 0640");
	free(key);
	free(dir);
}

Test(auth, a_key_file_someone_else_owns_is_refused, .timeout = 30)
{
	char *dir = dxh_tmpdir(), *key = auth_key_copy(dir, "id_theirs", 0600);

	if (geteuid() != 0)
		cr_skip_test("giving a file away needs root");
	cr_assert(chown(key, getuid() + 1, (gid_t)-1) == 0, "chown: %s",
	    strerror(errno));
	auth_expect_refused(key, "not by you");
	free(key);
	free(dir);
}

Test(auth, a_missing_identity_file_says_so, .timeout = 30)
{
	char *missing;

	cr_assert(asprintf(&missing, "%s/no-such-key", dxh_env("DX_TEST_DIR")) > 0);
	auth_expect_refused(missing, "does not exist");
	free(missing);
}

Test(auth, a_directory_as_identity_says_so, .timeout = 30)
{
	char *dir = dxh_tmpdir();

	auth_expect_refused(dir, "is a directory");
	free(dir);
}

Test(auth, a_public_key_as_identity_says_so, .timeout = 30)
{
	char *pub;

	cr_assert(asprintf(&pub, "%s.pub", dxh_env("DX_TEST_KEY")) > 0);
	auth_expect_refused(pub, "is a public key");
	free(pub);
}

Test(auth, a_fifo_as_identity_fails_fast, .timeout = 30)
{
	char *dir = dxh_tmpdir(), *fifo;

	cr_assert(asprintf(&fifo, "%s/id.fifo", dir) > 0);
	cr_assert(mkfifo(fifo, 0600) == 0);
	auth_expect_refused(fifo, "FIFO");
	free(fifo);
	free(dir);
}

Test(auth, a_huge_identity_file_is_refused, .timeout = 30)
{
	char *dir = dxh_tmpdir(), *key = auth_key_copy(dir, "id_huge", 0600);

	/* Sparse: 2 MiB of size, no disk. */
	cr_assert(truncate(key, 2 * 1024 * 1024) == 0);
	auth_expect_refused(key, "larger than");
	free(key);
	free(dir);
}

/*
 * The default keys: with no identity file named for the drone and no
 * agent, dronex offers HOME's .ssh/id_ed25519, id_ecdsa and id_rsa in that
 * order, as OpenSSH does; the first the server accepts gets in.  Each case
 * is a HOME of its own whose .ssh/ holds copies (mode 0600) of the suite's
 * keys under the default names; "bad" is the key the server refuses.
 */
struct auth_home_case {
	const char	*what;
	const char	*ed25519, *ecdsa, *rsa;	/* env var of the key, or NULL */
	const char	*want;			/* DX_AUTH_KEY, or NULL: refused */
};

/* A fresh HOME with .ssh/id_<type> copied from the keys c names. */
static char *
auth_home(const struct auth_home_case *c)
{
	const char *names[3] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *vars[3] = { c->ed25519, c->ecdsa, c->rsa };
	char *home = dxh_tmpdir(), *ssh;

	cr_assert(asprintf(&ssh, "%s/.ssh", home) > 0);
	cr_assert(mkdir(ssh, 0700) == 0, "mkdir '%s': %s", ssh, strerror(errno));
	for (int i = 0; i < 3; i++) {
		char *text, *key;

		if (vars[i] == NULL)
			continue;
		cr_assert_not_null(text = dxh_read_file(dxh_env(vars[i])));
		key = dxh_write_file(ssh, names[i], text);
		cr_assert(chmod(key, 0600) == 0);
		free(key);
		free(text);
	}
	free(ssh);
	return home;
}

Test(auth, the_default_keys_in_home_are_offered_in_openssh_order, .timeout = 60)
{
	static const struct auth_home_case cases[] = {
		{ "id_ed25519 alone", "DX_TEST_KEY", NULL, NULL, "ed25519" },
		{ "id_ecdsa alone", NULL, "DX_TEST_KEY_ECDSA", NULL, "ecdsa" },
		{ "id_rsa alone", NULL, NULL, "DX_TEST_KEY_RSA", "rsa" },
		{ "all three: id_ed25519 first", "DX_TEST_KEY", "DX_TEST_KEY_ECDSA",
		    "DX_TEST_KEY_RSA", "ed25519" },
		{ "id_ecdsa before id_rsa", NULL, "DX_TEST_KEY_ECDSA",
		    "DX_TEST_KEY_RSA", "ecdsa" },
		{ "a wrong id_ed25519 before a right id_rsa", "DX_TEST_BADKEY", NULL,
		    "DX_TEST_KEY_RSA", "rsa" },
		{ "a wrong id_ed25519 alone", "DX_TEST_BADKEY", NULL, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct auth_home_case *c = &cases[i];
		char *home = auth_home(c), *marker;
		struct dxh_run r;

		auth_run_home(&r, NULL, home, &marker);
		if (c->want != NULL) {
			auth_expect_in(&r, marker, c->what, c->want);
		} else {
			cr_expect_eq(r.status, 1, "%s: exit %d", c->what, r.status);
			cr_expect_str_eq(dxh_kind(&r, "d-001"), "auth", "%s: %s", c->what,
			    r.out);
			cr_expect_not(dxh_exists(marker), "%s: the command ran", c->what);
		}
		dxh_run_free(&r);
		free(marker);
		free(home);
	}
}

/* The order shows in what a refusal says it tried. */
Test(auth, a_refusal_names_the_default_keys_in_the_order_tried, .timeout = 30)
{
	static const struct auth_home_case bad = { "three wrong keys",
	    "DX_TEST_BADKEY", "DX_TEST_BADKEY", "DX_TEST_BADKEY", NULL };
	char *home = auth_home(&bad), *marker;
	const char *msg, *ed, *ec, *rsa;
	struct dxh_run r;

	auth_run_home(&r, NULL, home, &marker);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "auth", "%s", r.out);
	cr_expect_not(dxh_exists(marker));
	msg = auth_message(&r);
	ed = strstr(msg, "/.ssh/id_ed25519");
	ec = strstr(msg, "/.ssh/id_ecdsa");
	rsa = strstr(msg, "/.ssh/id_rsa");
	cr_expect(ed != NULL && ec != NULL && rsa != NULL && ed < ec && ec < rsa,
	    "not id_ed25519, id_ecdsa, id_rsa in that order: %s", msg);
	cr_expect(strstr(msg, home) != NULL, "not the keys of HOME '%s': %s", home, msg);
	dxh_run_free(&r);
	free(marker);
	free(home);
}

/* A file named for the drone means the defaults are not offered at all. */
Test(auth, a_named_identity_file_keeps_the_default_keys_out, .timeout = 30)
{
	static const struct auth_home_case good = { "a right id_ed25519",
	    "DX_TEST_KEY", NULL, NULL, "ed25519" };
	char *home = auth_home(&good), *marker;
	struct dxh_run r;

	auth_run_home(&r, dxh_env("DX_TEST_BADKEY"), home, &marker);
	cr_expect_eq(r.status, 1, "exit %d, stdout: %s", r.status, r.out);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "auth", "%s", r.out);
	cr_expect_not(dxh_exists(marker), "the default id_ed25519 was offered");
	cr_expect(strstr(auth_message(&r), "/.ssh/id_ed25519") == NULL, "%s",
	    auth_message(&r));
	dxh_run_free(&r);
	free(marker);
	free(home);
}
