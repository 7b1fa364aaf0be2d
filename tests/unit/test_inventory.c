/*
 * test_inventory.c - the inventory: defaults, "~", host checks, and every
 * error path with the field, the drone and the right line and column.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "inventory.h"

static void
inv_setup(void)
{
	setenv("HOME", "/home/op", 1);
}

TestSuite(inventory, .init = inv_setup);

static int
parse(struct dx_inventory *inv, const char *text, struct dx_err *err)
{
	return dx_inventory_parse(inv, text, strlen(text), "inv.json", err);
}

struct inv_bad {
	const char	*text;
	const char	*msg;
};

static const struct inv_bad bad_cases[] = {
	/* Whole-file errors. */
	{ "", "inv.json:1:1: empty file: expected a JSON object with 'drones'" },
	{ " \n\t ", "inv.json:1:1: empty file: expected a JSON object with 'drones'" },
	{ "[]", "inv.json:1:1: expected a JSON object with 'drones'" },
	{ "\n  [1]", "inv.json:2:3: expected a JSON object with 'drones'" },
	{ "{}", "inv.json:1:1: field 'drones': missing" },
	{ "{\"drones\": {}}", "inv.json:1:12: field 'drones': expected an array" },
	{ "{\"drones\": [],\n \"drone\": []}",
	  "inv.json:2:2: field 'drone': unknown field" },
	/* Syntax errors come from jansson, with its positions. */
	{ "{\"drones\": [}", "inv.json:1:13: unexpected token near '}'" },
	{ "{\n  \"drones\": [\n    {\"name\": x}]}",
	  "inv.json:3:14: invalid token near 'x'" },
	{ "{\"drones\": [], \"drones\": []}",
	  "inv.json:1:23: duplicate object key near '\"drones\"'" },
	{ "{\"drones\": [{\"name\": \"a\", \"port\": 22, \"port\": 23}]}",
	  "inv.json:1:44: duplicate object key near '\"port\"'" },
	{ "{\"drones\": []} x", "inv.json:1:16: end of file expected near 'x'" },
	/* vars: any object, and only an object. */
	{ "{\"drones\": [{\"name\": \"a\",\n \"vars\": [1]}]}",
	  "inv.json:2:10: drone 'a': field 'vars': expected an object" },
	{ "{\"defaults\": {\"vars\": \"x\"}, \"drones\": []}",
	  "inv.json:1:23: defaults: field 'vars': expected an object" },
	/* jansson's wording made plain. */
	{ "{\"drones\": [{\"name\": \"a\\u0000b\"}]}",
	  "inv.json:1:31: a string holds a NUL character (\\u0000)" },
	{ "{\"drones\": [{\"name\": \"\xff\"}]}",
	  "inv.json:1:22: not valid UTF-8 (byte 0xff): save the file as UTF-8" },
	/* Defaults. */
	{ "{\"defaults\": [], \"drones\": []}",
	  "inv.json:1:14: field 'defaults': expected an object" },
	{ "{\"defaults\": {\"port\": \"22\"}, \"drones\": []}",
	  "inv.json:1:23: defaults: field 'port': expected an integer 1-65535" },
	{ "{\"defaults\": {\"labels\": []}, \"drones\": []}",
	  "inv.json:1:15: defaults: field 'labels': unknown field" },
	{ "{\"defaults\": {\"user\": \"a;b\"}, \"drones\": []}",
	  "inv.json:1:23: defaults: field 'user': user 'a;b' must not hold ';'" },
	{ "{\"defaults\": {\"connect_timeout\": 0}, \"drones\": []}",
	  "inv.json:1:34: defaults: field 'connect_timeout': expected a number "
	  "of seconds > 0 and at most 2147483" },
	/* Drones: shape and names. */
	{ "{\"drones\": [1]}", "inv.json:1:13: drones[0]: expected an object" },
	{ "{\"drones\": [{\"name\": \"a\"},\n {\"host\": \"h\"}]}",
	  "inv.json:2:2: drones[1]: field 'name': missing" },
	{ "{\"drones\": [{\"name\": 7}]}",
	  "inv.json:1:22: drones[0]: field 'name': expected a string" },
	{ "{\"drones\": [{\"name\": \"\"}]}",
	  "inv.json:1:22: drones[0]: field 'name': '' must not be empty" },
	{ "{\"drones\": [{\"name\": \"a b\"}]}",
	  "inv.json:1:22: drones[0]: field 'name': 'a b' must not hold whitespace" },
	{ "{\"drones\": [{\"name\": \"a,b\"}]}",
	  "inv.json:1:22: drones[0]: field 'name': 'a,b' must not hold ',', '[' or ']'" },
	{ "{\"drones\": [{\"name\": \"a[1]\"}]}",
	  "inv.json:1:22: drones[0]: field 'name': 'a[1]' must not hold ',', '[' or ']'" },
	{ "{\"drones\": [{\"name\": \"a*\"}]}",
	  "inv.json:1:22: drones[0]: field 'name': 'a*' must not hold '*' or '?'" },
	{ "{\"drones\": [{\"name\": \"a\\tb\"}]}",
	  "inv.json:1:22: drones[0]: field 'name': 'a\tb' must not hold whitespace" },
	{ "{\"drones\": [{\"name\": \"a\\u0001\"}]}",
	  "inv.json:1:22: drones[0]: field 'name': 'a\001' must not hold control characters" },
	{ "{\"drones\": [\n  {\"name\": \"a\"},\n  {\"name\": \"b\"},\n  {\"name\": \"a\"}]}",
	  "inv.json:4:12: drone 'a': field 'name': duplicate name, first given at line 2 column 12" },
	/* Unknown fields name the field and the drone, at the key. */
	{ "{\n \"drones\": [\n  {\"name\": \"a\"},\n  {\"name\": \"b\", \"colour\": 1}]}",
	  "inv.json:4:17: drone 'b': field 'colour': unknown field" },
	{ "{\"drones\": [{\"colour\": 1, \"name\": \"b\"}]}",
	  "inv.json:1:14: drone 'b': field 'colour': unknown field" },
	{ "{\"drones\": [{\"na\\u006de\": \"b\", \"Port\": 1}]}",
	  "inv.json:1:32: drone 'b': field 'Port': unknown field" },
	{ "{\"drones\": [{\"name\": \"\xc3\xa9t\xc3\xa9\", \"x\": 1}]}",
	  "inv.json:1:29: drone '\xc3\xa9t\xc3\xa9': field 'x': unknown field" },
	/* Types and ranges. */
	{ "{\"drones\": [{\"name\": \"a\", \"port\": 0}]}",
	  "inv.json:1:35: drone 'a': field 'port': expected an integer 1-65535" },
	{ "{\"drones\": [{\"name\": \"a\", \"port\": 65536}]}",
	  "inv.json:1:35: drone 'a': field 'port': expected an integer 1-65535" },
	{ "{\"drones\": [{\"name\": \"a\", \"port\": 22.0}]}",
	  "inv.json:1:35: drone 'a': field 'port': expected an integer 1-65535" },
	{ "{\"drones\": [{\"name\": \"a\", \"port\": \"22\"}]}",
	  "inv.json:1:35: drone 'a': field 'port': expected an integer 1-65535" },
	{ "{\"drones\": [{\"name\": \"a\", \"host\": 1}]}",
	  "inv.json:1:35: drone 'a': field 'host': expected a string" },
	{ "{\"drones\": [{\"name\": \"a\", \"host\": \"\"}]}",
	  "inv.json:1:35: drone 'a': field 'host': must not be empty" },
	{ "{\"drones\": [{\"name\": \"a\", \"user\": null}]}",
	  "inv.json:1:35: drone 'a': field 'user': expected a string" },
	{ "{\"drones\": [{\"name\": \"a\", \"identity\": []}]}",
	  "inv.json:1:39: drone 'a': field 'identity': expected a string" },
	{ "{\"drones\": [{\"name\": \"a\", \"known_hosts\": 0}]}",
	  "inv.json:1:42: drone 'a': field 'known_hosts': expected a string" },
	{ "{\"drones\": [{\"name\": \"a\", \"labels\": \"web\"}]}",
	  "inv.json:1:37: drone 'a': field 'labels': expected an array of strings" },
	{ "{\"drones\": [{\"name\": \"a\", \"labels\": [\"web\",\n 3]}]}",
	  "inv.json:2:2: drone 'a': field 'labels': item 1: expected a string" },
	{ "{\"drones\": [{\"name\": \"a\", \"calls\": [\"\"]}]}",
	  "inv.json:1:37: drone 'a': field 'calls': item 0: must not be empty" },
	{ "{\"drones\": [{\"name\": \"a\", \"calls\": {}}]}",
	  "inv.json:1:36: drone 'a': field 'calls': expected an array of strings" },
	{ "{\"drones\": [{\"name\": \"a\", \"priority\": 1.5}]}",
	  "inv.json:1:39: drone 'a': field 'priority': expected an integer -2147483648 to 2147483647" },
	{ "{\"drones\": [{\"name\": \"a\", \"priority\": 2147483648}]}",
	  "inv.json:1:39: drone 'a': field 'priority': expected an integer -2147483648 to 2147483647" },
	{ "{\"drones\": [{\"name\": \"a\", \"connect_timeout\": -1}]}",
	  "inv.json:1:46: drone 'a': field 'connect_timeout': expected a number of seconds > 0 and at most 2147483" },
	{ "{\"drones\": [{\"name\": \"a\", \"connect_timeout\": \"5\"}]}",
	  "inv.json:1:46: drone 'a': field 'connect_timeout': expected a number of seconds" },
	/* Hosts and users as OpenSSH checks them. */
	{ "{\"drones\": [{\"name\": \"a\", \"host\": \"-oProxyCommand=x\"}]}",
	  "inv.json:1:35: drone 'a': field 'host': host '-oProxyCommand=x' must not start with '-'" },
	{ "{\"drones\": [{\"name\": \"a\", \"host\": \"a b\"}]}",
	  "inv.json:1:35: drone 'a': field 'host': host 'a b' must not hold whitespace" },
	{ "{\"drones\": [{\"name\": \"a\", \"host\": \"a;b\"}]}",
	  "inv.json:1:35: drone 'a': field 'host': host 'a;b' must not hold ';'" },
	{ "{\"drones\": [{\"name\": \"a\", \"host\": \"$(id)\"}]}",
	  "inv.json:1:35: drone 'a': field 'host': host '$(id)' must not hold '$'" },
	{ "{\"drones\": [{\"name\": \"a\", \"host\": \"root@h\"}]}",
	  "inv.json:1:35: drone 'a': field 'host': host 'root@h' must not hold '@': put the user in 'user'" },
	{ "{\"drones\": [{\"name\": \"a\", \"host\": \"[::1]\"}]}",
	  "inv.json:1:35: drone 'a': field 'host': host '[::1]' must not hold brackets: write IPv6 addresses bare" },
	{ "{\"drones\": [{\"name\": \"-a\"}]}",
	  "inv.json:1:22: drone '-a': field 'name': host '-a' must not start with '-' (the host defaults to the name)" },
	{ "{\"drones\": [{\"name\": \"a\", \"user\": \"-l\"}]}",
	  "inv.json:1:35: drone 'a': field 'user': user '-l' must not start with '-'" },
	{ "{\"drones\": [{\"name\": \"a\", \"user\": \"a`b\"}]}",
	  "inv.json:1:35: drone 'a': field 'user': user 'a`b' must not hold '`'" },
	/* Jumps. */
	{ "{\"drones\": [{\"name\": \"a\", \"jump\": \"a\"}]}",
	  "inv.json:1:35: drone 'a': field 'jump': a drone cannot jump through itself" },
	{ "{\"drones\": [{\"name\": \"a\", \"jump\": \"b\"},\n {\"name\": \"b\", \"jump\": \"a\"}]}",
	  "inv.json:1:35: drone 'a': field 'jump': jump chain through 'b' loops" },
	{ "{\"defaults\": {\"jump\": \"a\"},\n \"drones\": [{\"name\": \"c\"}, {\"name\": \"a\", \"jump\": \"b\"},\n {\"name\": \"b\"}]}",
	  "inv.json:1:23: drone 'c': field 'jump': jump chain through 'a' loops" },
	{ "{\"drones\": [{\"name\": \"a\", \"jump\": \"x y\"}]}",
	  "inv.json:1:35: drone 'a': field 'jump': jump 'x y' must not hold whitespace" },
};

