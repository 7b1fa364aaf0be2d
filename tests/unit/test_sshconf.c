/*
 * test_sshconf.c - ssh_config(5) as dronex reads it (sshconf.h): Host
 * patterns with '*', '?', '!' and several per line, first value wins
 * (IdentityFile accumulates), Include with globs, relative paths and
 * nesting, Match refused, bad values named by file, line and keyword,
 * unsupported options recorded as ignored; and the ssh_config source in
 * target resolution, below the inventory and the command line.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "inventory.h"
#include "sshconf.h"
#include "target.h"

static char sc_dir[] = "/tmp/dx-sshconf-XXXXXX";

static void
setup(void)
{
	char ssh[64];

	cr_assert(mkdtemp(sc_dir) != NULL);
	setenv("HOME", sc_dir, 1);
	snprintf(ssh, sizeof(ssh), "%s/.ssh", sc_dir);
	cr_assert(mkdir(ssh, 0700) == 0);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sc_dir);
	cr_expect(system(cmd) == 0);
}

TestSuite(sshconf, .init = setup, .fini = teardown);

/* Writes text to $HOME/name; returns the path (freed by the caller). */
static char *
sc_write(const char *name, const char *text)
{
	char *path;
	FILE *f;

	cr_assert(asprintf(&path, "%s/%s", sc_dir, name) > 0);
	cr_assert((f = fopen(path, "w")) != NULL, "%s: %s", path, strerror(errno));
	cr_assert(fputs(text, f) >= 0);
	cr_assert(fclose(f) == 0);
	return path;
}

/* Loads path as the only file (as --ssh-config FILE). */
static struct dx_sshconf *
sc_load(const char *path)
{
	struct dx_sshconf *conf;
	struct dx_err err = { 0 };

	cr_assert_eq(dx_sshconf_load(path, &conf, &err), 0, "%s", err.msg);
	cr_assert(conf != NULL);
	return conf;
}

/* The first value obtained for key by name, or NULL. */
static const char *
sc_get(const struct dx_sshconf *conf, const char *name, enum dx_sc_key key)
{
	static char buf[256];
	struct dx_sshconf_host h;
	struct dx_err err = { 0 };
	const char *v = NULL;

	cr_assert_eq(dx_sshconf_lookup(conf, name, &h, &err), 0, "%s", err.msg);
	if (h.opt[key] != NULL) {
		snprintf(buf, sizeof(buf), "%s", h.opt[key]->args[0]);
		v = buf;
	}
	dx_sshconf_host_release(&h);
	return v;
}

Test(sshconf, host_patterns_negation_and_first_wins)
{
	static const struct {
		const char	*name;
		const char	*port;	/* NULL: none obtained */
	} cases[] = {
		{ "web-01", "2201" },		/* web-* */
		{ "WEB-02", "2201" },		/* patterns ignore case */
		{ "web-bad", "2203" },		/* !web-bad skips line 1 */
		{ "db1", "2202" },		/* "db?" */
		{ "db12", "2203" },		/* '?' is one character */
		{ "x", "2203" },		/* Host * last */
		{ "gw", "2204" },		/* the second pattern of a line */
		{ "nope", NULL },
	};
	char *path = sc_write("c",
	    "# a comment\n"
	    "Host web-* !web-bad\n"
	    "  Port 2201\n"
	    "  Port 9999\n"			/* first value wins */
	    "Host db?\n"
	    "  port=2202\n"			/* Key=Value, any case */
	    "Host bastion gw\n"
	    "  PORT = 2204\n"
	    "Host * !nope\n"
	    "  Port 2203   # trailing comment\n"
	    "Host nope\n");
	struct dx_sshconf *conf = sc_load(path);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *v = sc_get(conf, cases[i].name, DX_SC_PORT);

		if (cases[i].port == NULL)
			cr_expect(v == NULL, "%s: got %s", cases[i].name, v);
		else
			cr_expect(v != NULL && strcmp(v, cases[i].port) == 0,
			    "%s: want %s, got %s", cases[i].name, cases[i].port,
			    v ? v : "nothing");
	}
	dx_sshconf_free(conf);
	free(path);
}

