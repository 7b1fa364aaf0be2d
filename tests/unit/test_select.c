/*
 * test_select.c - selections: -w ranges and globs, -x, labels (all
 * required), and shards that cover the fleet exactly once.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "select.h"
#include "target.h"

static const char fleet[] =
    "{\"drones\": ["
    " {\"name\": \"web-01\", \"labels\": [\"web\", \"prod\"]},"
    " {\"name\": \"web-02\", \"labels\": [\"web\", \"prod\"]},"
    " {\"name\": \"web-03\", \"labels\": [\"web\", \"staging\"]},"
    " {\"name\": \"web-10\", \"labels\": [\"web\"]},"
    " {\"name\": \"db-1\", \"labels\": [\"db\", \"prod\"]},"
    " {\"name\": \"db-2\", \"labels\": [\"db\"]},"
    " {\"name\": \"bastion\"}"
    "]}";

static struct dx_inventory inv;

static void
sel_setup(void)
{
	struct dx_err err = { 0 };

	setenv("HOME", "/home/op", 1);
	cr_assert_eq(dx_inventory_parse(&inv, fleet, strlen(fleet), "f.json",
	    &err), 0, "%s", err.msg);
}

static void
sel_teardown(void)
{
	dx_inventory_release(&inv);
}

TestSuite(select, .init = sel_setup, .fini = sel_teardown);

/* The selected names joined by ' ', or "ERR: message". */
static void
run(const struct dx_selection *sel, char *out, size_t outsz)
{
	struct dx_err err = { 0 };
	size_t *idx, n, i, len = 0;

	out[0] = '\0';
	if (dx_select(&inv, sel, &idx, &n, &err) == -1) {
		cr_expect_eq(err.kind, DX_USAGE);
		cr_expect_null(idx);
		snprintf(out, outsz, "ERR: %s", err.msg);
		return;
	}
	cr_assert_not_null(idx);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%s",
		    i ? " " : "", inv.drones[idx[i]].name);
	free(idx);
}

struct sel_case {
	const char	*drones;
	const char	*exclude;
	const char	*labels[3];
	const char	*want;
};

static const struct sel_case cases[] = {
	{ NULL, NULL, { NULL }, "web-01 web-02 web-03 web-10 db-1 db-2 bastion" },
	{ "web-[01-03]", NULL, { NULL }, "web-01 web-02 web-03" },
	/* Inventory order, whatever the order of the set. */
	{ "bastion,web-[03,01]", NULL, { NULL }, "web-01 web-03 bastion" },
	{ "web-01,web-01", NULL, { NULL }, "web-01" },
	{ "web-*", NULL, { NULL }, "web-01 web-02 web-03 web-10" },
	{ "db-?", NULL, { NULL }, "db-1 db-2" },
	{ "nosuch-*", NULL, { NULL }, "ERR: -w matches no drone" },
	{ "web-[1-3]", NULL, { NULL },
	  "ERR: -w 'web-[1-3]': drone 'web-1' is not in the inventory" },
	{ "web-01,typo", NULL, { NULL },
	  "ERR: -w 'web-01,typo': drone 'typo' is not in the inventory" },
	{ "web-[01-03", NULL, { NULL }, "ERR: -w 'web-[01-03': column 5: unclosed '['" },
	{ NULL, "web-02", { NULL }, "web-01 web-03 web-10 db-1 db-2 bastion" },
	{ NULL, "web-*,bastion", { NULL }, "db-1 db-2" },
	{ "web-*", "web-[02-03]", { NULL }, "web-01 web-10" },
	/* An unknown plain name in -x is a typo too. */
	{ NULL, "web-01,not-there", { NULL },
	  "ERR: -x 'web-01,not-there': drone 'not-there' is not in the inventory" },
	{ NULL, "ghost-*", { NULL },
	  "web-01 web-02 web-03 web-10 db-1 db-2 bastion" },
	{ "web-0[1-2]", "web-*", { NULL }, "ERR: -x removed every drone" },
	{ "@db", NULL, { NULL }, "db-1 db-2" },
	{ "@db,bastion", NULL, { NULL }, "db-1 db-2 bastion" },
	{ "@nosuch", NULL, { NULL }, "ERR: -w '@nosuch': no drone carries the label 'nosuch'" },
	{ NULL, "@prod", { NULL }, "web-03 web-10 db-2 bastion" },
	{ NULL, "@nosuch", { NULL }, "ERR: -x '@nosuch': no drone carries the label 'nosuch'" },
	{ NULL, "a,,b", { NULL }, "ERR: -x 'a,,b': column 3: empty element" },
	{ NULL, NULL, { "prod" }, "web-01 web-02 db-1" },
	{ NULL, NULL, { "web", "prod" }, "web-01 web-02" },
	{ NULL, NULL, { "prod", "web" }, "web-01 web-02" },
	{ NULL, NULL, { "web", "db" }, "ERR: no drone carries every label 'web', 'db'" },
	{ NULL, NULL, { "nosuch" }, "ERR: no drone carries the label 'nosuch'" },
	{ "db-1", NULL, { "web" }, "ERR: no selected drone carries the label 'web'" },
	{ "web-*", "web-01", { "prod" }, "web-02" },
};