Test(inventory, reports_every_error_with_file_line_column_and_field)
{
	struct dx_inventory inv;
	struct dx_err err;
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		cr_expect_eq(parse(&inv, bad_cases[i].text, &err), -1,
		    "case %zu parsed: %s", i, bad_cases[i].text);
		cr_expect_eq(err.kind, DX_INVENTORY, "case %zu", i);
		cr_expect_str_eq(err.msg, bad_cases[i].msg, "case %zu", i);
		/* A failed parse leaves nothing behind. */
		cr_expect_eq(inv.n, 0);
		cr_expect_null(inv.drones);
		dx_inventory_release(&inv);
	}
}

/*
 * The inventory keeps what the file says and applies no defaults: a drone
 * holds its own fields, "defaults" is kept beside the drones, and each
 * field given records its line and column.  (The effective values these
 * make are target resolution's: tests/unit/test_target.c.)
 */
Test(inventory, keeps_each_drones_own_fields_and_the_defaults_apart)
{
	static const char text[] =
	    "{ \"defaults\": { \"user\": \"deploy\", \"port\": 2200,\n"
	    "    \"identity\": \"~/.ssh/id_ed25519\",\n"
	    "    \"known_hosts\": \"/etc/kh\", \"connect_timeout\": 2.5,\n"
	    "    \"jump\": \"bastion\" },\n"
	    "  \"drones\": [\n"
	    "    { \"name\": \"web-01\", \"labels\": [\"web\", \"prod\"] },\n"
	    "    { \"name\": \"db-01\", \"host\": \"db1.example.net\",\n"
	    "      \"port\": 22, \"user\": \"dba\", \"identity\": \"/k\",\n"
	    "      \"known_hosts\": \"~\", \"connect_timeout\": 1,\n"
	    "      \"priority\": -3, \"jump\": \"root@gw:2222\",\n"
	    "      \"calls\": [\"uptime\", \"echo a; echo b\"] },\n"
	    "    { \"name\": \"bastion\", \"host\": \"203.0.113.7\" } ] }";
	struct dx_inventory inv;
	struct dx_err err = { 0 };
	const struct dx_drone *d;

	cr_assert_eq(parse(&inv, text, &err), 0, "%s", err.msg);
	cr_assert_eq(inv.n, 3);
	cr_expect_str_eq(inv.path, "inv.json");

	d = &inv.defaults;
	cr_expect_null(d->name);
	cr_expect_str_eq(d->user, "deploy");
	cr_expect_eq(d->port, 2200);
	cr_expect_str_eq(d->identity, "/home/op/.ssh/id_ed25519");
	cr_expect_str_eq(d->known_hosts, "/etc/kh");
	cr_expect_eq(d->connect_timeout_ms, 2500);
	cr_expect_str_eq(d->jump, "bastion");
	cr_expect_eq(d->pos[DX_INV_PORT].line, 1);
	cr_expect_eq(d->pos[DX_INV_PORT].col, 43);
	cr_expect_eq(d->pos[DX_INV_JUMP].line, 4);
	cr_expect_eq(d->pos[DX_INV_JUMP].col, 13);
	cr_expect_eq(d->pos[DX_INV_HOST].line, 0, "not given");

	d = &inv.drones[0];
	cr_expect_str_eq(d->name, "web-01");
	cr_expect_null(d->host, "the host is the name, but not the drone's field");
	cr_expect_null(d->user);
	cr_expect_eq(d->port, 0);
	cr_expect_null(d->identity);
	cr_expect_null(d->known_hosts);
	cr_expect_eq(d->connect_timeout_ms, 0);
	cr_expect_null(d->jump);
	for (int f = 0; f < DX_INV_NFIELDS; f++)
		cr_expect_eq(d->pos[f].line, 0, "field %d", f);
	cr_expect_eq(d->priority, 0);
	cr_expect_eq(d->nlabels, 2);
	cr_expect_str_eq(d->labels[1], "prod");
	cr_expect_eq(d->ncalls, 0);
	cr_expect_eq(d->index, 0);

	d = &inv.drones[1];
	cr_expect_str_eq(d->host, "db1.example.net");
	cr_expect_str_eq(d->user, "dba");
	cr_expect_eq(d->port, 22);
	cr_expect_str_eq(d->identity, "/k");
	cr_expect_str_eq(d->known_hosts, "/home/op");
	cr_expect_eq(d->connect_timeout_ms, 1000);
	cr_expect_eq(d->priority, -3);
	cr_expect_str_eq(d->jump, "root@gw:2222");
	cr_expect_eq(d->ncalls, 2);
	cr_expect_str_eq(d->calls[1], "echo a; echo b");
	cr_expect_eq(d->index, 1);
	cr_expect_eq(d->pos[DX_INV_HOST].line, 7);
	cr_expect_eq(d->pos[DX_INV_HOST].col, 32);
	cr_expect_eq(d->pos[DX_INV_PORT].line, 8);
	cr_expect_eq(d->pos[DX_INV_PORT].col, 15);
	cr_expect_eq(d->pos[DX_INV_CONNECT_TIMEOUT].line, 9);
	cr_expect_eq(d->pos[DX_INV_CONNECT_TIMEOUT].col, 46);

	d = &inv.drones[2];
	cr_expect_null(d->jump, "defaults.jump stays in the defaults");
	cr_expect_eq(d->index, 2);
	dx_inventory_release(&inv);
}

