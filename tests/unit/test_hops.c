/*
 * test_hops.c - a target's jump chain (dx_target_resolve_hops()): each hop
 * with its own settings (an inventory drone's, or an ad-hoc host's with
 * the inventory's defaults but not their jump), chains followed through
 * the hops' own jumps, "a,b" as ssh -J a,b, -l/--port kept off the hops,
 * loops and malformed elements refused, and the registry key that decides
 * which drones share a jump session.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "hops.h"
#include "inventory.h"
#include "target.h"

static void
setup(void)
{
	setenv("HOME", "/home/op", 1);
}

TestSuite(hops, .init = setup);

static const char inv_text[] =
    "{\"defaults\": {\"user\": \"deploy\", \"known_hosts\": \"/etc/kh\", \"jump\": \"bastion\"},\n"
    " \"drones\": [\n"
    "  {\"name\": \"bastion\", \"host\": \"203.0.113.7\", \"port\": 2201, \"user\": \"jump\", \"known_hosts\": \"/kh/bastion\"},\n"
    "  {\"name\": \"inner\", \"host\": \"10.1.0.1\", \"identity\": \"/k/inner\"},\n"
    "  {\"name\": \"web\", \"host\": \"10.1.0.2\", \"jump\": \"inner\"},\n"
    "  {\"name\": \"db\", \"host\": \"10.1.0.3\", \"jump\": \"ops@gw.example:2222\"},\n"
    "  {\"name\": \"cache\", \"host\": \"10.1.0.4\", \"jump\": \"inner,[2001:db8::1]:22\"},\n"
    "  {\"name\": \"loop\", \"jump\": \"bastion,loop\"},\n"
    "  {\"name\": \"bad\", \"jump\": \"gw:99999\"},\n"
    "  {\"name\": \"direct\", \"jump\": \"root@10.9.9.9\"}\n"
    " ]}\n";

/* Resolves drone (and its hops) with the command line's user and port. */
static int
resolve(struct dx_inventory *inv, struct dx_target *t, const char *drone,
    const char *user, int port, struct dx_err *err)
{
	struct dx_target_cli cli;

	memset(&cli, 0, sizeof(cli));
	cli.user = user;
	cli.port = port;
	cr_assert_eq(dx_inventory_parse(inv, inv_text, strlen(inv_text), "inv.json",
	    err), 0, "%s", err->msg);
	cr_assert_eq(dx_target_resolve(t, inv, dx_inventory_find(inv, drone), NULL,
	    &cli, err), 0, "%s", err->msg);
	return dx_target_resolve_hops(t, inv, NULL, &cli, err);
}

static void
expect_hop(const struct dx_target *h, const char *name, const char *host,
    int port, const char *user)
{
	cr_expect_str_eq(h->name, name);
	cr_expect_str_eq(h->host, host, "hop %s", name);
	cr_expect_eq(h->port, port, "hop %s: port %d", name, h->port);
	cr_expect_str_eq(h->user, user, "hop %s", name);
	cr_expect_eq(h->nhops, 0, "hop %s has hops of its own", name);
}