Test(select, keeps_named_drones_minus_excluded_with_every_label)
{
	struct dx_selection sel;
	char got[512];
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&sel, 0, sizeof(sel));
		sel.drones = &cases[i].drones;
		sel.ndrones = cases[i].drones != NULL;
		sel.exclude = &cases[i].exclude;
		sel.nexclude = cases[i].exclude != NULL;
		for (k = 0; cases[i].labels[k] != NULL; k++)
			;
		sel.labels = cases[i].labels;
		sel.nlabels = k;
		run(&sel, got, sizeof(got));
		cr_expect_str_eq(got, cases[i].want, "case %zu", i);
	}
}

Test(select, hashes_names_with_fnv1a)
{
	/* Published FNV-1a 32-bit test vectors. */
	cr_expect_eq(dx_shard_of("", UINT_MAX), 0x811c9dc5u % UINT_MAX);
	cr_expect_eq(dx_shard_of("a", UINT_MAX), 0xe40c292cu);
	cr_expect_eq(dx_shard_of("foobar", UINT_MAX), 0xbf9cf968u);
	cr_expect_eq(dx_shard_of("foobar", 7), 0xbf9cf968u % 7);
	cr_expect_eq(dx_shard_of("anything", 1), 0);
	cr_expect_eq(dx_shard_of("anything", 0), 0);
}

Test(select, shards_cover_every_drone_exactly_once)
{
	struct dx_selection sel;
	size_t *idx, n, i, total;
	struct dx_err err = { 0 };
	unsigned nshards, k;
	int seen[16];

	for (nshards = 1; nshards <= 9; nshards++) {
		memset(seen, 0, sizeof(seen));
		total = 0;
		for (k = 1; k <= nshards; k++) {
			memset(&sel, 0, sizeof(sel));
			sel.shard_k = k;
			sel.shard_n = nshards;
			cr_assert_eq(dx_select(&inv, &sel, &idx, &n, &err), 0,
			    "%s", err.msg);
			for (i = 0; i < n; i++) {
				seen[idx[i]]++;
				cr_expect_eq(dx_shard_of(
				    inv.drones[idx[i]].name, nshards), k - 1);
				/* Inventory order within a shard. */
				if (i > 0)
					cr_expect_gt(idx[i], idx[i - 1]);
			}
			total += n;
			free(idx);
		}
		cr_expect_eq(total, inv.n, "N=%u", nshards);
		for (i = 0; i < inv.n; i++)
			cr_expect_eq(seen[i], 1, "N=%u drone %zu", nshards, i);
	}
}

Test(select, shard_of_a_drone_does_not_depend_on_the_rest_of_the_fleet)
{
	static const char other[] =
	    "{\"drones\": [{\"name\": \"zzz\"}, {\"name\": \"db-2\"},"
	    " {\"name\": \"web-10\"}]}";
	struct dx_inventory inv2;
	struct dx_selection sel = { 0 };
	struct dx_err err = { 0 };
	size_t *a, *b, na, nb, i, j;
	unsigned k;

	cr_assert_eq(dx_inventory_parse(&inv2, other, strlen(other), "o.json",
	    &err), 0);
	sel.shard_n = 3;
	for (k = 1; k <= 3; k++) {
		sel.shard_k = k;
		cr_assert_eq(dx_select(&inv, &sel, &a, &na, &err), 0);
		cr_assert_eq(dx_select(&inv2, &sel, &b, &nb, &err), 0);
		/* A drone in both inventories is in shard k in both or neither. */
		for (j = 0; j < inv2.n; j++) {
			const struct dx_drone *d = dx_inventory_find(&inv,
			    inv2.drones[j].name);
			bool in_a = false, in_b = false;

			if (d == NULL)
				continue;
			for (i = 0; i < na; i++)
				in_a |= a[i] == d->index;
			for (i = 0; i < nb; i++)
				in_b |= b[i] == j;
			cr_expect_eq(in_a, in_b, "%s", d->name);
		}
		free(a);
		free(b);
	}
	dx_inventory_release(&inv2);
}