Test(inventory, a_drone_with_no_fields_sets_none)
{
	struct dx_inventory inv;
	struct dx_err err = { 0 };

	cr_assert_eq(parse(&inv, "{\"drones\": [{\"name\": \"a\"}]}", &err),
	    0, "%s", err.msg);
	cr_expect_null(inv.drones[0].host);
	cr_expect_eq(inv.drones[0].port, 0);
	cr_expect_null(inv.drones[0].user);
	cr_expect_null(inv.drones[0].identity);
	cr_expect_null(inv.drones[0].jump);
	cr_expect_null(inv.drones[0].known_hosts);
	cr_expect_eq(inv.drones[0].connect_timeout_ms, 0);
	cr_expect_eq(inv.drones[0].nlabels, 0);
	cr_expect_null(inv.defaults.user);
	cr_expect_eq(inv.defaults.port, 0);
	dx_inventory_release(&inv);
}

Test(inventory, the_name_hash_is_fnv1a)
{
	/* Published FNV-1a 32-bit vectors: --shard depends on them. */
	cr_expect_eq(dx_name_hash(""), 0x811c9dc5u);
	cr_expect_eq(dx_name_hash("a"), 0xe40c292cu);
	cr_expect_eq(dx_name_hash("foobar"), 0xbf9cf968u);
}

