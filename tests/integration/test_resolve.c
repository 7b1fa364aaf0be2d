/*
 * test_resolve.c - name resolution counts against --connect-timeout, the
 * deadline and an interrupt like every other wait (SPEC 6).
 *
 * dronex alone runs in private namespaces (ns_util.h): a network namespace
 * with only loopback, where 127.0.0.1:53 is a UDP socket that hears every
 * query and answers none, and /etc/resolv.conf and /etc/hosts of the
 * test's own making.  So the names are the test's, and no packet leaves
 * the namespace.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "ns_util.h"

/* dronex will see a DNS server that never answers (5 s x 2 tries per query). */
static char *
rs_silent_dns(void)
{
	char *dir = dxh_tmpdir(), *conf, *hosts, *opts;

	conf = dxh_write_file(dir, "resolv.conf",
	    "nameserver 127.0.0.1\noptions timeout:5 attempts:2\n");
	hosts = dxh_write_file(dir, "hosts", "127.0.0.1 localhost\n");
	cr_assert(asprintf(&opts, "-n -u -b %s /etc/resolv.conf -b %s /etc/hosts",
	    conf, hosts) > 0);
	ns_wrap(dir, opts);
	free(opts);
	free(conf);
	free(hosts);
	return dir;
}

static char *
rs_inventory(const char *host)
{
	json_t *inv = dxh_inv_new(1);
	char *path;

	dxh_inv_set(inv, "d-001", "host", json_string(host));
	path = dxh_inv_write(inv);
	json_decref(inv);
	return path;
}

Test(resolve, a_silent_dns_server_costs_the_connect_timeout_only, .timeout = 40)
{
	struct dxh_run r;
	char *dir = rs_silent_dns(), *inv = rs_inventory("hang.dronex.test");
	const char *argv[] = { "exec", "-i", inv, "--connect-timeout", "1",
	    "--", "true", NULL };
	struct dxh_opts o = { .timeout = 35 };

	dxh_run_argv(&r, argv, &o);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "resolve", "%s", r.out);
	/* Each attempt (retries too) costs 1 s, not 5 s x tries per query. */
	{
		double n = (double)json_integer_value(json_object_get(dxh_drone(&r,
		    "d-001"), "attempts"));

		cr_expect(n >= 1 && r.wall < 1.5 * n + 1.0,
		    "took %.1f s for %.0f attempt(s)", r.wall, n);
	}
	dxh_run_free(&r);
	free(dir);
	free(inv);
}

Test(resolve, an_interrupt_ends_a_hanging_resolution, .timeout = 40)
{
	struct dxh_run r;
	char *dir = rs_silent_dns(), *inv = rs_inventory("hang.dronex.test");
	const char *argv[] = { "exec", "-i", inv, "--connect-timeout", "20",
	    "--", "true", NULL };
	struct dxh_opts o = { .timeout = 35, .signal = SIGINT, .signal_after = 0.5 };

	dxh_run_argv(&r, argv, &o);
	cr_expect_eq(r.status, 130, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(r.wall < 3, "took %.1f s after the interrupt", r.wall);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "interrupted", "%s", r.out);
	dxh_run_free(&r);
	free(dir);
	free(inv);
}

Test(resolve, a_name_the_hosts_file_maps_still_connects, .timeout = 30)
{
	struct dxh_run r;
	char *dir = dxh_tmpdir(), *hosts, *opts;
	char *inv = rs_inventory("drone.dronex.test");

	hosts = dxh_write_file(dir, "hosts", "127.0.0.1 localhost drone.dronex.test\n");
	cr_assert(asprintf(&opts, "-b %s /etc/hosts", hosts) > 0);
	ns_wrap(dir, opts);
	/* known_hosts has [127.0.0.1]:port; accept the key under its new name. */
	{
		const char *argv[] = { "exec", "-i", inv, "--host-key-check", "off",
		    "--", "echo in", NULL };

		dxh_run_argv(&r, argv, NULL);
	}
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok", "%s", r.out);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "in\n");
	dxh_run_free(&r);
	free(dir);
	free(hosts);
	free(opts);
	free(inv);
}