Test(select, shards_the_selection_not_the_fleet)
{
	struct dx_selection sel = { 0 };
	struct dx_err err = { 0 };
	size_t *idx, n, i, total = 0;
	unsigned k;

	sel.drones = (const char *[]){ "web-*" };
	sel.ndrones = 1;
	sel.shard_n = 2;
	for (k = 1; k <= 2; k++) {
		sel.shard_k = k;
		cr_assert_eq(dx_select(&inv, &sel, &idx, &n, &err), 0);
		for (i = 0; i < n; i++)
			cr_expect(strncmp(inv.drones[idx[i]].name, "web-", 4) == 0);
		total += n;
		free(idx);
	}
	cr_expect_eq(total, 4);
}

Test(select, refuses_a_shard_out_of_range)
{
	struct dx_selection sel = { 0 };
	char got[256];

	sel.shard_k = 0;
	sel.shard_n = 3;
	run(&sel, got, sizeof(got));
	cr_expect_str_eq(got, "ERR: shard 0/3: K must be between 1 and N");
	sel.shard_k = 4;
	run(&sel, got, sizeof(got));
	cr_expect_str_eq(got, "ERR: shard 4/3: K must be between 1 and N");
}

Test(select, an_empty_inventory_is_an_error_naming_it)
{
	struct dx_inventory empty;
	struct dx_selection sel = { 0 };
	struct dx_err err = { 0 };
	size_t *idx, n;

	cr_assert_eq(dx_inventory_parse(&empty, "{\"drones\": []}", 14, "e",
	    &err), 0);
	cr_expect_eq(dx_select(&empty, &sel, &idx, &n, &err), -1);
	cr_expect_eq(err.kind, DX_USAGE);
	cr_expect_str_eq(err.msg, "the inventory 'e' holds no drones");
	cr_expect_null(idx);
	dx_inventory_release(&empty);
}

Test(select, works_on_an_inventory_built_by_hand)
{
	/* No name index: dx_inventory_find() falls back to a scan. */
	struct dx_drone d[2] = { { .name = "x", .index = 0 },
	    { .name = "y", .index = 1 } };
	struct dx_inventory hand = { .drones = d, .n = 2 };
	struct dx_selection sel = { .drones = (const char *[]){ "y" }, .ndrones = 1 };
	struct dx_err err = { 0 };
	size_t *idx, n;

	cr_assert_eq(dx_select(&hand, &sel, &idx, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 1);
	cr_expect_eq(idx[0], 1);
	free(idx);
}

Test(select, repeated_sets_add_up_and_a_name_counts_once)
{
	struct dx_selection sel = { 0 };
	const char *w[] = { "web-01", "db-1,web-01", "web-0[1-2]" };
	const char *x[] = { "web-02", "bastion" };
	char got[512];

	sel.drones = w;
	sel.ndrones = 3;
	run(&sel, got, sizeof(got));
	cr_expect_str_eq(got, "web-01 web-02 db-1");
	sel.drones = NULL;
	sel.ndrones = 0;
	sel.exclude = x;
	sel.nexclude = 2;
	run(&sel, got, sizeof(got));
	cr_expect_str_eq(got, "web-01 web-03 web-10 db-1 db-2");
}

/* A file under a fresh directory; returns its path (static buffer). */
static const char *
sel_file(const char *name, const char *content)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sel-%d-%s",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(), name);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(content, f);
	fclose(f);
	return path;
}

Test(select, a_caret_file_names_drones_one_a_line_with_comments)
{
	struct dx_selection sel = { 0 };
	char spec[300], got[512];
	const char *w[1] = { spec }, *path;

	path = sel_file("names", "# the web tier\nweb-01\n\n  web-0[2-3]  # two more\n"
	    "@db\n\t\n");
	snprintf(spec, sizeof(spec), "^%s", path);
	sel.drones = w;
	sel.ndrones = 1;
	run(&sel, got, sizeof(got));
	cr_expect_str_eq(got, "web-01 web-02 web-03 db-1 db-2");
	/* -x takes a file too. */
	sel.drones = NULL;
	sel.ndrones = 0;
	sel.exclude = w;
	sel.nexclude = 1;
	run(&sel, got, sizeof(got));
	cr_expect_str_eq(got, "web-10 bastion");
	unlink(path);

	/* A typo in the file names the file and the line. */
	path = sel_file("typo", "web-01\nweb-99\n");
	snprintf(spec, sizeof(spec), "^%s", path);
	sel.exclude = NULL;
	sel.nexclude = 0;
	sel.drones = w;
	sel.ndrones = 1;
	run(&sel, got, sizeof(got));
	cr_expect(strstr(got, "typo:2: drone 'web-99' is not in the inventory") != NULL,
	    "%s", got);
	unlink(path);
}