Test(inventory, rounds_fractional_timeouts_up_to_a_millisecond)
{
	struct dx_inventory inv;
	struct dx_err err = { 0 };

	cr_assert_eq(parse(&inv, "{\"drones\": [{\"name\": \"a\", "
	    "\"connect_timeout\": 0.0001}, {\"name\": \"b\", "
	    "\"connect_timeout\": 0.25}]}", &err), 0, "%s", err.msg);
	cr_expect_eq(inv.drones[0].connect_timeout_ms, 1);
	cr_expect_eq(inv.drones[1].connect_timeout_ms, 250);
	dx_inventory_release(&inv);
}

Test(inventory, accepts_an_empty_drone_list)
{
	struct dx_inventory inv;
	struct dx_err err = { 0 };

	cr_assert_eq(parse(&inv, "{\"drones\": []}", &err), 0, "%s", err.msg);
	cr_expect_eq(inv.n, 0);
	dx_inventory_release(&inv);
}

Test(inventory, finds_drones_by_name)
{
	struct dx_inventory inv;
	struct dx_err err = { 0 };
	char text[64 * 1024];
	size_t len, i;
	char name[32];

	len = (size_t)snprintf(text, sizeof(text), "{\"drones\": [");
	for (i = 0; i < 1000; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "%s{\"name\": \"n%zu\"}", i ? "," : "", i);
	snprintf(text + len, sizeof(text) - len, "]}");
	cr_assert_eq(parse(&inv, text, &err), 0, "%s", err.msg);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "n%zu", i);
		cr_assert_not_null(dx_inventory_find(&inv, name));
		cr_expect_eq(dx_inventory_find(&inv, name)->index, i);
	}
	cr_expect_null(dx_inventory_find(&inv, "n1000"));
	cr_expect_null(dx_inventory_find(&inv, ""));
	dx_inventory_release(&inv);
}

