/*
 * target.c - a drone's effective connection settings, each with its source
 * (target.h): the one place that decides them.
 *
 * Theory of operation.  The settings are taken one source at a time, in
 * rising precedence, and each source writes only what it gives: first the
 * built-in defaults fill every setting, then ssh_config (empty until the
 * ssh_config issue), then the inventory's "defaults", then the drone's own
 * fields, then the command line.  A setting written by a source takes that
 * source's origin with it: the inventory's FILE:LINE:COL (recorded by the
 * parser beside each field), or the option's name.  Because every source
 * overwrites rather than decides, adding one (ssh_config) is one more
 * step in dx_target_resolve() and changes no other.  The inventory is read,
 * never written: the same inventory resolves again with other options.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "home.h"
#include "target.h"

#define TGT_DEFAULT_PORT	22
#define TGT_DEFAULT_CONNECT_MS	10000
#define TGT_DEFAULT_KEEPALIVE_S	15

static const char *const tgt_source_names[] = {
	"default", "ssh_config", "inventory defaults", "drone", "command line"
};

static const char *const tgt_setting_names[] = {
#define TGT_SETTING_NAME(name, str) str,
	DX_SETTING_MAP(TGT_SETTING_NAME)
#undef TGT_SETTING_NAME
};

static const char *const tgt_policy_names[] = { "strict", "accept-new", "off" };

static const char *const tgt_global_kh[] = {
	"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"
};

const char *
dx_source_name(enum dx_source s)
{
	return (unsigned)s < sizeof(tgt_source_names) / sizeof(tgt_source_names[0]) ?
	    tgt_source_names[s] : "default";
}

const char *
dx_setting_name(enum dx_setting s)
{
	return (unsigned)s < DX_SET_COUNT ? tgt_setting_names[s] : "";
}

const char *
dx_hostkey_policy_name(enum dx_hostkey_policy p)
{
	return (unsigned)p < 3 ? tgt_policy_names[p] : "strict";
}

static void
tgt_free_list(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
dx_target_release(struct dx_target *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->host);
	free(t->user);
	tgt_free_list(t->identities, t->nidentities);
	tgt_free_list(t->known_hosts, t->nknown_hosts);
	tgt_free_list(t->global_known_hosts, t->nglobal_known_hosts);
	free(t->jump);
	for (size_t i = 0; i < t->nhops; i++)
		dx_target_release(&t->hops[i]);
	free(t->hops);
	memset(t, 0, sizeof(*t));
}

/* Replaces *dst with a copy of s (NULL stays NULL); -1 when out of memory. */
static int
tgt_set_str(char **dst, const char *s)
{
	char *c = NULL;

	if (s != NULL && (c = strdup(s)) == NULL)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

/* Replaces a list with copies of the n strings of v. */
static int
tgt_set_list(char ***dst, size_t *ndst, const char *const *v, size_t n)
{
	char **c;
	size_t i;

	if ((c = calloc(n + 1, sizeof(*c))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if ((c[i] = strdup(v[i])) == NULL) {
			tgt_free_list(c, i);
			return -1;
		}
	tgt_free_list(*dst, *ndst);
	*dst = c;
	*ndst = n;
	return 0;
}

static void
tgt_from(struct dx_target *t, enum dx_setting s, enum dx_source src,
    const char *where)
{
	t->from[s].src = src;
	snprintf(t->from[s].where, sizeof(t->from[s].where), "%s", where);
}

/*
 * The built-in defaults, each setting's lowest source.  The user's name
 * and home may be unknown; that is an error only if no higher source
 * gives the user or the known_hosts file (tgt_check()).
 */
static int
tgt_defaults(struct dx_target *t, const struct dx_drone *d)
{
	struct dx_err e;
	char *home, *kh[2] = { NULL, NULL };
	int rc = -1;

	if (tgt_set_str(&t->host, d->name) == -1 ||
	    tgt_set_str(&t->user, dx_home_user()) == -1 ||
	    tgt_set_list(&t->global_known_hosts, &t->nglobal_known_hosts,
	    tgt_global_kh, 2) == -1)
		return -1;
	if ((home = dx_home_dir(&e)) == NULL && e.kind == DX_INTERNAL)
		return -1;
	if (home != NULL) {
		if (asprintf(&kh[0], "%s/.ssh/known_hosts", home) == -1)
			kh[0] = NULL;
		else if (asprintf(&kh[1], "%s/.ssh/known_hosts2", home) == -1)
			kh[1] = NULL;
		if (kh[0] == NULL || kh[1] == NULL ||
		    tgt_set_list(&t->known_hosts, &t->nknown_hosts,
		    (const char *const *)kh, 2) == -1)
			goto out;
	}
	t->port = TGT_DEFAULT_PORT;
	t->hostkey_policy = DX_HKC_STRICT;
	t->connect_timeout_ms = TGT_DEFAULT_CONNECT_MS;
	t->keepalive_s = TGT_DEFAULT_KEEPALIVE_S;
	for (int s = 0; s < DX_SET_COUNT; s++)
		tgt_from(t, (enum dx_setting)s, DX_SRC_DEFAULT, "");
	rc = 0;
out:
	free(kh[0]);
	free(kh[1]);
	free(home);
	return rc;
}

/* A default that was needed but is not known. */
static int
tgt_check(const struct dx_target *t, struct dx_err *err)
{
	if (t->user[0] == '\0')
		return dx_err_set(err, DX_USAGE, "drone '%.64s': user not "
		    "given, and the current user has no name", t->name);
	if (t->nknown_hosts == 0)
		return dx_err_set(err, DX_USAGE, "drone '%.64s': known_hosts "
		    "not given, and there is no home directory (HOME is not "
		    "set)", t->name);
	return 0;
}

/* "drones.json:7:18", or the inventory's name alone (ad hoc: "-w"). */
static void
tgt_where(char *buf, size_t size, const struct dx_inventory *inv,
    const struct dx_inv_pos *pos)
{
	const char *file = inv->path == NULL ? "" :
	    strcmp(inv->path, "-") == 0 ? "<stdin>" : inv->path;

	/* A long path is cut, never the line and column after it. */
	if (pos->line > 0)
		snprintf(buf, size, "%.*s:%d:%d", (int)(size > 24 ? size - 24 : 0),
		    file, pos->line, pos->col);
	else
		snprintf(buf, size, "%s", file);
}

/*
 * One level of the inventory (its "defaults", or the drone): writes the
 * fields it gives, with their positions.  jump_ok says whether its jump
 * applies (defaults.jump does not apply to the drone it names).
 */
static int
tgt_inventory(struct dx_target *t, const struct dx_inventory *inv,
    const struct dx_drone *lv, enum dx_source src, bool jump_ok)
{
	char where[sizeof(t->from[0].where)];

#define TGT_WHERE(f) (tgt_where(where, sizeof(where), inv, &lv->pos[f]), where)
	if (lv->host != NULL) {
		if (tgt_set_str(&t->host, lv->host) == -1)
			return -1;
		tgt_from(t, DX_SET_HOST, src, TGT_WHERE(DX_INV_HOST));
	}
	if (lv->port != 0) {
		t->port = lv->port;
		tgt_from(t, DX_SET_PORT, src, TGT_WHERE(DX_INV_PORT));
	}
	if (lv->user != NULL) {
		if (tgt_set_str(&t->user, lv->user) == -1)
			return -1;
		tgt_from(t, DX_SET_USER, src, TGT_WHERE(DX_INV_USER));
	}
	if (lv->identity != NULL) {
		if (tgt_set_list(&t->identities, &t->nidentities,
		    (const char *const *)&lv->identity, 1) == -1)
			return -1;
		tgt_from(t, DX_SET_IDENTITY, src, TGT_WHERE(DX_INV_IDENTITY));
	}
	if (lv->known_hosts != NULL) {
		if (tgt_set_list(&t->known_hosts, &t->nknown_hosts,
		    (const char *const *)&lv->known_hosts, 1) == -1)
			return -1;
		tgt_from(t, DX_SET_KNOWN_HOSTS, src,
		    TGT_WHERE(DX_INV_KNOWN_HOSTS));
	}
	if (lv->connect_timeout_ms != 0) {
		t->connect_timeout_ms = lv->connect_timeout_ms;
		tgt_from(t, DX_SET_CONNECT_TIMEOUT, src,
		    TGT_WHERE(DX_INV_CONNECT_TIMEOUT));
	}
	if (lv->jump != NULL && jump_ok) {
		if (tgt_set_str(&t->jump, lv->jump) == -1)
			return -1;
		tgt_from(t, DX_SET_JUMP, src, TGT_WHERE(DX_INV_JUMP));
	}
#undef TGT_WHERE
	return 0;
}

/* The command line: what it gives wins. */
static int
tgt_cli(struct dx_target *t, const struct dx_target_cli *cli)
{
	if (cli->user != NULL) {
		if (tgt_set_str(&t->user, cli->user) == -1)
			return -1;
		tgt_from(t, DX_SET_USER, DX_SRC_CLI, "-l");
	}
	if (cli->port != 0) {
		t->port = cli->port;
		tgt_from(t, DX_SET_PORT, DX_SRC_CLI, "--port");
	}
	if (cli->nidentities > 0) {
		if (tgt_set_list(&t->identities, &t->nidentities,
		    cli->identities, cli->nidentities) == -1)
			return -1;
		tgt_from(t, DX_SET_IDENTITY, DX_SRC_CLI, "--identity");
	}
	if (cli->connect_timeout_ms > 0) {
		t->connect_timeout_ms = cli->connect_timeout_ms;
		tgt_from(t, DX_SET_CONNECT_TIMEOUT, DX_SRC_CLI,
		    "--connect-timeout");
	}
	if (cli->hostkey_given) {
		t->hostkey_policy = cli->hostkey_policy;
		tgt_from(t, DX_SET_HOST_KEY_CHECK, DX_SRC_CLI,
		    "--host-key-check");
	}
	if (cli->keepalive_given) {
		t->keepalive_s = cli->keepalive_s;
		tgt_from(t, DX_SET_KEEPALIVE, DX_SRC_CLI, "--keepalive");
	}
	return 0;
}

int
dx_target_resolve(struct dx_target *t, const struct dx_inventory *inv,
    const struct dx_drone *d, const struct dx_sshconf *sshconf,
    const struct dx_target_cli *cli, struct dx_err *err)
{
	const char *djump = inv->defaults.jump;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	/* No ssh_config source exists yet: it gives nothing. */
	(void)sshconf;
	if (tgt_set_str(&t->name, d->name) == -1 ||
	    tgt_defaults(t, d) == -1 ||
	    tgt_inventory(t, inv, &inv->defaults, DX_SRC_INV_DEFAULTS,
	    djump != NULL && strcmp(djump, d->name) != 0) == -1 ||
	    tgt_inventory(t, inv, d, DX_SRC_DRONE, true) == -1 ||
	    (cli != NULL && tgt_cli(t, cli) == -1)) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	if (tgt_check(t, err) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		dx_target_release(t);
	return rc;
}
