/*
 * test_identities.c - the target's command-line identities (--identity) as the
 * library takes it (SPEC 6): the files given replace the drone's own
 * identity, and are the first keys offered.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dronex.h"
#include "inventory.h"
#include "ssh_exec.h"

#include "harness.h"

struct id_outcome {
	enum dx_status	 status;
	struct dx_err	 error;
};

static void
id_done(void *arg, size_t index, const struct dx_job *job, struct dx_result *res)
{
	struct id_outcome *o = arg;

	(void)index;
	(void)job;
	o->status = res->status;
	o->error = res->error;
}

/* One drone whose own identity is own, run with --identity cli. */
static void
id_run(const char *own, const char *cli, struct id_outcome *o)
{
	static const char *const calls[] = { "true" };
	const char *ids[1] = { cli };
	struct dx_ssh_opts so = { .max_output = 4096 };
	/* --identity is a command-line setting of the target. */
	struct dx_target_cli tc = { .identities = ids, .nidentities = 1,
	    .connect_timeout_ms = 5000 };
	struct dx_target t;
	struct dx_queue_opts qo = { .fanout = 1 };
	struct dx_inventory inv;
	struct dx_err err;
	struct dx_ssh *ssh;
	struct dx_queue *q;
	json_t *doc;
	char *text;

	dx_err_clear(&err);
	cr_assert_eq(dx_global_init(&err), 0, "%s", err.msg);
	doc = json_pack("{s:[{s:s, s:s, s:i, s:s, s:s, s:s}]}", "drones",
	    "name", "d-001", "host", "127.0.0.1", "port",
	    atoi(dxh_env("DX_TEST_PORT")), "user", dxh_env("DX_TEST_USER"),
	    "identity", own, "known_hosts", dxh_env("DX_TEST_KNOWN_HOSTS"));
	cr_assert((text = json_dumps(doc, 0)) != NULL);
	memset(&inv, 0, sizeof(inv));
	cr_assert_eq(dx_inventory_parse(&inv, text, strlen(text), "test", &err), 0,
	    "%s", err.msg);
	cr_assert_eq(dx_target_resolve(&t, &inv, &inv.drones[0], NULL, &tc, &err), 0,
	    "%s", err.msg);
	cr_assert_not_null(ssh = dx_ssh_new(&so, &err), "%s", err.msg);
	cr_assert_not_null(q = dx_queue_new(&qo, dx_ssh_exec, ssh, &err), "%s",
	    err.msg);
	{
		struct dx_job job = { .name = "d-001", .drone = &t,
		    .calls = calls, .ncalls = 1 };

		cr_assert_eq(dx_queue_add(q, &job, &err), 0, "%s", err.msg);
	}
	cr_assert_eq(dx_queue_run(q, id_done, o, &err), 0, "%s", err.msg);
	dx_queue_free(q);
	dx_ssh_free(ssh);
	dx_target_release(&t);
	dx_inventory_release(&inv);
	json_decref(doc);
	free(text);
}

Test(identities, a_cli_identity_is_used_instead_of_the_drones_own, .timeout = 30)
{
	struct id_outcome o;

	id_run(dxh_env("DX_TEST_BADKEY"), dxh_env("DX_TEST_KEY"), &o);
	cr_expect_eq(o.status, DX_ST_OK, "%s: %s", dx_kind_name(o.error.kind),
	    o.error.msg);
}

Test(identities, a_cli_identity_replaces_the_drones_own, .timeout = 30)
{
	struct id_outcome o;

	id_run(dxh_env("DX_TEST_KEY"), dxh_env("DX_TEST_BADKEY"), &o);
	cr_expect_eq(o.status, DX_ST_FAILED);
	cr_expect_eq(o.error.kind, DX_AUTH, "%s: %s", dx_kind_name(o.error.kind),
	    o.error.msg);
	cr_expect(strstr(o.error.msg, dxh_env("DX_TEST_BADKEY")) != NULL, "%s",
	    o.error.msg);
}