Test(inventory, expands_tilde_from_home)
{
	struct dx_err err = { 0 };
	char *s;

	s = dx_expand_tilde("~/.ssh/id", &err);
	cr_expect_str_eq(s, "/home/op/.ssh/id");
	free(s);
	s = dx_expand_tilde("~", &err);
	cr_expect_str_eq(s, "/home/op");
	free(s);
	s = dx_expand_tilde("/abs/~/x", &err);
	cr_expect_str_eq(s, "/abs/~/x");
	free(s);
	s = dx_expand_tilde("~bob/x", &err);
	cr_expect_str_eq(s, "~bob/x", "~user is not expanded");
	free(s);
	setenv("HOME", "/", 1);
	s = dx_expand_tilde("~/x", &err);
	cr_expect_str_eq(s, "/x");
	free(s);
}

struct host_case {
	const char	*value;
	bool		 ok;
};

static const struct host_case host_cases[] = {
	{ "10.0.0.1", true },
	{ "db1.example.net", true },
	{ "::1", true },
	{ "fe80::1%eth0", true },
	{ "web-01", true },
	{ "h\xc3\xa9te", true },
	{ "", false },
	{ "-oProxyCommand=x", false },
	{ "-", false },
	{ "a b", false },
	{ "a\tb", false },
	{ "a\nb", false },
	{ "a\x7f", false },
	{ "a;b", false },
	{ "a&b", false },
	{ "a|b", false },
	{ "a`b", false },
	{ "a$b", false },
	{ "a'b", false },
	{ "a\"b", false },
	{ "a\\b", false },
	{ "a<b", false },
	{ "a>b", false },
	{ "a(b", false },
	{ "a)b", false },
	{ "a{b", false },
	{ "a}b", false },
};