Test(sshconf, identity_files_accumulate_with_their_lines)
{
	char *path = sc_write("c",
	    "Host a\n"
	    "  IdentityFile ~/.ssh/one\n"
	    "Host *\n"
	    "  IdentityFile \"/k/with space\"\n"
	    "  User first\n"
	    "  User second\n");
	struct dx_sshconf *conf = sc_load(path);
	struct dx_sshconf_host h;
	struct dx_err err = { 0 };
	char *want;

	cr_assert_eq(dx_sshconf_lookup(conf, "a", &h, &err), 0);
	cr_assert_eq(h.nidentities, 2);
	cr_expect_str_eq(h.identities[0]->args[0], "~/.ssh/one");
	cr_expect_str_eq(h.identities[1]->args[0], "/k/with space");
	cr_assert(asprintf(&want, "%s:4", path) > 0);
	cr_expect_str_eq(h.identities[1]->where, want);
	free(want);
	cr_assert(h.opt[DX_SC_USER] != NULL);
	cr_expect_str_eq(h.opt[DX_SC_USER]->args[0], "first");
	dx_sshconf_host_release(&h);
	dx_sshconf_free(conf);
	free(path);
}

Test(sshconf, include_globs_relative_to_dot_ssh_and_nested)
{
	char *top, *p1, *p2, *p3, *p4, *want;
	struct dx_sshconf *conf;
	struct dx_sshconf_host h;
	struct dx_err err = { 0 };

	cr_assert(asprintf(&want, "%s/.ssh/conf.d", sc_dir) > 0);
	cr_assert(mkdir(want, 0700) == 0);
	free(want);
	/* Relative to ~/.ssh, a glob, in glob order (a before b). */
	top = sc_write(".ssh/config", "Include conf.d/*.conf\n"
	    "Host *\n  User fallback\n  Port 22\n");
	p1 = sc_write(".ssh/conf.d/a.conf", "Host alias1\n  HostName 127.0.0.9\n"
	    "  Include ~/.ssh/nested\n");
	p2 = sc_write(".ssh/conf.d/b.conf", "Host alias1\n  HostName wrong\n"
	    "  Port 2002\n");
	p3 = sc_write(".ssh/nested", "User fromnested\n");
	p4 = sc_write(".ssh/conf.d/ignored.txt", "Port 1\n");
	conf = sc_load(top);
	cr_expect_str_eq(sc_get(conf, "alias1", DX_SC_HOSTNAME), "127.0.0.9");
	cr_expect_str_eq(sc_get(conf, "alias1", DX_SC_USER), "fromnested");
	cr_expect_str_eq(sc_get(conf, "alias1", DX_SC_PORT), "2002");
	/* An Include in a block that does not match gives nothing. */
	cr_expect_str_eq(sc_get(conf, "other", DX_SC_USER), "fallback");
	cr_expect_str_eq(sc_get(conf, "other", DX_SC_PORT), "22");
	cr_assert_eq(dx_sshconf_lookup(conf, "alias1", &h, &err), 0);
	cr_assert(asprintf(&want, "%s:1", p3) > 0);
	cr_expect_str_eq(h.opt[DX_SC_USER]->where, want);
	free(want);
	dx_sshconf_host_release(&h);
	dx_sshconf_free(conf);
	free(top);
	free(p1);
	free(p2);
	free(p3);
	free(p4);
}

Test(sshconf, include_loop_is_an_error_not_a_hang)
{
	char *p = sc_write(".ssh/loop", "Include ~/.ssh/loop\n");
	struct dx_sshconf *conf = NULL;
	struct dx_err err = { 0 };

	cr_expect_eq(dx_sshconf_load(p, &conf, &err), -1);
	cr_expect_eq(err.kind, DX_USAGE);
	cr_expect(strstr(err.msg, "Include") != NULL && strstr(err.msg, "deep"),
	    "%s", err.msg);
	cr_expect(conf == NULL);
	free(p);
}

