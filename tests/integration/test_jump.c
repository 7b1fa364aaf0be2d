/*
 * test_jump.c - drones reached through jump hosts (SPEC 2, 6): one and two
 * hops, the jump session shared by every drone behind it (counted as TCP
 * connections through a relay in front of the jump host), a refused, a
 * silent, a cut and a mistrusted jump host each failing exactly its own
 * drones with the hop's own kind and a message naming the hop, and
 * `list --explain` showing the chain.
 *
 * Every host is the suite's one sshd on 127.0.0.1: the jump host
 * "bastion", the second hop "inner" and the drones are names the
 * inventory maps to it.  The sshd allows TCP forwarding (its default).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "faults_util.h"
#include "harness.h"

/* d-001..d-n behind jump (NULL: direct), plus "bastion" and "inner". */
static json_t *
tj_inv(int n, const char *jump)
{
	json_t *inv = dxh_inv_new(n);
	char name[16];

	dxh_inv_add(inv, "bastion");
	dxh_inv_add(inv, "inner");
	dxh_inv_set(inv, "inner", "jump", json_string("bastion"));
	for (int i = 1; i <= n && jump != NULL; i++) {
		dxh_name(name, sizeof(name), i);
		dxh_inv_set(inv, name, "jump", json_string(jump));
	}
	return inv;
}

/* NAME connects directly after all. */
static void
tj_direct(json_t *inv, const char *name)
{
	json_object_del(dxh_inv_drone(inv, name), "jump");
}

static void
tj_exec(struct dxh_run *r, json_t *inv, const char *fanout, const char *cmd)
{
	char *path = dxh_inv_write(inv);
	const char *av[] = { "exec", "-i", path, "-w", "d-*", "-f", fanout,
	    "--", cmd, NULL };

	dxh_run_argv(r, av, &(struct dxh_opts){ .timed = true, .timeout = 60 });
	free(path);
}

static void
tj_expect_ok(const struct dxh_run *r, const char *name, const char *out)
{
	cr_expect_str_eq(dxh_status(r, name), "ok", "%s: %s", name, r->out);
	cr_expect_str_eq(dxh_call_str(r, name, 0, "stdout"), out, "%s: %s", name,
	    r->out);
}

/* drones.NAME.error.message. */
static const char *
tj_msg(const struct dxh_run *r, const char *name)
{
	json_t *m = json_object_get(json_object_get(dxh_drone(r, name), "error"),
	    "message");

	return json_is_string(m) ? json_string_value(m) : "";
}

static void
tj_expect_fail(const struct dxh_run *r, const char *name, const char *kind,
    const char *needle)
{
	cr_expect_str_eq(dxh_status(r, name), "failed", "%s: %s", name, r->out);
	cr_expect_str_eq(dxh_kind(r, name), kind, "%s: %s", name, r->out);
	cr_expect(strstr(tj_msg(r, name), needle) != NULL, "%s: '%s' lacks '%s'",
	    name, tj_msg(r, name), needle);
}

Test(jump, one_hop_and_two_hops_reach_their_drones, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv = tj_inv(4, "bastion");

	/* d-003 and d-004 go through bastion, then inner. */
	dxh_inv_set(inv, "d-003", "jump", json_string("inner"));
	dxh_inv_set(inv, "d-004", "jump", json_string("inner"));
	tj_exec(&r, inv, "4", "echo through");
	cr_expect_eq(r.status, 0, "exit %d: %s %s", r.status, r.err, r.out);
	for (int i = 1; i <= 4; i++) {
		char name[16];

		dxh_name(name, sizeof(name), i);
		tj_expect_ok(&r, name, "through\n");
	}
	dxh_run_free(&r);
	json_decref(inv);
}