Test(inventory, checks_hostnames_as_openssh_does)
{
	struct dx_err err;
	size_t i;

	for (i = 0; i < sizeof(host_cases) / sizeof(host_cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		cr_expect_eq(dx_check_hostname(host_cases[i].value, "host",
		    &err), host_cases[i].ok ? 0 : -1, "'%s'",
		    host_cases[i].value);
		if (!host_cases[i].ok) {
			cr_expect_eq(err.kind, DX_USAGE);
			cr_expect(strncmp(err.msg, "host ", 5) == 0, "%s",
			    err.msg);
		}
	}
}

Test(inventory, accepts_ipv6_hosts_in_the_inventory)
{
	struct dx_inventory inv;
	struct dx_err err = { 0 };

	cr_assert_eq(parse(&inv, "{\"drones\": [{\"name\": \"a\", \"host\": "
	    "\"::1\"}, {\"name\": \"b\", \"host\": \"fe80::1%eth0\"}]}", &err),
	    0, "%s", err.msg);
	cr_expect_str_eq(inv.drones[0].host, "::1");
	dx_inventory_release(&inv);
}

static char *
write_tmp(const char *text, size_t len)
{
	char *path = strdup("/tmp/dx_inv_XXXXXX");
	int fd = mkstemp(path);

	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

Test(inventory, loads_a_file_and_keeps_its_path)
{
	static const char text[] = "{\"drones\": [{\"name\": \"a\"}]}";
	struct dx_inventory inv;
	struct dx_err err = { 0 };
	char *path = write_tmp(text, strlen(text));

	cr_assert_eq(dx_inventory_load(&inv, path, &err), 0, "%s", err.msg);
	cr_expect_str_eq(inv.path, path);
	cr_expect_eq(inv.n, 1);
	dx_inventory_release(&inv);
	unlink(path);
	free(path);
}

Test(inventory, names_the_file_in_load_errors)
{
	static const char text[] = "{\"drones\": [\n{\"name\": \"a\", \"x\": 1}]}";
	struct dx_inventory inv;
	struct dx_err err = { 0 };
	char *path = write_tmp(text, strlen(text));
	char want[256];

	cr_expect_eq(dx_inventory_load(&inv, path, &err), -1);
	snprintf(want, sizeof(want),
	    "%s:2:15: drone 'a': field 'x': unknown field", path);
	cr_expect_str_eq(err.msg, want);
	unlink(path);
	free(path);

	cr_expect_eq(dx_inventory_load(&inv, "/nonexistent/drones.json", &err),
	    -1);
	cr_expect_eq(err.kind, DX_INVENTORY);
	snprintf(want, sizeof(want), "/nonexistent/drones.json: cannot open: %s",
	    strerror(ENOENT));
	cr_expect_str_eq(err.msg, want);

	cr_expect_eq(dx_inventory_load(&inv, "/", &err), -1);
	snprintf(want, sizeof(want), "/: cannot read: %s", strerror(EISDIR));
	cr_expect_str_eq(err.msg, want);
}

Test(inventory, refuses_a_file_over_64_mib)
{
	struct dx_inventory inv;
	struct dx_err err = { 0 };
	size_t len = ((size_t)64 << 20) + 1;
	char *text = malloc(len), *path;

	cr_assert_not_null(text);
	memset(text, ' ', len);
	text[0] = '{';
	memcpy(text + len - 14, "\"drones\": []}", 13);
	cr_expect_eq(dx_inventory_parse(&inv, text, len, "big.json", &err), -1);
	cr_expect_str_eq(err.msg, "big.json: larger than 64 MiB");
	path = write_tmp(text, len);
	cr_expect_eq(dx_inventory_load(&inv, path, &err), -1);
	cr_expect(strstr(err.msg, ": larger than 64 MiB") != NULL, "%s",
	    err.msg);
	unlink(path);
	free(path);
	free(text);
}

Test(inventory, reads_stdin_for_dash)
{
	static const char text[] = "{\"drones\": [{\"name\": \"s\"}]}";
	struct dx_inventory inv;
	struct dx_err err = { 0 };
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fds[1]);
	cr_assert_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	cr_assert_eq(dx_inventory_load(&inv, "-", &err), 0, "%s", err.msg);
	cr_expect_str_eq(inv.path, "-");
	cr_expect_str_eq(inv.drones[0].name, "s");
	dx_inventory_release(&inv);
}

Test(inventory, says_stdin_in_messages_for_dash)
{
	static const char text[] = "{\"drones\": 1}";
	struct dx_inventory inv;
	struct dx_err err = { 0 };
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fds[1]);
	cr_assert_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	cr_expect_eq(dx_inventory_load(&inv, "-", &err), -1);
	cr_expect_str_eq(err.msg,
	    "<stdin>:1:12: field 'drones': expected an array");
}