Test(sshconf, errors_name_file_line_and_keyword)
{
	static const struct {
		const char	*text;
		int		 line;
		const char	*what;
	} cases[] = {
		{ "Host a\n  Port 0\n", 2, "'Port'" },
		{ "Port 65536\n", 1, "'Port'" },
		{ "Host a\n\n  Port two\n", 3, "'Port'" },
		{ "IdentitiesOnly maybe\n", 1, "'IdentitiesOnly'" },
		{ "HashKnownHosts 1\n", 1, "'HashKnownHosts'" },
		{ "StrictHostKeyChecking sometimes\n", 1, "'StrictHostKeyChecking'" },
		{ "ConnectTimeout soon\n", 1, "'ConnectTimeout'" },
		{ "ServerAliveInterval -1\n", 1, "'ServerAliveInterval'" },
		{ "ServerAliveCountMax x\n", 1, "'ServerAliveCountMax'" },
		{ "HostName\n", 1, "'HostName'" },
		{ "User a b\n", 1, "'User'" },
		{ "IdentityFile\n", 1, "'IdentityFile'" },
		{ "Host\n", 1, "'Host'" },
		{ "Include\n", 1, "'Include'" },
		{ "User \"unterminated\n", 1, "quote" },
		/* A bad value is an error even where no drone would read it. */
		{ "Host never-matches\n  Port 99999\n", 2, "'Port'" },
		{ "Host a\nMatch host a\n  Port 22\n", 2, "'Match'" },
		{ "match all\n", 1, "'Match'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = sc_write("bad", cases[i].text), *want;
		struct dx_sshconf *conf = NULL;
		struct dx_err err = { 0 };

		cr_expect_eq(dx_sshconf_load(path, &conf, &err), -1, "case %zu", i);
		cr_expect_eq(err.kind, DX_USAGE, "case %zu", i);
		cr_assert(asprintf(&want, "%s:%d:", path, cases[i].line) > 0);
		cr_expect(strncmp(err.msg, want, strlen(want)) == 0,
		    "case %zu: want %s..., got %s", i, want, err.msg);
		cr_expect(strstr(err.msg, cases[i].what) != NULL,
		    "case %zu: %s", i, err.msg);
		cr_expect(conf == NULL);
		free(want);
		free(path);
	}
}

Test(sshconf, good_values_are_accepted)
{
	char *path = sc_write("c",
	    "StrictHostKeyChecking accept-new\n"
	    "Host b\n  StrictHostKeyChecking off\n  ConnectTimeout none\n"
	    "Host *\n  IdentitiesOnly yes\n  HashKnownHosts no\n"
	    "  ConnectTimeout 1m30s\n  ServerAliveInterval 5\n"
	    "  ServerAliveCountMax 0\n  UserKnownHostsFile /a /b '/c d'\n");
	struct dx_sshconf *conf = sc_load(path);
	struct dx_sshconf_host h;
	struct dx_err err = { 0 };

	cr_expect_str_eq(sc_get(conf, "b", DX_SC_STRICT_HOST_KEY), "accept-new");
	cr_expect_str_eq(sc_get(conf, "b", DX_SC_CONNECT_TIMEOUT), "none");
	cr_expect_str_eq(sc_get(conf, "a", DX_SC_CONNECT_TIMEOUT), "1m30s");
	cr_assert_eq(dx_sshconf_lookup(conf, "a", &h, &err), 0);
	cr_assert(h.opt[DX_SC_USER_KNOWN_HOSTS] != NULL);
	cr_expect_eq(h.opt[DX_SC_USER_KNOWN_HOSTS]->nargs, 3);
	cr_expect_str_eq(h.opt[DX_SC_USER_KNOWN_HOSTS]->args[2], "/c d");
	dx_sshconf_host_release(&h);
	dx_sshconf_free(conf);
	free(path);
}

Test(sshconf, times_as_ssh_config_writes_them)
{
	static const struct {
		const char	*s;
		long long	 v;		/* -1: refused */
	} cases[] = {
		{ "30", 30 }, { "30s", 30 }, { "1m30s", 90 }, { "2h", 7200 },
		{ "1d", 86400 }, { "1w", 604800 }, { "0", 0 }, { "", -1 },
		{ "x", -1 }, { "5x", -1 }, { "-5", -1 }, { "1m-2", -1 },
	};
	long long v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -1;
		if (cases[i].v == -1)
			cr_expect_eq(dx_sshconf_time(cases[i].s, &v), -1, "%s", cases[i].s);
		else {
			cr_expect_eq(dx_sshconf_time(cases[i].s, &v), 0, "%s", cases[i].s);
			cr_expect_eq(v, cases[i].v, "%s: %lld", cases[i].s, v);
		}
	}
}

Test(sshconf, unsupported_options_are_kept_as_ignored)
{
	char *path = sc_write("c",
	    "Host a\n  ForwardAgent yes\n  SendEnv LANG LC_*\n"
	    "Host b\n  Compression yes\n");
	struct dx_sshconf *conf = sc_load(path);
	struct dx_sshconf_host h;
	struct dx_err err = { 0 };
	char *want;

	cr_assert_eq(dx_sshconf_lookup(conf, "a", &h, &err), 0);
	cr_assert_eq(h.nignored, 2);
	cr_expect_str_eq(h.ignored[0]->keyword, "ForwardAgent");
	cr_expect_str_eq(h.ignored[1]->keyword, "SendEnv");
	cr_expect_eq(h.ignored[1]->nargs, 2);
	cr_assert(asprintf(&want, "%s:3", path) > 0);
	cr_expect_str_eq(h.ignored[1]->where, want);
	free(want);
	dx_sshconf_host_release(&h);
	dx_sshconf_free(conf);
	free(path);
}

