/*
 * test_auth.c - public-key authentication with identity files (SPEC 6):
 * an unauthorised key fails the drone with kind auth and runs nothing;
 * ed25519, ecdsa and rsa identity files all work; a key file others can
 * read, one the user does not own, a missing file, a directory, a public
 * key and a FIFO given as identity each fail with their own message.
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

/* Runs one drone with identity key; the command makes a marker file. */
static void
auth_run(struct dxh_run *r, const char *identity, char **marker)
{
	json_t *inv;
	char *dir, *path, *touch;

	dir = dxh_tmpdir();
	cr_assert(asprintf(marker, "%s/marker", dir) > 0);
	cr_assert(asprintf(&touch, "touch %s && echo in", *marker) > 0);
	inv = dxh_inv_new(1);
	dxh_inv_set(inv, "d-001", "identity", json_string(identity));
	path = dxh_inv_write(inv);
	dxh_run(r, "exec", "-i", path, "--", touch, NULL);
	json_decref(inv);
	free(path);
	free(touch);
	free(dir);
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

Test(auth, an_ed25519_identity_file_works, .timeout = 30)
{
	struct dxh_run r;
	char *marker;

	auth_run(&r, dxh_env("DX_TEST_KEY"), &marker);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "in\n");
	cr_expect(dxh_exists(marker));
	dxh_run_free(&r);
	free(marker);
}

Test(auth, an_ecdsa_identity_file_works, .timeout = 30)
{
	struct dxh_run r;
	char *marker;

	auth_run(&r, dxh_env("DX_TEST_KEY_ECDSA"), &marker);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok", "%s", r.out);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "in\n");
	cr_expect(dxh_exists(marker));
	dxh_run_free(&r);
	free(marker);
}

Test(auth, an_rsa_identity_file_works, .timeout = 30)
{
	struct dxh_run r;
	char *marker;

	auth_run(&r, dxh_env("DX_TEST_KEY_RSA"), &marker);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok", "%s", r.out);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "in\n");
	cr_expect(dxh_exists(marker));
	dxh_run_free(&r);
	free(marker);
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