Test(inventory, loads_the_example_inventory)
{
	struct dx_inventory inv;
	struct dx_err err = { 0 };
	const char *dir = getenv("DRONEX_SRCDIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/drones.example.json", dir ? dir : ".");
	if (access(path, R_OK) != 0)
		cr_skip_test("no %s", path);
	cr_assert_eq(dx_inventory_load(&inv, path, &err), 0, "%s", err.msg);
	cr_expect_not_null(dx_inventory_find(&inv, "db-01"));
	dx_inventory_release(&inv);
}

Test(inventory, keeps_vars_with_the_drones_own_keys_over_the_defaults)
{
	static const char text[] =
	    "{\"defaults\": {\"vars\": {\"rack\": \"r1\", \"tier\": \"web\"}},"
	    " \"drones\": [{\"name\": \"a\", \"vars\": {\"rack\": \"r9\","
	    " \"deep\": {\"x\": [1, null]}}}, {\"name\": \"b\"}]}";
	static const char none[] = "{\"drones\": [{\"name\": \"c\"}]}";
	struct dx_inventory inv;
	struct dx_err err = { 0 };
	char *a, *b;

	cr_assert_eq(parse(&inv, text, &err), 0, "%s", err.msg);
	cr_assert_not_null(inv.drones[0].vars);
	a = json_dumps(inv.drones[0].vars, JSON_COMPACT | JSON_SORT_KEYS);
	b = json_dumps(inv.drones[1].vars, JSON_COMPACT | JSON_SORT_KEYS);
	cr_expect_str_eq(a, "{\"deep\":{\"x\":[1,null]},\"rack\":\"r9\",\"tier\":\"web\"}");
	cr_expect_str_eq(b, "{\"rack\":\"r1\",\"tier\":\"web\"}");
	free(a);
	free(b);
	dx_inventory_release(&inv);
	cr_assert_eq(parse(&inv, none, &err), 0, "%s", err.msg);
	cr_expect_null(inv.drones[0].vars);
	dx_inventory_release(&inv);
}

Test(inventory, skips_a_byte_order_mark_at_the_start)
{
	static const char text[] = "\xef\xbb\xbf{\"drones\": [{\"name\": \"a\"}]}";
	static const char bad[] = "\xef\xbb\xbf{\"drones\": [{\"name\": 1}]}";
	struct dx_inventory inv;
	struct dx_err err = { 0 };

	cr_expect_eq(parse(&inv, text, &err), 0, "%s", err.msg);
	dx_inventory_release(&inv);
	/* Positions count from after the mark, as editors show them. */
	cr_expect_eq(parse(&inv, bad, &err), -1);
	cr_expect_str_eq(err.msg, "inv.json:1:22: drones[0]: field 'name': expected a string");
}

Test(inventory, names_a_nul_byte_with_its_position)
{
	static const char text[] = "{\"drones\": [\n  {\"name\": \"a\0b\"}]}";
	struct dx_inventory inv;
	struct dx_err err = { 0 };

	cr_expect_eq(dx_inventory_parse(&inv, text, sizeof(text) - 1, "inv.json",
	    &err), -1);
	cr_expect_eq(err.kind, DX_INVENTORY);
	cr_expect_str_eq(err.msg, "inv.json:2:14: the file holds a NUL byte: it is not JSON text");
}