Test(select, an_unreadable_caret_file_is_an_error_naming_it)
{
	struct dx_selection sel = { 0 };
	const char *w[] = { "^/nonexistent/dronex-names" };
	char got[512];

	sel.drones = w;
	sel.ndrones = 1;
	run(&sel, got, sizeof(got));
	cr_expect(strncmp(got, "ERR: ", 5) == 0, "%s", got);
	cr_expect(strstr(got, "/nonexistent/dronex-names") != NULL, "%s", got);
}

Test(select, only_the_shard_may_leave_nothing)
{
	struct dx_selection sel = { 0 };
	const char *w[] = { "bastion" };
	size_t *idx, n, total = 0;
	struct dx_err err = { 0 };
	unsigned k;

	sel.drones = w;
	sel.ndrones = 1;
	sel.shard_n = 3;
	for (k = 1; k <= 3; k++) {
		sel.shard_k = k;
		cr_assert_eq(dx_select(&inv, &sel, &idx, &n, &err), 0,
		    "shard %u: %s", k, err.msg);
		total += n;
		free(idx);
	}
	cr_expect_eq(total, 1);
}

struct adhoc_case {
	const char	*spec;
	const char	*want;	/* "name=user@host:port ..." or "ERR: message" */
};

static const struct adhoc_case adhoc_cases[] = {
	{ "a", "a=op@a:22" },
	{ "root@b:2222", "root@b:2222=root@b:2222" },
	{ "n[1-2]:23,n1:23", "n1:23=op@n1:23 n2:23=op@n2:23" },
	{ "[::1]:2200", "[::1]:2200=op@::1:2200" },
	{ "admin@[fe80::1%eth0]", "admin@[fe80::1%eth0]=admin@fe80::1%eth0:22" },
	{ "::1", "::1=op@::1:22" },
	{ "a,-b", "ERR: -w 'a,-b': column 3: host '-b' must not start with '-'" },
	{ "a, x@h:0", "ERR: -w 'a, x@h:0': column 8: port '0' is not a number from 1 to 65535" },
	{ "a,b;c@h", "ERR: -w 'a,b;c@h': column 3: user 'b;c' must not hold ';'" },
	{ "a,b[1-", "ERR: -w 'a,b[1-': column 4: unclosed '['" },
	{ "a,,b", "ERR: -w 'a,,b': column 3: empty element" },
	{ "ok,web-*", "ERR: -w 'ok,web-*': column 4: 'web-*' is a pattern, but there "
	  "is no inventory to match it against" },
	{ "@web", "ERR: -w '@web': column 1: '@web' names a label, but there is no inventory" },
	{ "[::1]x", "ERR: -w '[::1]x': column 6: expected ':PORT' after ']'" },
};

Test(select, adhoc_elements_name_user_host_and_port)
{
	struct dx_inventory a;
	struct dx_err err = { 0 };
	char got[512];
	size_t i, k, len;

	for (i = 0; i < sizeof(adhoc_cases) / sizeof(adhoc_cases[0]); i++) {
		const char *specs[] = { adhoc_cases[i].spec };

		got[0] = '\0';
		if (dx_select_adhoc(&a, specs, 1, &err) == -1) {
			snprintf(got, sizeof(got), "ERR: %s", err.msg);
		} else {
			/* Where each connects: its target (22 when no port). */
			for (k = 0, len = 0; k < a.n; k++) {
				struct dx_target t;

				cr_assert_eq(dx_target_resolve(&t, &a, &a.drones[k],
				    NULL, NULL, &err), 0, "%s", err.msg);
				len += (size_t)snprintf(got + len, sizeof(got) - len,
				    "%s%s=%s@%s:%d", k ? " " : "", a.drones[k].name,
				    /* The current user, whoever runs the test. */
				    strchr(adhoc_cases[i].spec, '@') == NULL ? "op" :
				    t.user, t.host, t.port);
				dx_target_release(&t);
			}
			dx_inventory_release(&a);
		}
		cr_expect_str_eq(got, adhoc_cases[i].want, "case %zu", i);
	}
}