Test(jump, an_ad_hoc_jump_host_user_at_host_port, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv = tj_inv(2, NULL);
	char *jump;

	cr_assert(asprintf(&jump, "%s@127.0.0.1:%s", dxh_env("DX_TEST_USER"),
	    dxh_env("DX_TEST_PORT")) > 0);
	/* The ad-hoc hop takes its key and known_hosts from "defaults". */
	json_object_set_new(inv, "defaults", json_pack("{s:s, s:s}",
	    "identity", dxh_env("DX_TEST_KEY"),
	    "known_hosts", dxh_env("DX_TEST_KNOWN_HOSTS")));
	dxh_inv_set(inv, "d-001", "jump", json_string(jump));
	tj_exec(&r, inv, "2", "echo adhoc");
	cr_expect_eq(r.status, 0, "exit %d: %s %s", r.status, r.err, r.out);
	tj_expect_ok(&r, "d-001", "adhoc\n");
	tj_expect_ok(&r, "d-002", "adhoc\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(jump);
}

/*
 * Bulk data both ways through one jump session at once: every drone gets
 * 3 MB on stdin and sends back its checksum and 3 MB of output, so the
 * pump's windows, half-sent writes and full socketpairs all come into play.
 */
Test(jump, megabytes_both_ways_through_one_jump_arrive_intact, .timeout = 90)
{
	struct dxh_run r;
	json_t *inv = tj_inv(4, "bastion");
	char *dir, *in, *path, *data, name[16], *cmd, want[80];
	size_t len = 3 * 1000 * 1000;
	FILE *f;

	dir = dxh_tmpdir();
	cr_assert(asprintf(&in, "%s/stdin", dir) > 0);
	cr_assert_not_null(data = malloc(len));
	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + (i * 7 + i / 1000) % 26);
	cr_assert_not_null(f = fopen(in, "w"));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	/* The checksum the drones must print, computed the same way. */
	{
		char *sum;
		FILE *p;

		cr_assert(asprintf(&sum, "sha256sum < %s", in) > 0);
		cr_assert_not_null(p = popen(sum, "r"));
		cr_assert_not_null(fgets(want, sizeof(want), p));
		pclose(p);
		free(sum);
		want[64] = '\0';
	}
	cr_assert(asprintf(&cmd, "sha256sum | cut -c1-64; head -c %zu /dev/zero | "
	    "tr '\\0' x", len) > 0);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-w", "d-*", "-f", "4",
		    "--stdin", in, "--max-output", "8M", "--", cmd, NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true,
		    .timeout = 80 });
	}
	cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	for (int i = 1; i <= 4; i++) {
		const char *out;

		dxh_name(name, sizeof(name), i);
		cr_expect_str_eq(dxh_status(&r, name), "ok", "%s: %s", name, r.err);
		out = dxh_call_str(&r, name, 0, "stdout");
		cr_assert_not_null(out, "%s: no stdout", name);
		cr_expect_eq(strncmp(out, want, 64), 0, "%s: checksum %.64s, want %s",
		    name, out, want);
		cr_expect_eq(strlen(out), 65 + len, "%s: %zu bytes of output", name,
		    strlen(out));
		cr_expect_eq(strspn(out + 65, "x"), len, "%s: output mangled", name);
	}
	dxh_run_free(&r);
	json_decref(inv);
	free(data);
	free(cmd);
	free(path);
	free(in);
	free(dir);
}

/* The run's deadline ends a drone still waiting for its jump host. */
Test(jump, the_deadline_ends_a_wait_for_a_silent_jump_host, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv = tj_inv(1, "bastion");
	int port, fd = dxh_silent_listener(&port);
	char *path;

	dxh_inv_set(inv, "bastion", "port", json_integer(port));
	dxh_inv_set(inv, "bastion", "connect_timeout", json_real(30.0));
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-w", "d-*", "--deadline", "1", "--",
	    "true", NULL);
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "deadline", "%s", r.out);
	cr_expect_leq(r.wall, 5.0, "took %.2f s with --deadline 1", r.wall);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	close(fd);
}

/*
 * The relay counts TCP connections to the jump host: drones behind it,
 * one hop or two, share one session, so one connection.
 */
