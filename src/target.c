/*
 * target.c - a drone's effective connection settings, each with its source
 * (target.h): the one place that decides them.
 *
 * Theory of operation.  The settings are taken one source at a time, in
 * rising precedence, and each source writes only what it gives: first the
 * built-in defaults fill every setting, then ssh_config (sshconf.c: the
 * Host blocks that match the drone's name), then the inventory's
 * "defaults", then the drone's own fields, then the command line.  A
 * setting written by a source takes that source's origin with it: the
 * inventory's FILE:LINE:COL (recorded by the parser beside each field),
 * ssh_config's FILE:LINE, or the option's name.  ssh_config's file names
 * keep their %-tokens until every source is in, since %h and %r are the
 * final host and user (as OpenSSH expands them last).  Because every source
 * overwrites rather than decides, adding one (ssh_config) is one more
 * step in dx_target_resolve() and changes no other.  The inventory is read,
 * never written: the same inventory resolves again with other options.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "home.h"
#include "sshconf.h"
#include "target.h"

#define TGT_DEFAULT_PORT	22
#define TGT_DEFAULT_CONNECT_MS	10000
#define TGT_DEFAULT_KEEPALIVE_S	15
#define TGT_DEFAULT_ALIVE_COUNT	3

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
	for (size_t i = 0; i < t->nignored; i++) {
		free(t->ignored[i].keyword);
		free(t->ignored[i].value);
		free(t->ignored[i].where);
	}
	free(t->ignored);
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
 * An ad-hoc drone ("-w [user@]host[:port]", no inventory file): its host
 * has no position.  Its host is then what ssh_config is looked up by, as
 * `ssh user@host` looks up "host", and HostName may replace it.
 */