Test(sshconf, none_reads_nothing_and_a_missing_file_is_an_error)
{
	struct dx_sshconf *conf = (struct dx_sshconf *)1;
	struct dx_err err = { 0 };
	char *path;

	cr_expect_eq(dx_sshconf_load("none", &conf, &err), 0);
	cr_expect(conf == NULL);
	cr_assert(asprintf(&path, "%s/missing", sc_dir) > 0);
	cr_expect_eq(dx_sshconf_load(path, &conf, &err), -1);
	cr_expect(strstr(err.msg, "missing") != NULL, "%s", err.msg);
	free(path);
}

/* The ssh_config source in target resolution. */
Test(sshconf, target_takes_ssh_config_below_the_inventory)
{
	static const char inv[] =
	    "{\"drones\": [{\"name\": \"alias1\"},\n"
	    " {\"name\": \"own\", \"host\": \"10.0.0.2\", \"port\": 2000}]}\n";
	char *path = sc_write("c",
	    "Host alias1 own\n"
	    "  HostName %h.example\n"
	    "  User op\n"
	    "  Port 2222\n"
	    "  IdentityFile ~/.ssh/id_%h_%r\n"
	    "  IdentitiesOnly yes\n"
	    "  ProxyJump none\n"
	    "  ProxyJump gw\n"
	    "  StrictHostKeyChecking ask\n"
	    "  HashKnownHosts yes\n"
	    "  ServerAliveInterval 1m\n"
	    "  ServerAliveCountMax 7\n"
	    "  ConnectTimeout 4\n"
	    "  UserKnownHostsFile ~/kh %d/kh2\n"
	    "  ForwardX11 yes\n");
	struct dx_sshconf *conf = sc_load(path);
	struct dx_inventory inventory;
	struct dx_target t;
	struct dx_target_cli cli;
	struct dx_err err = { 0 };
	char *want;

	cr_assert_eq(dx_inventory_parse(&inventory, inv, strlen(inv), "inv.json",
	    &err), 0, "%s", err.msg);
	cr_assert_eq(dx_target_resolve(&t, &inventory, &inventory.drones[0], conf,
	    NULL, &err), 0, "%s", err.msg);
	cr_expect_str_eq(t.host, "alias1.example");
	cr_expect_eq(t.from[DX_SET_HOST].src, DX_SRC_SSH_CONFIG);
	cr_assert(asprintf(&want, "%s:2", path) > 0);
	cr_expect_str_eq(t.from[DX_SET_HOST].where, want);
	free(want);
	cr_expect_str_eq(t.user, "op");
	cr_expect_eq(t.port, 2222);
	cr_assert_eq(t.nidentities, 1);
	cr_assert(asprintf(&want, "%s/.ssh/id_alias1.example_op", sc_dir) > 0);
	cr_expect_str_eq(t.identities[0], want);
	free(want);
	cr_expect(t.identities_only);
	cr_expect(t.jump == NULL, "ProxyJump none came first");
	cr_expect_eq(t.from[DX_SET_JUMP].src, DX_SRC_SSH_CONFIG);
	cr_expect_eq(t.hostkey_policy, DX_HKC_STRICT);
	cr_expect(t.hash_known_hosts);
	cr_expect_eq(t.keepalive_s, 60);
	cr_expect_eq(t.server_alive_count_max, 7);
	cr_expect_eq(t.connect_timeout_ms, 4000);
	cr_assert_eq(t.nknown_hosts, 2);
	cr_assert(asprintf(&want, "%s/kh2", sc_dir) > 0);
	cr_expect_str_eq(t.known_hosts[1], want);
	free(want);
	cr_assert_eq(t.nignored, 1);
	cr_expect_str_eq(t.ignored[0].keyword, "ForwardX11");
	cr_expect_str_eq(t.ignored[0].value, "yes");
	dx_target_release(&t);

	/* The drone's own fields win; the command line wins over both. */
	memset(&cli, 0, sizeof(cli));
	cli.user = "root";
	cr_assert_eq(dx_target_resolve(&t, &inventory, &inventory.drones[1], conf,
	    &cli, &err), 0, "%s", err.msg);
	cr_expect_str_eq(t.host, "10.0.0.2");
	cr_expect_eq(t.from[DX_SET_HOST].src, DX_SRC_DRONE);
	cr_expect_eq(t.port, 2000);
	cr_expect_str_eq(t.user, "root");
	cr_expect_eq(t.from[DX_SET_USER].src, DX_SRC_CLI);
	/* %h and %r are the final host and user. */
	cr_assert(asprintf(&want, "%s/.ssh/id_10.0.0.2_root", sc_dir) > 0);
	cr_expect_str_eq(t.identities[0], want);
	free(want);
	dx_target_release(&t);
	dx_inventory_release(&inventory);
	dx_sshconf_free(conf);
	free(path);
}