Test(hops, a_drone_hop_has_that_drones_settings)
{
	struct dx_inventory inv;
	struct dx_target t;
	struct dx_err err;

	cr_assert_eq(resolve(&inv, &t, "inner", NULL, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(t.nhops, 1);
	expect_hop(&t.hops[0], "bastion", "203.0.113.7", 2201, "jump");
	cr_expect_str_eq(t.hops[0].known_hosts[0], "/kh/bastion");
	dx_target_release(&t);
	cr_expect_null(t.hops);
	dx_inventory_release(&inv);
}

Test(hops, a_hops_own_jump_comes_first)
{
	struct dx_inventory inv;
	struct dx_target t;
	struct dx_err err;

	/* web -> inner, and inner jumps through bastion (defaults.jump). */
	cr_assert_eq(resolve(&inv, &t, "web", NULL, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(t.nhops, 2);
	expect_hop(&t.hops[0], "bastion", "203.0.113.7", 2201, "jump");
	expect_hop(&t.hops[1], "inner", "10.1.0.1", 22, "deploy");
	cr_expect_str_eq(t.hops[1].identities[0], "/k/inner");
	dx_target_release(&t);
	dx_inventory_release(&inv);
}

Test(hops, an_ad_hoc_hop_takes_the_defaults_but_not_their_jump)
{
	struct dx_inventory inv;
	struct dx_target t;
	struct dx_err err;

	cr_assert_eq(resolve(&inv, &t, "db", NULL, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(t.nhops, 1, "%zu hops: defaults.jump applied to the ad-hoc hop",
	    t.nhops);
	expect_hop(&t.hops[0], "ops@gw.example:2222", "gw.example", 2222, "ops");
	cr_expect_str_eq(t.hops[0].known_hosts[0], "/etc/kh");
	dx_target_release(&t);
	dx_inventory_release(&inv);
}

Test(hops, a_comma_chain_follows_only_the_first_hops_jump)
{
	struct dx_inventory inv;
	struct dx_target t;
	struct dx_err err;

	cr_assert_eq(resolve(&inv, &t, "cache", NULL, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(t.nhops, 3);
	expect_hop(&t.hops[0], "bastion", "203.0.113.7", 2201, "jump");
	expect_hop(&t.hops[1], "inner", "10.1.0.1", 22, "deploy");
	expect_hop(&t.hops[2], "[2001:db8::1]:22", "2001:db8::1", 22, "deploy");
	dx_target_release(&t);
	dx_inventory_release(&inv);
}

Test(hops, the_command_lines_user_and_port_stay_off_the_hops)
{
	struct dx_inventory inv;
	struct dx_target t;
	struct dx_err err;

	cr_assert_eq(resolve(&inv, &t, "web", "admin", 2022, &err), 0, "%s", err.msg);
	cr_expect_str_eq(t.user, "admin");
	cr_expect_eq(t.port, 2022);
	cr_assert_eq(t.nhops, 2);
	expect_hop(&t.hops[0], "bastion", "203.0.113.7", 2201, "jump");
	/* inner sets no user: the inventory default, not -l. */
	expect_hop(&t.hops[1], "inner", "10.1.0.1", 22, "deploy");
	dx_target_release(&t);
	dx_inventory_release(&inv);
}

Test(hops, a_chain_back_to_the_drone_and_a_bad_port_are_refused)
{
	struct dx_inventory inv;
	struct dx_target t;
	struct dx_err err;

	cr_assert_eq(resolve(&inv, &t, "loop", NULL, 0, &err), -1);
	cr_expect_eq(err.kind, DX_USAGE);
	cr_expect_str_eq(err.msg, "drone 'loop': jump chain loops through 'loop'");
	cr_expect_eq(t.nhops, 0);
	dx_target_release(&t);
	dx_inventory_release(&inv);
	cr_assert_eq(resolve(&inv, &t, "bad", NULL, 0, &err), -1);
	cr_expect_eq(err.kind, DX_USAGE);
	cr_expect(strstr(err.msg, "port '99999' is not a number") != NULL, "%s", err.msg);
	dx_target_release(&t);
	dx_inventory_release(&inv);
}

Test(hops, the_key_tells_chains_apart_and_a_copy_keeps_everything)
{
	struct dx_inventory inv;
	struct dx_target web, cache, copy;
	struct dx_err err;
	char *k1, *k2, *k3;

	cr_assert_eq(resolve(&inv, &web, "web", NULL, 0, &err), 0, "%s", err.msg);
	dx_inventory_release(&inv);
	cr_assert_eq(resolve(&inv, &cache, "cache", NULL, 0, &err), 0, "%s", err.msg);
	/* web's chain is cache's without its last hop: the same sessions. */
	k1 = dx_hops_key(web.hops, 2);
	k2 = dx_hops_key(cache.hops, 2);
	k3 = dx_hops_key(cache.hops, 3);
	cr_expect_str_eq(k1, k2);
	cr_expect_str_neq(k2, k3);
	cr_assert_eq(dx_hops_copy_target(&copy, &web.hops[1]), 0);
	cr_expect_str_eq(copy.name, "inner");
	cr_expect_str_eq(copy.identities[0], "/k/inner");
	cr_expect_str_eq(copy.known_hosts[0], "/etc/kh");
	cr_expect_eq(copy.nglobal_known_hosts, web.hops[1].nglobal_known_hosts);
	cr_expect_null(copy.hops);
	free(k1);
	free(k2);
	free(k3);
	dx_target_release(&copy);
	dx_target_release(&web);
	dx_target_release(&cache);
	dx_inventory_release(&inv);
}