Test(jump, drones_behind_one_jump_share_one_connection_to_it, .timeout = 90)
{
	struct fu_proxy *px;
	struct dxh_run r;
	json_t *inv = tj_inv(12, "bastion");
	char name[16];

	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 0, 0);
	fu_proxy_drone(px, inv, "bastion");
	for (int i = 7; i <= 10; i++) {
		dxh_name(name, sizeof(name), i);
		dxh_inv_set(inv, name, "jump", json_string("inner"));
	}
	/* Two direct drones, beside the relay. */
	tj_direct(inv, "d-011");
	tj_direct(inv, "d-012");
	tj_exec(&r, inv, "12", "sleep 0.3; echo shared");
	cr_expect_eq(r.status, 0, "exit %d: %s %s", r.status, r.err, r.out);
	for (int i = 1; i <= 12; i++) {
		dxh_name(name, sizeof(name), i);
		tj_expect_ok(&r, name, "shared\n");
	}
	cr_expect_eq(fu_proxy_accepted(px), 1, "%d connections reached the jump "
	    "host for 10 drones behind it", fu_proxy_accepted(px));
	fu_proxy_stop(px);
	dxh_run_free(&r);
	json_decref(inv);
}

Test(jump, a_refused_jump_host_fails_exactly_its_drones, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv = tj_inv(5, "bastion");

	dxh_inv_set(inv, "bastion", "port", json_integer(dxh_closed_port()));
	dxh_inv_set(inv, "d-003", "jump", json_string("inner"));
	tj_direct(inv, "d-004");
	tj_direct(inv, "d-005");
	tj_exec(&r, inv, "5", "echo direct");
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	tj_expect_fail(&r, "d-001", "connect_refused",
	    "jump host 'bastion' (hop 1 of 1): connection refused");
	tj_expect_fail(&r, "d-002", "connect_refused",
	    "jump host 'bastion' (hop 1 of 1): connection refused");
	tj_expect_fail(&r, "d-003", "connect_refused",
	    "jump host 'bastion' (hop 1 of 2): connection refused");
	tj_expect_ok(&r, "d-004", "direct\n");
	tj_expect_ok(&r, "d-005", "direct\n");
	dxh_run_free(&r);
	json_decref(inv);
}

/* The second hop refused behind a working first: hop 2's own failure. */
Test(jump, a_refused_second_hop_is_named_as_hop_2, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv = tj_inv(2, "inner");

	dxh_inv_set(inv, "inner", "port", json_integer(dxh_closed_port()));
	dxh_inv_set(inv, "d-002", "jump", json_string("bastion"));
	tj_exec(&r, inv, "2", "echo one");
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	tj_expect_fail(&r, "d-001", "connect_refused", "jump host 'inner' (hop 2 of 2)");
	tj_expect_ok(&r, "d-002", "one\n");
	dxh_run_free(&r);
	json_decref(inv);
}

/* A drone behind a working jump whose own port is closed: its own failure. */
Test(jump, a_drone_the_jump_host_cannot_reach, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv = tj_inv(2, "bastion");

	dxh_inv_set(inv, "d-001", "port", json_integer(dxh_closed_port()));
	tj_exec(&r, inv, "2", "echo two");
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	tj_expect_fail(&r, "d-001", "connect_refused",
	    "jump host 'bastion' (hop 1 of 1) cannot connect to '127.0.0.1:");
	tj_expect_ok(&r, "d-002", "two\n");
	dxh_run_free(&r);
	json_decref(inv);
}

