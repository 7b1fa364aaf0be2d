/*
 * test_target.c - target resolution (target.h): each setting from each
 * source (built-in default, the inventory's "defaults", the drone, the
 * command line), the precedence between them, and the origin each value
 * remembers ("FILE:LINE:COL", the option's name, or nothing).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "inventory.h"
#include "target.h"

static void
setup(void)
{
	setenv("HOME", "/home/op", 1);
}

TestSuite(target, .init = setup);

/*
 * The inventory every case resolves against.  Line 1 holds the defaults;
 * each drone is on its own line, so that positions are easy to read:
 *   "full" sets every field, "bare" sets none, "bastion" is the one
 *   defaults.jump names.
 */
static const char inv_text[] =
    "{\"defaults\": {\"user\": \"deploy\", \"port\": 2200, \"identity\": \"~/.ssh/id_d\", \"known_hosts\": \"/etc/kh\", \"connect_timeout\": 2.5, \"jump\": \"bastion\"},\n"
    " \"drones\": [\n"
    "  {\"name\": \"full\", \"host\": \"10.0.0.1\", \"port\": 2222, \"user\": \"dba\", \"identity\": \"/k\", \"known_hosts\": \"~/kh\", \"connect_timeout\": 1, \"jump\": \"root@gw:22\"},\n"
    "  {\"name\": \"bare\"},\n"
    "  {\"name\": \"bastion\", \"host\": \"203.0.113.7\"}\n"
    " ]}\n";

/* The same drones with no "defaults": only the built-in defaults below them. */
static const char plain_text[] =
    "{\"drones\": [{\"name\": \"bare\"}, {\"name\": \"full\", \"port\": 2222}]}";

/* Command-line settings of a case; 0 / NULL / -1: not given. */
struct cli_case {
	const char	*user;
	int		 port;
	const char	*identity;
	int64_t		 connect_ms;
	int		 hostkey;	/* -1: not given */
	int		 keepalive;	/* -1: not given */
};

#define NO_CLI { NULL, 0, NULL, 0, -1, -1 }

struct target_case {
	const char	*text;		/* inv_text or plain_text */
	const char	*drone;
	struct cli_case	 cli;
	enum dx_setting	 setting;
	const char	*value;		/* as tc_value() prints it */
	enum dx_source	 src;
	const char	*where;
};

