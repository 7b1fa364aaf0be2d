/*
 * test_auth.c - public-key authentication with identity files (SPEC 6):
 * an unauthorised key fails the drone with kind auth and runs nothing;
 * ed25519, ecdsa and rsa identity files all work.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