Test(jump, a_changed_host_key_on_the_hop_is_the_hops_mismatch, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv = tj_inv(3, "bastion");
	char *dir, *path, *line;

	/* bastion's own known_hosts pins another key; the drones' are right. */
	cr_assert(asprintf(&line, "[127.0.0.1]:%s %s\n", dxh_env("DX_TEST_PORT"),
	    dxh_env("DX_TEST_OTHER_HOSTKEY_PUB")) > 0);
	dir = dxh_tmpdir();
	path = dxh_write_file(dir, "known_hosts", line);
	dxh_inv_set(inv, "bastion", "known_hosts", json_string(path));
	tj_direct(inv, "d-003");
	tj_exec(&r, inv, "3", "echo trusted");
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	tj_expect_fail(&r, "d-001", "hostkey_mismatch", "jump host 'bastion' (hop 1 of 1)");
	tj_expect_fail(&r, "d-002", "hostkey_mismatch", "jump host 'bastion' (hop 1 of 1)");
	tj_expect_ok(&r, "d-003", "trusted\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	free(dir);
	free(line);
}

/* A jump host that accepts and never speaks: its banner timeout, on time. */
Test(jump, a_silent_jump_host_times_out_within_its_budget, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv = tj_inv(2, "bastion");
	int port, fd = dxh_silent_listener(&port);

	dxh_inv_set(inv, "bastion", "port", json_integer(port));
	dxh_inv_set(inv, "bastion", "connect_timeout", json_real(1.0));
	tj_direct(inv, "d-002");
	tj_exec(&r, inv, "2", "echo fine");
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	tj_expect_fail(&r, "d-001", "handshake", "jump host 'bastion' (hop 1 of 1)");
	tj_expect_ok(&r, "d-002", "fine\n");
	cr_expect_leq(r.wall, 8.0, "took %.2f s with a 1 s connect timeout", r.wall);
	dxh_run_free(&r);
	json_decref(inv);
	close(fd);
}

/*
 * The jump host's connection dies mid-run (the relay in front of it cuts
 * it, as a killed sshd or a dead link does): the drones behind it lose
 * their connections, on time; direct drones finish.
 */
Test(jump, the_jump_connection_lost_mid_run_fails_only_its_drones, .timeout = 60)
{
	struct fu_proxy *px;
	struct dxh_run r;
	json_t *inv = tj_inv(4, "bastion");

	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 0, 1500);
	fu_proxy_drone(px, inv, "bastion");
	tj_direct(inv, "d-003");
	tj_direct(inv, "d-004");
	tj_exec(&r, inv, "4", "sleep 4; echo late");
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	tj_expect_fail(&r, "d-001", "connection_lost", "");
	tj_expect_fail(&r, "d-002", "connection_lost", "");
	tj_expect_ok(&r, "d-003", "late\n");
	tj_expect_ok(&r, "d-004", "late\n");
	cr_expect_leq(r.wall, 12.0, "took %.2f s", r.wall);
	fu_proxy_stop(px);
	dxh_run_free(&r);
	json_decref(inv);
}

/*
 * A jump session that failed is not kept: the retry of each drone opens a
 * new one (the relay drops the first connection to the jump host, then
 * relays).  The first failure is shared: one connection for three drones.
 */
Test(jump, a_failed_jump_session_is_opened_again_by_the_retries, .timeout = 60)
{
	struct fu_proxy *px;
	struct dxh_run r;
	json_t *inv = tj_inv(3, "bastion");
	char *path;

	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 1, 0);
	fu_proxy_drone(px, inv, "bastion");
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-w", "d-*", "-f", "3",
		    "--retries", "2", "--retry-delay", "0.5", "--", "echo again",
		    NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true,
		    .timeout = 60 });
	}
	cr_expect_eq(r.status, 0, "exit %d: %s %s", r.status, r.err, r.out);
	tj_expect_ok(&r, "d-001", "again\n");
	tj_expect_ok(&r, "d-002", "again\n");
	tj_expect_ok(&r, "d-003", "again\n");
	/* One dropped, then one per retry round (the rounds may not line up). */
	cr_expect(fu_proxy_accepted(px) >= 2 && fu_proxy_accepted(px) <= 4,
	    "%d connections to the jump host", fu_proxy_accepted(px));
	fu_proxy_stop(px);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(jump, a_chain_that_comes_back_to_the_drone_is_refused, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = tj_inv(1, "bastion,d-001");
	char *path;

	/* A ProxyJump-style chain: bastion, then the drone itself. */
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-w", "d-001", "--", "true", NULL);
	cr_expect_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_expect(strstr(r.err, "drone 'd-001': jump chain loops through 'd-001'") !=
	    NULL, "%s", r.err);
	cr_expect_str_eq(r.out, "", "something ran: %s", r.out);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

/* "a,b" as ssh -J a,b: b reached through a. */
Test(jump, a_comma_chain_goes_through_each_hop_in_turn, .timeout = 60)
{
	struct fu_proxy *px;
	struct dxh_run r;
	json_t *inv = tj_inv(2, "bastion,inner");

	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 0, 0);
	fu_proxy_drone(px, inv, "bastion");
	tj_exec(&r, inv, "2", "echo chained");
	cr_expect_eq(r.status, 0, "exit %d: %s %s", r.status, r.err, r.out);
	tj_expect_ok(&r, "d-001", "chained\n");
	tj_expect_ok(&r, "d-002", "chained\n");
	cr_expect_eq(fu_proxy_accepted(px), 1, "%d connections to bastion",
	    fu_proxy_accepted(px));
	fu_proxy_stop(px);
	dxh_run_free(&r);
	json_decref(inv);
}