Test(sshconf, an_ad_hoc_drone_is_looked_up_by_its_host)
{
	struct dx_adhoc a[] = { { "root@alias1:2200", "alias1", "root", 2200 } };
	char *path = sc_write("c", "Host alias1\n  HostName 127.0.0.1\n"
	    "  User op\n  Port 2222\n");
	struct dx_sshconf *conf = sc_load(path);
	struct dx_inventory inv;
	struct dx_target t;
	struct dx_err err = { 0 };

	cr_assert_eq(dx_inventory_adhoc(&inv, a, 1, "-w", &err), 0, "%s", err.msg);
	cr_assert_eq(dx_target_resolve(&t, &inv, &inv.drones[0], conf, NULL,
	    &err), 0, "%s", err.msg);
	cr_expect_str_eq(t.host, "127.0.0.1");
	/* What -w gave explicitly wins, as `ssh -p 2200 root@alias1`. */
	cr_expect_str_eq(t.user, "root");
	cr_expect_eq(t.port, 2200);
	dx_target_release(&t);
	dx_inventory_release(&inv);
	dx_sshconf_free(conf);
	free(path);
}

Test(sshconf, an_unknown_token_is_an_error_on_its_own_line)
{
	static const char *const texts[] = {
		"Host a\n  IdentityFile ~/.ssh/id_a\n  IdentityFile ~/.ssh/id_%C\n",
		"Host a\n  Port 22\n  UserKnownHostsFile /kh /kh_%l\n",
		"Host a\n  User u\n  HostName %n.example\n",
		"Host a\n  User u\n  IdentityFile /k%\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *path = sc_write("c", texts[i]), *want;
		struct dx_sshconf *conf = NULL;
		struct dx_err err = { 0 };

		cr_expect_eq(dx_sshconf_load(path, &conf, &err), -1, "case %zu", i);
		cr_assert(asprintf(&want, "%s:3:", path) > 0);
		cr_expect(strncmp(err.msg, want, strlen(want)) == 0, "case %zu: %s",
		    i, err.msg);
		cr_expect(strstr(err.msg, "token") != NULL, "case %zu: %s", i, err.msg);
		free(want);
		free(path);
	}
}

Test(sshconf, a_config_others_may_write_is_refused_as_ssh_refuses_it)
{
	char *user = sc_write(".ssh/config", "Host a\n  Port 2\n");
	char *inc = sc_write("inc", "Port 3\n");
	char *top = sc_write("top", "Include ~/inc\n");
	struct dx_sshconf *conf = NULL;
	struct dx_err err = { 0 };

	/* The user's own ~/.ssh/config, group-writable. */
	cr_assert(chmod(user, 0664) == 0);
	cr_expect_eq(dx_sshconf_load(NULL, &conf, &err), -1);
	cr_expect(strstr(err.msg, "permissions") != NULL && strstr(err.msg, user),
	    "%s", err.msg);
	cr_assert(chmod(user, 0600) == 0);
	cr_expect_eq(dx_sshconf_load(NULL, &conf, &err), 0, "%s", err.msg);
	cr_expect_str_eq(sc_get(conf, "a", DX_SC_PORT), "2");
	dx_sshconf_free(conf);
	/* An included file, world-writable. */
	cr_assert(chmod(inc, 0666) == 0);
	conf = NULL;
	cr_expect_eq(dx_sshconf_load(top, &conf, &err), -1);
	cr_expect(strstr(err.msg, "permissions") != NULL && strstr(err.msg, inc),
	    "%s", err.msg);
	free(user);
	free(inc);
	free(top);
}