static const struct target_case cases[] = {
	/* Built-in defaults: no "defaults", a drone that sets nothing. */
	{ plain_text, "bare", NO_CLI, DX_SET_HOST, "bare", DX_SRC_DEFAULT, "" },
	{ plain_text, "bare", NO_CLI, DX_SET_PORT, "22", DX_SRC_DEFAULT, "" },
	{ plain_text, "bare", NO_CLI, DX_SET_IDENTITY, "", DX_SRC_DEFAULT, "" },
	{ plain_text, "bare", NO_CLI, DX_SET_KNOWN_HOSTS,
	  "/home/op/.ssh/known_hosts,/home/op/.ssh/known_hosts2", DX_SRC_DEFAULT, "" },
	{ plain_text, "bare", NO_CLI, DX_SET_GLOBAL_KNOWN_HOSTS,
	  "/etc/ssh/ssh_known_hosts,/etc/ssh/ssh_known_hosts2", DX_SRC_DEFAULT, "" },
	{ plain_text, "bare", NO_CLI, DX_SET_HOST_KEY_CHECK, "strict", DX_SRC_DEFAULT, "" },
	{ plain_text, "bare", NO_CLI, DX_SET_CONNECT_TIMEOUT, "10000", DX_SRC_DEFAULT, "" },
	{ plain_text, "bare", NO_CLI, DX_SET_KEEPALIVE, "15", DX_SRC_DEFAULT, "" },
	{ plain_text, "bare", NO_CLI, DX_SET_JUMP, "(null)", DX_SRC_DEFAULT, "" },
	/* The inventory's "defaults" over the built-in ones. */
	{ inv_text, "bare", NO_CLI, DX_SET_HOST, "bare", DX_SRC_DEFAULT, "" },
	{ inv_text, "bare", NO_CLI, DX_SET_USER, "deploy", DX_SRC_INV_DEFAULTS, "inv.json:1:23" },
	{ inv_text, "bare", NO_CLI, DX_SET_PORT, "2200", DX_SRC_INV_DEFAULTS, "inv.json:1:41" },
	{ inv_text, "bare", NO_CLI, DX_SET_IDENTITY, "/home/op/.ssh/id_d",
	  DX_SRC_INV_DEFAULTS, "inv.json:1:59" },
	{ inv_text, "bare", NO_CLI, DX_SET_KNOWN_HOSTS, "/etc/kh", DX_SRC_INV_DEFAULTS,
	  "inv.json:1:89" },
	{ inv_text, "bare", NO_CLI, DX_SET_CONNECT_TIMEOUT, "2500", DX_SRC_INV_DEFAULTS,
	  "inv.json:1:119" },
	{ inv_text, "bare", NO_CLI, DX_SET_JUMP, "bastion", DX_SRC_INV_DEFAULTS,
	  "inv.json:1:132" },
	/* defaults.jump does not make the bastion jump through itself. */
	{ inv_text, "bastion", NO_CLI, DX_SET_JUMP, "(null)", DX_SRC_DEFAULT, "" },
	{ inv_text, "bastion", NO_CLI, DX_SET_HOST, "203.0.113.7", DX_SRC_DRONE,
	  "inv.json:5:31" },
	/* The drone's own fields over "defaults". */
	{ inv_text, "full", NO_CLI, DX_SET_HOST, "10.0.0.1", DX_SRC_DRONE, "inv.json:3:28" },
	{ inv_text, "full", NO_CLI, DX_SET_PORT, "2222", DX_SRC_DRONE, "inv.json:3:48" },
	{ inv_text, "full", NO_CLI, DX_SET_USER, "dba", DX_SRC_DRONE, "inv.json:3:62" },
	{ inv_text, "full", NO_CLI, DX_SET_IDENTITY, "/k", DX_SRC_DRONE, "inv.json:3:81" },
	{ inv_text, "full", NO_CLI, DX_SET_KNOWN_HOSTS, "/home/op/kh", DX_SRC_DRONE,
	  "inv.json:3:102" },
	{ inv_text, "full", NO_CLI, DX_SET_CONNECT_TIMEOUT, "1000", DX_SRC_DRONE,
	  "inv.json:3:129" },
	{ inv_text, "full", NO_CLI, DX_SET_JUMP, "root@gw:22", DX_SRC_DRONE, "inv.json:3:140" },
	{ plain_text, "full", NO_CLI, DX_SET_PORT, "2222", DX_SRC_DRONE, "inv.json:1:56" },
	/* The command line over everything. */
	{ inv_text, "full", { "root", 0, NULL, 0, -1, -1 }, DX_SET_USER, "root",
	  DX_SRC_CLI, "-l" },
	{ inv_text, "full", { NULL, 2022, NULL, 0, -1, -1 }, DX_SET_PORT, "2022",
	  DX_SRC_CLI, "--port" },
	{ inv_text, "full", { NULL, 0, "/cli/k", 0, -1, -1 }, DX_SET_IDENTITY, "/cli/k",
	  DX_SRC_CLI, "--identity" },
	{ inv_text, "full", { NULL, 0, NULL, 3000, -1, -1 }, DX_SET_CONNECT_TIMEOUT,
	  "3000", DX_SRC_CLI, "--connect-timeout" },
	{ inv_text, "bare", { NULL, 0, NULL, 0, DX_HKC_ACCEPT_NEW, -1 },
	  DX_SET_HOST_KEY_CHECK, "accept-new", DX_SRC_CLI, "--host-key-check" },
	{ inv_text, "bare", { NULL, 0, NULL, 0, -1, 0 }, DX_SET_KEEPALIVE, "0",
	  DX_SRC_CLI, "--keepalive" },
	/* An option given for one setting leaves the others alone. */
	{ inv_text, "full", { "root", 0, NULL, 0, -1, -1 }, DX_SET_PORT, "2222",
	  DX_SRC_DRONE, "inv.json:3:48" },
	{ plain_text, "bare", { NULL, 2022, NULL, 0, -1, -1 }, DX_SET_PORT, "2022",
	  DX_SRC_CLI, "--port" },
};