static bool
tgt_adhoc(const struct dx_drone *d)
{
	return d->host != NULL && d->pos[DX_INV_HOST].line == 0;
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

	/* An ad-hoc drone's host is the name typed ("-w root@h:22"). */
	if (tgt_set_str(&t->host, tgt_adhoc(d) ? d->host : d->name) == -1 ||
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
	t->server_alive_count_max = TGT_DEFAULT_ALIVE_COUNT;
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
	if (lv->host != NULL && !(tgt_adhoc(lv) &&
	    t->from[DX_SET_HOST].src == DX_SRC_SSH_CONFIG)) {
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

/*
 * ssh_config's %-tokens and a leading "~" in a file name, as OpenSSH
 * expands IdentityFile and UserKnownHostsFile: %% %d (home) %u (local
 * user) %h (host) %r (remote user) %n (the name typed) %p (port).  The
 * target's final host, user and port are used, so this runs after every
 * source.  0 with *out set, or -1 with err set (DX_USAGE names the file
 * and line of the option).
 */
static int
tgt_expand(const struct dx_target *t, const char *name, const char *in,
    const char *where, char **out, struct dx_err *err)
{
	struct dx_buf b;
	char *home = NULL, *tilde = NULL, port[16];
	const char *p, *v;
	int rc = -1;

	*out = NULL;
	dx_buf_init(&b, 1 << 16);
	snprintf(port, sizeof(port), "%d", t->port);
	if (in[0] == '~' && (in[1] == '\0' || in[1] == '/')) {
		if ((tilde = dx_expand_tilde(in, err)) == NULL)
			goto out;
		in = tilde;
	}
	for (p = in; *p != '\0'; p++) {
		if (*p != '%') {
			if (dx_buf_append(&b, p, 1) == -1)
				goto oom;
			continue;
		}
		switch (*++p) {
		case '%':
			v = "%";
			break;
		case 'd':
			if (home == NULL && (home = dx_home_dir(err)) == NULL)
				goto out;
			v = home;
			break;
		case 'u':
			v = dx_home_user();
			break;
		case 'h':
			v = t->host;
			break;
		case 'r':
			v = t->user;
			break;
		case 'n':
			v = name;
			break;
		case 'p':
			v = port;
			break;
		default:
			dx_err_set(err, DX_USAGE, "%s: '%s': token '%%%.1s' is not "
			    "supported (only %%%% %%d %%u %%h %%r %%n %%p)", where, in,
			    *p ? p : "");
			goto out;
		}
		if (dx_buf_append(&b, v, strlen(v)) == -1)
			goto oom;
	}
	if (dx_buf_append(&b, "", 1) == -1)
		goto oom;
	*out = (char *)b.data;
	b.data = NULL;
	rc = 0;
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	dx_buf_release(&b);
	free(home);
	free(tilde);
	return rc;
}

/* Copies an option's words into a list (expanded later). */
static int
tgt_sc_list(char ***dst, size_t *ndst, const struct dx_sshconf_opt *o)
{
	/* "none": no file; /dev/null reads as empty and takes no key. */
	static const char *const none[] = { "/dev/null" };

	if (o->nargs == 1 && strcasecmp(o->args[0], "none") == 0)
		return tgt_set_list(dst, ndst, none, 1);
	return tgt_set_list(dst, ndst, o->args, o->nargs);
}

static bool
tgt_yes(const char *s)
{
	return strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0;
}

/*
 * The ssh_config source: what the Host blocks matching name give (the
 * values were checked when the file was read).  Returns 0, or -1 with err
 * set.  File names keep their tokens until tgt_sc_expand().
 */
static int
tgt_sshconf(struct dx_target *t, const struct dx_sshconf *sc, const char *name,
    struct dx_err *err)
{
	struct dx_sshconf_host h;
	const struct dx_sshconf_opt *o;
	long long v;
	int rc = -1;

	if (dx_sshconf_lookup(sc, name, &h, err) == -1)
		return -1;
#define TGT_SC(key, set)	((o = h.opt[key]) != NULL ? \
	(tgt_from(t, set, DX_SRC_SSH_CONFIG, o->where), 1) : 0)
	if (TGT_SC(DX_SC_HOSTNAME, DX_SET_HOST)) {
		/* HostName's tokens: %h, the name typed, and %%. */
		struct dx_buf b;
		const char *p, *piece;
		size_t len;
		int r = 0;

		dx_buf_init(&b, 4096);
		for (p = o->args[0]; *p != '\0' && r == 0; p += len) {
			piece = p;
			len = 1;
			if (p[0] == '%' && p[1] == 'h')
				piece = name, len = 2;
			else if (p[0] == '%' && p[1] == '%')
				len = 2;
			r = dx_buf_append(&b, piece, piece == name ?
			    strlen(name) : 1);
		}
		if (r == -1 || dx_buf_append(&b, "", 1) == -1 ||
		    tgt_set_str(&t->host, b.data) == -1) {
			dx_buf_release(&b);
			goto oom;
		}
		dx_buf_release(&b);
	}
	if (TGT_SC(DX_SC_USER, DX_SET_USER) && tgt_set_str(&t->user, o->args[0]) == -1)
		goto oom;
	if (TGT_SC(DX_SC_PORT, DX_SET_PORT))
		t->port = atoi(o->args[0]);
	if (TGT_SC(DX_SC_IDENTITIES_ONLY, DX_SET_IDENTITIES_ONLY))
		t->identities_only = tgt_yes(o->args[0]);
	if (TGT_SC(DX_SC_PROXY_JUMP, DX_SET_JUMP) &&
	    tgt_set_str(&t->jump, strcasecmp(o->args[0], "none") == 0 ? NULL :
	    o->args[0]) == -1)
		goto oom;
	if (TGT_SC(DX_SC_USER_KNOWN_HOSTS, DX_SET_KNOWN_HOSTS) &&
	    tgt_sc_list(&t->known_hosts, &t->nknown_hosts, o) == -1)
		goto oom;
	if (TGT_SC(DX_SC_GLOBAL_KNOWN_HOSTS, DX_SET_GLOBAL_KNOWN_HOSTS) &&
	    tgt_sc_list(&t->global_known_hosts, &t->nglobal_known_hosts, o) == -1)
		goto oom;
	if (TGT_SC(DX_SC_STRICT_HOST_KEY, DX_SET_HOST_KEY_CHECK))
		t->hostkey_policy = strcasecmp(o->args[0], "accept-new") == 0 ?
		    DX_HKC_ACCEPT_NEW : tgt_yes(o->args[0]) ||
		    strcasecmp(o->args[0], "ask") == 0 ? DX_HKC_STRICT : DX_HKC_OFF;
	if (TGT_SC(DX_SC_HASH_KNOWN_HOSTS, DX_SET_HASH_KNOWN_HOSTS))
		t->hash_known_hosts = tgt_yes(o->args[0]);
	/* "none" and 0 leave the default, as they leave ssh without one. */
	if ((o = h.opt[DX_SC_CONNECT_TIMEOUT]) != NULL &&
	    dx_sshconf_time(o->args[0], &v) == 0 && v > 0) {
		t->connect_timeout_ms = v * 1000;
		tgt_from(t, DX_SET_CONNECT_TIMEOUT, DX_SRC_SSH_CONFIG, o->where);
	}
	if ((o = h.opt[DX_SC_ALIVE_INTERVAL]) != NULL &&
	    dx_sshconf_time(o->args[0], &v) == 0) {
		t->keepalive_s = (int)v;
		tgt_from(t, DX_SET_KEEPALIVE, DX_SRC_SSH_CONFIG, o->where);
	}
	if (TGT_SC(DX_SC_ALIVE_COUNT, DX_SET_SERVER_ALIVE_COUNT_MAX))
		t->server_alive_count_max = atoi(o->args[0]);
#undef TGT_SC
	if (h.nidentities > 0) {
		const char **v2;

		if ((v2 = calloc(h.nidentities, sizeof(*v2))) == NULL)
			goto oom;
		for (size_t i = 0; i < h.nidentities; i++)
			v2[i] = h.identities[i]->args[0];
		if (tgt_set_list(&t->identities, &t->nidentities,
		    (const char *const *)v2, h.nidentities) == -1) {
			free(v2);
			goto oom;
		}
		free(v2);
		tgt_from(t, DX_SET_IDENTITY, DX_SRC_SSH_CONFIG,
		    h.identities[0]->where);
	}
	if (h.nignored > 0 &&
	    (t->ignored = calloc(h.nignored, sizeof(*t->ignored))) == NULL)
		goto oom;
	for (size_t i = 0; i < h.nignored; i++) {
		struct dx_ignored *ig = &t->ignored[t->nignored++];
		struct dx_buf b;

		o = h.ignored[i];
		dx_buf_init(&b, 1 << 16);
		for (size_t k = 0; k < o->nargs; k++)
			if ((k > 0 && dx_buf_append(&b, " ", 1) == -1) ||
			    dx_buf_append(&b, o->args[k], strlen(o->args[k])) == -1)
				break;
		if (dx_buf_append(&b, "", 1) == -1 ||
		    (ig->keyword = strdup(o->keyword)) == NULL ||
		    (ig->where = strdup(o->where)) == NULL) {
			dx_buf_release(&b);
			goto oom;
		}
		ig->value = (char *)b.data;
		b.data = NULL;
		dx_buf_release(&b);
	}
	rc = 0;
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	dx_sshconf_host_release(&h);
	return rc;
}

/* Expands the file names that ssh_config gave, once every source is in. */
static int
tgt_sc_expand(struct dx_target *t, const char *name, struct dx_err *err)
{
	static const enum dx_setting which[] = { DX_SET_IDENTITY,
	    DX_SET_KNOWN_HOSTS, DX_SET_GLOBAL_KNOWN_HOSTS };
	char **lists[] = { t->identities, t->known_hosts, t->global_known_hosts };
	size_t ns[] = { t->nidentities, t->nknown_hosts, t->nglobal_known_hosts };
	char *x;

	for (size_t k = 0; k < 3; k++) {
		if (t->from[which[k]].src != DX_SRC_SSH_CONFIG)
			continue;
		for (size_t i = 0; i < ns[k]; i++) {
			if (tgt_expand(t, name, lists[k][i], t->from[which[k]].where,
			    &x, err) == -1)
				return -1;
			free(lists[k][i]);
			lists[k][i] = x;
		}
	}
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
	/* ssh_config is looked up by the name typed, as `ssh NAME` does. */
	const char *key = tgt_adhoc(d) ? d->host : d->name;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (tgt_set_str(&t->name, d->name) == -1 ||
	    tgt_defaults(t, d) == -1) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	if (sshconf != NULL && tgt_sshconf(t, sshconf, key, err) == -1)
		goto out;
	if (tgt_inventory(t, inv, &inv->defaults, DX_SRC_INV_DEFAULTS,
	    djump != NULL && strcmp(djump, d->name) != 0) == -1 ||
	    tgt_inventory(t, inv, d, DX_SRC_DRONE, true) == -1 ||
	    (cli != NULL && tgt_cli(t, cli) == -1)) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	if (tgt_sc_expand(t, key, err) == -1 || tgt_check(t, err) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		dx_target_release(t);
	return rc;
}
