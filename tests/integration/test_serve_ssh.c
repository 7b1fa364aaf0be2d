/*
 * test_serve_ssh.c - serve's warm sessions in the SSH world users have
 * (issue 10 for serve): drones behind a jump host and drones known only by
 * an ssh_config alias are served from warm sessions, request after
 * request.  The sharing is counted as TCP connections through a relay in
 * front of the jump host (or of the alias's server): several requests over
 * several drones make one connection.
 */
#include "config.h"

#include "faults_util.h"
#include "serve_util.h"

/* n requests of "echo warm" in a row, each over every drone: all ok. */
static void
tss_ticks(struct srv *s, int n, const char *const *names, size_t nnames)
{
	for (int t = 0; t < n; t++) {
		char id[80];
		json_t *res;

		/* The drones only: the jump host is in the inventory too. */
		srv_submit(s, "{\"dronex_request\": 1, \"selection\": {\"drones\": "
		    "[\"d-*\", \"alias*\"]}, \"calls\": [\"echo warm\"]}", id,
		    sizeof(id));
		res = srv_result(s, id, 30);
		cr_assert(res != NULL, "tick %d: no result: %s", t, s->p.err);
		for (size_t i = 0; i < nnames; i++) {
			json_t *d = json_object_get(json_object_get(res, "drones"),
			    names[i]);

			cr_expect_str_eq(srv_drone_str(res, names[i], "status"), "ok",
			    "tick %d, %s: %s", t, names[i], json_dumps(d, 0));
			cr_expect_str_eq(json_string_value(json_object_get(
			    json_array_get(json_object_get(d, "calls"), 0), "stdout")),
			    "warm\n", "tick %d, %s", t, names[i]);
		}
		json_decref(res);
	}
}

Test(serve_ssh, drones_behind_a_jump_host_stay_warm_through_one_connection,
    .timeout = 120)
{
	const char *names[] = { "d-001", "d-002", "d-003", "d-004", "d-005" };
	struct srv s = { 0 };
	struct fu_proxy *px;
	json_t *inv = dxh_inv_new(5);
	char *path, *spool = srv_spool_dir();

	dxh_inv_add(inv, "bastion");
	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 0, 0);
	fu_proxy_drone(px, inv, "bastion");
	for (size_t i = 0; i < 5; i++)
		dxh_inv_set(inv, names[i], "jump", json_string("bastion"));
	path = dxh_inv_write(inv);
	srv_start(&s, spool, path, (const char *[]){ "-f", "5", "--ssh-config",
	    "none", NULL });
	tss_ticks(&s, 4, names, 5);
	cr_expect_eq(fu_proxy_accepted(px), 1, "%d connections reached the jump "
	    "host for 4 requests over 5 drones behind it", fu_proxy_accepted(px));
	srv_stop(&s);
	fu_proxy_stop(px);
	json_decref(inv);
	free(path);
	free(spool);
	free(s.spool);
}

Test(serve_ssh, an_ssh_config_alias_is_served_warm, .timeout = 120)
{
	const char *names[] = { "alias1" };
	struct srv s = { 0 };
	struct fu_proxy *px;
	char *dir = dxh_tmpdir(), *conf, *text, *kh, *path, *spool = srv_spool_dir();
	json_t *inv = json_pack("{s:[{s:s}]}", "drones", "name", "alias1");

	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 0, 0);
	/* The test host key, listed under the relay's port. */
	cr_assert(asprintf(&text, "[127.0.0.1]:%d %s\n", fu_proxy_port(px),
	    dxh_env("DX_TEST_HOSTKEY_PUB")) > 0);
	kh = dxh_write_file(dir, "known_hosts", text);
	free(text);
	cr_assert(asprintf(&text, "Host alias*\n  HostName 127.0.0.1\n  Port %d\n"
	    "  User %s\n  IdentityFile %s\n  UserKnownHostsFile %s\n",
	    fu_proxy_port(px), dxh_env("DX_TEST_USER"), dxh_env("DX_TEST_KEY"),
	    kh) > 0);
	conf = dxh_write_file(dir, "ssh_config", text);
	path = dxh_inv_write(inv);
	srv_start(&s, spool, path, (const char *[]){ "--ssh-config", conf, NULL });
	tss_ticks(&s, 3, names, 1);
	cr_expect_eq(fu_proxy_accepted(px), 1, "%d connections for 3 requests to "
	    "one alias", fu_proxy_accepted(px));
	srv_stop(&s);
	fu_proxy_stop(px);
	json_decref(inv);
	free(text);
	free(kh);
	free(conf);
	free(dir);
	free(path);
	free(spool);
	free(s.spool);
}