static void
tc_join(char *buf, size_t size, char *const *v, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "",
		    v[i]);
}

/* The value of setting s of t as a string, for the table. */
static void
tc_value(char *buf, size_t size, const struct dx_target *t, enum dx_setting s)
{
	switch (s) {
	case DX_SET_HOST: snprintf(buf, size, "%s", t->host); break;
	case DX_SET_PORT: snprintf(buf, size, "%d", t->port); break;
	case DX_SET_USER: snprintf(buf, size, "%s", t->user); break;
	case DX_SET_IDENTITY: tc_join(buf, size, t->identities, t->nidentities); break;
	case DX_SET_KNOWN_HOSTS: tc_join(buf, size, t->known_hosts, t->nknown_hosts); break;
	case DX_SET_GLOBAL_KNOWN_HOSTS:
		tc_join(buf, size, t->global_known_hosts, t->nglobal_known_hosts);
		break;
	case DX_SET_HOST_KEY_CHECK:
		snprintf(buf, size, "%s", dx_hostkey_policy_name(t->hostkey_policy));
		break;
	case DX_SET_CONNECT_TIMEOUT:
		snprintf(buf, size, "%" PRId64, t->connect_timeout_ms);
		break;
	case DX_SET_KEEPALIVE: snprintf(buf, size, "%d", t->keepalive_s); break;
	case DX_SET_JUMP: snprintf(buf, size, "%s", t->jump ? t->jump : "(null)"); break;
	default: snprintf(buf, size, "?"); break;
	}
}

static void
resolve(struct dx_target *t, const char *text, const char *drone,
    const struct cli_case *c)
{
	struct dx_inventory inv;
	struct dx_target_cli cli = { 0 };
	struct dx_err err = { 0 };
	const char *ids[1];

	cr_assert_eq(dx_inventory_parse(&inv, text, strlen(text), "inv.json", &err),
	    0, "%s", err.msg);
	cli.user = c->user;
	cli.port = c->port;
	if (c->identity != NULL) {
		ids[0] = c->identity;
		cli.identities = ids;
		cli.nidentities = 1;
	}
	cli.connect_timeout_ms = c->connect_ms;
	if (c->hostkey >= 0) {
		cli.hostkey_given = true;
		cli.hostkey_policy = (enum dx_hostkey_policy)c->hostkey;
	}
	if (c->keepalive >= 0) {
		cli.keepalive_given = true;
		cli.keepalive_s = c->keepalive;
	}
	cr_assert_not_null(dx_inventory_find(&inv, drone), "no drone %s", drone);
	cr_assert_eq(dx_target_resolve(t, &inv, dx_inventory_find(&inv, drone),
	    NULL, &cli, &err), 0, "%s", err.msg);
	dx_inventory_release(&inv);
}

Test(target, takes_each_setting_from_the_highest_source_that_gives_it)
{
	struct dx_target t;
	char got[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct target_case *c = &cases[i];

		resolve(&t, c->text, c->drone, &c->cli);
		tc_value(got, sizeof(got), &t, c->setting);
		cr_expect_str_eq(got, c->value, "case %zu (%s %s)", i, c->drone,
		    dx_setting_name(c->setting));
		cr_expect_eq(t.from[c->setting].src, c->src, "case %zu (%s %s): source %s",
		    i, c->drone, dx_setting_name(c->setting),
		    dx_source_name(t.from[c->setting].src));
		cr_expect_str_eq(t.from[c->setting].where, c->where, "case %zu (%s %s)",
		    i, c->drone, dx_setting_name(c->setting));
		dx_target_release(&t);
	}
}