/*
 * ssh_config's ProxyJump gives the chain: a drone's name (that drone's
 * settings) then an ad-hoc host, each counted at its own relay.
 */
Test(jump, ssh_configs_proxyjump_gives_the_chain, .timeout = 60)
{
	struct fu_proxy *px1, *px2;
	struct dxh_run r;
	json_t *inv = tj_inv(2, NULL);
	char *dir, *conf, *text, *path, *kh;

	px1 = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 0, 0);
	px2 = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 0, 0);
	fu_proxy_drone(px1, inv, "bastion");
	dir = dxh_tmpdir();
	cr_assert(asprintf(&text, "[127.0.0.1]:%d %s\n", fu_proxy_port(px2),
	    dxh_env("DX_TEST_HOSTKEY_PUB")) > 0);
	kh = dxh_write_file(dir, "known_hosts_gw", text);
	free(text);
	/* The second hop: an ad-hoc host that ssh_config itself describes. */
	cr_assert(asprintf(&text, "Host d-001\n\tProxyJump bastion,gw\n"
	    "Host gw\n\tHostName 127.0.0.1\n\tPort %d\n\tUser %s\n"
	    "\tIdentityFile %s\n\tUserKnownHostsFile %s\n",
	    fu_proxy_port(px2), dxh_env("DX_TEST_USER"), dxh_env("DX_TEST_KEY"),
	    kh) > 0);
	conf = dxh_write_file(dir, "ssh_config", text);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-w", "d-*", "--ssh-config", conf, "--",
	    "echo proxied", NULL);
	cr_expect_eq(r.status, 0, "exit %d: %s %s", r.status, r.err, r.out);
	tj_expect_ok(&r, "d-001", "proxied\n");
	tj_expect_ok(&r, "d-002", "proxied\n");
	cr_expect_eq(fu_proxy_accepted(px1), 1, "%d connections to bastion",
	    fu_proxy_accepted(px1));
	cr_expect_eq(fu_proxy_accepted(px2), 1, "%d connections to gw",
	    fu_proxy_accepted(px2));
	fu_proxy_stop(px1);
	fu_proxy_stop(px2);
	dxh_run_free(&r);
	json_decref(inv);
	free(text);
	free(conf);
	free(kh);
	free(path);
	free(dir);
}

Test(jump, list_explain_shows_the_chain, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv = tj_inv(1, "inner"), *chain = NULL, *row;
	char *path;
	size_t i;

	path = dxh_inv_write(inv);
	dxh_run(&r, "list", "-i", path, "--explain", "d-001", NULL);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert(json_is_array(r.json), "%s", r.out);
	json_array_foreach(r.json, i, row)
		if (strcmp(json_string_value(json_object_get(row, "setting")),
		    "jump") == 0)
			chain = json_object_get(row, "chain");
	cr_assert(json_is_array(chain), "no chain: %s", r.out);
	cr_assert_eq(json_array_size(chain), 2, "%s", r.out);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(chain, 0),
	    "name")), "bastion");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(chain, 1),
	    "name")), "inner");
	cr_expect_eq(json_integer_value(json_object_get(json_array_get(chain, 0),
	    "port")), atoi(dxh_env("DX_TEST_PORT")));
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}