Test(target, the_current_user_is_the_built_in_default)
{
	struct dx_target t;
	const struct cli_case none = NO_CLI;

	resolve(&t, plain_text, "bare", &none);
	cr_expect_not_null(t.user);
	cr_expect_neq(t.user[0], '\0');
	cr_expect_eq(t.from[DX_SET_USER].src, DX_SRC_DEFAULT);
	cr_expect_str_eq(t.name, "bare");
	dx_target_release(&t);
	/* Released twice, or zeroed: nothing happens. */
	dx_target_release(&t);
	dx_target_release(NULL);
}

Test(target, command_line_identities_replace_the_inventorys_in_order)
{
	struct dx_inventory inv;
	struct dx_target_cli cli = { 0 };
	struct dx_target t;
	struct dx_err err = { 0 };
	const char *ids[] = { "/a", "/b", "/c" };

	cr_assert_eq(dx_inventory_parse(&inv, inv_text, strlen(inv_text), "inv.json",
	    &err), 0, "%s", err.msg);
	cli.identities = ids;
	cli.nidentities = 3;
	cr_assert_eq(dx_target_resolve(&t, &inv, dx_inventory_find(&inv, "full"),
	    NULL, &cli, &err), 0, "%s", err.msg);
	cr_assert_eq(t.nidentities, 3);
	cr_expect_str_eq(t.identities[0], "/a");
	cr_expect_str_eq(t.identities[2], "/c");
	dx_target_release(&t);
	/* Resolving reads the inventory only: the drone keeps its own. */
	cr_expect_str_eq(dx_inventory_find(&inv, "full")->identity, "/k");
	cr_expect_str_eq(dx_inventory_find(&inv, "full")->user, "dba");
	dx_inventory_release(&inv);
}

Test(target, an_ad_hoc_drone_s_fields_come_from_w)
{
	struct dx_inventory inv;
	struct dx_adhoc a[] = {
		{ "root@h:2200", "h", "root", 2200 }, { "g", "g", NULL, 0 },
	};
	struct dx_target t;
	struct dx_err err = { 0 };

	cr_assert_eq(dx_inventory_adhoc(&inv, a, 2, "-w", &err), 0, "%s", err.msg);
	cr_assert_eq(dx_target_resolve(&t, &inv, &inv.drones[0], NULL, NULL, &err), 0,
	    "%s", err.msg);
	cr_expect_str_eq(t.user, "root");
	cr_expect_eq(t.port, 2200);
	cr_expect_eq(t.from[DX_SET_PORT].src, DX_SRC_DRONE);
	cr_expect_str_eq(t.from[DX_SET_PORT].where, "-w");
	cr_expect_str_eq(t.host, "h");
	dx_target_release(&t);
	cr_assert_eq(dx_target_resolve(&t, &inv, &inv.drones[1], NULL, NULL, &err), 0,
	    "%s", err.msg);
	cr_expect_eq(t.port, 22);
	cr_expect_eq(t.from[DX_SET_PORT].src, DX_SRC_DEFAULT);
	dx_target_release(&t);
	dx_inventory_release(&inv);
}

Test(target, names_every_source_and_setting)
{
	cr_expect_str_eq(dx_source_name(DX_SRC_DEFAULT), "default");
	cr_expect_str_eq(dx_source_name(DX_SRC_SSH_CONFIG), "ssh_config");
	cr_expect_str_eq(dx_source_name(DX_SRC_INV_DEFAULTS), "inventory defaults");
	cr_expect_str_eq(dx_source_name(DX_SRC_DRONE), "drone");
	cr_expect_str_eq(dx_source_name(DX_SRC_CLI), "command line");
	cr_expect_str_eq(dx_setting_name(DX_SET_GLOBAL_KNOWN_HOSTS), "global_known_hosts");
	cr_expect_str_eq(dx_setting_name(DX_SET_JUMP), "jump");
	cr_expect_str_eq(dx_hostkey_policy_name(DX_HKC_OFF), "off");
}
