/*
 * hops.c - a target's jump chain (dronex.h, dx_target_resolve_hops()).
 *
 * Theory of operation.  A target's `jump` (the inventory's "jump": a
 * drone's name or [user@]host[:port]; ssh_config's ProxyJump: a comma
 * separated list of those) becomes an array of hop targets, outermost
 * first: hops[0] is reached over TCP, hops[i] over a channel of
 * hops[i-1], the drone over a channel of the last hop.  Each hop gets the
 * settings it would get as a drone of its own: an element that names an
 * inventory drone is resolved as that drone (its host, port, user,
 * identity, known_hosts, and its own jump, which comes first), any other
 * element as an ad-hoc drone through dx_target_resolve() (so the
 * inventory's "defaults", but not their "jump", and ssh_config apply as
 * OpenSSH applies its configuration to -J hops).  The command line's -l
 * and --port do not apply to hops, as ssh -l applies only to the
 * destination; the other connection options do.  As with ssh -J a,b, only
 * the first element's own jump is followed: b is reached through a.
 * Names met on the way are remembered, so a chain that comes back on
 * itself is refused before any connection.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hops.h"
#include "inventory.h"
#include "target.h"

struct hops_ctx {
	const struct dx_inventory *inv;
	struct dx_inventory	 nojump;	/* inv without defaults.jump */
	const struct dx_sshconf	*sshconf;
	struct dx_target_cli	 cli;		/* the options, without -l/--port */
	const char		*drone;		/* the destination, for messages */
	const char		*seen[DX_HOPS_MAX + 2];
	size_t			 nseen;
	struct dx_target	 out[DX_HOPS_MAX];
	size_t			 nout;
};

static void
hops_free_list(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
hops_copy_list(char ***dst, size_t *ndst, char *const *v, size_t n)
{
	*dst = NULL;
	*ndst = 0;
	if (v == NULL)
		return 0;
	if ((*dst = calloc(n + 1, sizeof(**dst))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (((*dst)[i] = strdup(v[i])) == NULL) {
			hops_free_list(*dst, i);
			*dst = NULL;
			return -1;
		}
	*ndst = n;
	return 0;
}

static int
hops_copy_str(char **dst, const char *s)
{
	*dst = NULL;
	return s != NULL && (*dst = strdup(s)) == NULL ? -1 : 0;
}

int
dx_hops_copy_target(struct dx_target *dst, const struct dx_target *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->port = src->port;
	dst->hostkey_policy = src->hostkey_policy;
	dst->connect_timeout_ms = src->connect_timeout_ms;
	dst->keepalive_s = src->keepalive_s;
	dst->identities_only = src->identities_only;
	dst->hash_known_hosts = src->hash_known_hosts;
	dst->server_alive_count_max = src->server_alive_count_max;
	memcpy(dst->from, src->from, sizeof(dst->from));
	if (hops_copy_str(&dst->name, src->name) == -1 ||
	    hops_copy_str(&dst->host, src->host) == -1 ||
	    hops_copy_str(&dst->user, src->user) == -1 ||
	    hops_copy_str(&dst->jump, src->jump) == -1 ||
	    hops_copy_list(&dst->identities, &dst->nidentities,
	    src->identities, src->nidentities) == -1 ||
	    hops_copy_list(&dst->known_hosts, &dst->nknown_hosts,
	    src->known_hosts, src->nknown_hosts) == -1 ||
	    hops_copy_list(&dst->global_known_hosts, &dst->nglobal_known_hosts,
	    src->global_known_hosts, src->nglobal_known_hosts) == -1) {
		dx_target_release(dst);
		return -1;
	}
	return 0;
}

static void
hops_key_list(FILE *f, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%zu:%s", strlen(v[i]), v[i]);
	fputc(';', f);
}

char *
dx_hops_key(const struct dx_target *hops, size_t n)
{
	char *key = NULL;
	size_t len;
	FILE *f;

	if ((f = open_memstream(&key, &len)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct dx_target *h = &hops[i];

		/* Lengths first, so that no two chains can spell one key. */
		fprintf(f, "%zu:%s%zu:%s%d;%d;%d;", strlen(h->user), h->user,
		    strlen(h->host), h->host, h->port, (int)h->hostkey_policy,
		    (int)h->identities_only);
		hops_key_list(f, h->identities, h->nidentities);
		hops_key_list(f, h->known_hosts, h->nknown_hosts);
		hops_key_list(f, h->global_known_hosts, h->nglobal_known_hosts);
		fputc('|', f);
	}
	if (ferror(f)) {
		fclose(f);
		free(key);
		return NULL;
	}
	fclose(f);
	return key;
}

/* Splits "[user@]host[:port]" (host may be "[v6]"); -1 + err if malformed. */
static int
hops_parse(const struct hops_ctx *cx, const char *elem, char **user,
    char **host, int *port, struct dx_err *err)
{
	const char *at, *h, *c, *pc = NULL;
	struct dx_err e;
	char *end;
	long p;

	*user = *host = NULL;
	*port = 0;
	at = strrchr(elem, '@');
	h = at != NULL ? at + 1 : elem;
	if (h[0] == '[') {
		if ((c = strchr(h, ']')) == NULL || (c[1] != '\0' && c[1] != ':'))
			return dx_err_set(err, DX_USAGE, "drone '%.64s': jump "
			    "'%.64s': expected [ADDRESS]:PORT", cx->drone, elem);
		*host = strndup(h + 1, (size_t)(c - h - 1));
		if (c[1] == ':')
			pc = c + 2;
	} else if ((c = strrchr(h, ':')) != NULL && strchr(h, ':') == c) {
		*host = strndup(h, (size_t)(c - h));
		pc = c + 1;
	} else
		*host = strdup(h);
	if (*host == NULL || (at != NULL &&
	    (*user = strndup(elem, (size_t)(at - elem))) == NULL))
		goto oom;
	if ((*user != NULL && dx_check_hostname(*user, "user", &e) == -1) ||
	    dx_check_hostname(*host, "host", &e) == -1) {
		dx_err_set(err, DX_USAGE, "drone '%.64s': jump '%.64s': %s",
		    cx->drone, elem, e.msg);
		goto fail;
	}
	if (pc != NULL) {
		errno = 0;
		p = strtol(pc, &end, 10);
		if (*pc < '0' || *pc > '9' || *end != '\0' || errno != 0 ||
		    p < 1 || p > 65535) {
			dx_err_set(err, DX_USAGE, "drone '%.64s': jump '%.64s': "
			    "port '%.16s' is not a number from 1 to 65535",
			    cx->drone, elem, pc);
			goto fail;
		}
		*port = (int)p;
	}
	return 0;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
fail:
	free(*user);
	free(*host);
	*user = *host = NULL;
	return -1;
}

static int hops_chain(struct hops_ctx *, const char *jump, struct dx_err *);

/* Resolves one element of a chain into cx->out, its own jump first if asked. */
static int
hops_one(struct hops_ctx *cx, const char *elem, size_t elen, bool follow,
    struct dx_err *err)
{
	const struct dx_drone *d;
	struct dx_drone adhoc;
	struct dx_target t;
	char *name, *user = NULL, *host = NULL;
	int rc = -1, port;

	memset(&t, 0, sizeof(t));
	if ((name = strndup(elem, elen)) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory");
	if (*name == '\0') {
		dx_err_set(err, DX_USAGE, "drone '%.64s': jump '%.64s': empty "
		    "element in the jump chain", cx->drone, elem);
		goto out;
	}
	for (size_t i = 0; i < cx->nseen; i++)
		if (strcmp(cx->seen[i], name) == 0) {
			dx_err_set(err, DX_USAGE, "drone '%.64s': jump chain "
			    "loops through '%.64s'", cx->drone, name);
			goto out;
		}
	if (cx->nout == DX_HOPS_MAX || cx->nseen == DX_HOPS_MAX + 1) {
		dx_err_set(err, DX_USAGE, "drone '%.64s': jump chain longer than "
		    "%d hops", cx->drone, DX_HOPS_MAX);
		goto out;
	}
	if ((d = dx_inventory_find(cx->inv, name)) != NULL) {
		if (dx_target_resolve(&t, cx->inv, d, cx->sshconf, &cx->cli,
		    err) == -1)
			goto out;
	} else {
		if (hops_parse(cx, name, &user, &host, &port, err) == -1)
			goto out;
		memset(&adhoc, 0, sizeof(adhoc));
		adhoc.name = name;
		adhoc.host = host;
		adhoc.user = user;
		adhoc.port = port;
		if (dx_target_resolve(&t, &cx->nojump, &adhoc, cx->sshconf,
		    &cx->cli, err) == -1)
			goto out;
	}
	cx->seen[cx->nseen++] = name;
	if (follow && t.jump != NULL && hops_chain(cx, t.jump, err) == -1)
		goto out;
	cx->nseen--;
	if (cx->nout == DX_HOPS_MAX) {
		dx_err_set(err, DX_USAGE, "drone '%.64s': jump chain longer than "
		    "%d hops", cx->drone, DX_HOPS_MAX);
		goto out;
	}
	cx->out[cx->nout++] = t;
	memset(&t, 0, sizeof(t));
	rc = 0;
out:
	dx_target_release(&t);
	free(user);
	free(host);
	free(name);
	return rc;
}

/* "a,b,c": a (after its own chain), then b and c, each through the last. */
static int
hops_chain(struct hops_ctx *cx, const char *jump, struct dx_err *err)
{
	const char *p = jump, *c;
	bool first = true;

	for (;;) {
		c = strchr(p, ',');
		if (hops_one(cx, p, c != NULL ? (size_t)(c - p) : strlen(p), first,
		    err) == -1)
			return -1;
		if (c == NULL)
			return 0;
		p = c + 1;
		first = false;
	}
}

int
dx_target_resolve_hops(struct dx_target *t, const struct dx_inventory *inv,
    const struct dx_sshconf *sshconf, const struct dx_target_cli *cli,
    struct dx_err *err)
{
	struct hops_ctx *cx;
	int rc = -1;

	if (t->jump == NULL || t->nhops > 0)
		return 0;
	if ((cx = calloc(1, sizeof(*cx))) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory");
	cx->inv = inv;
	cx->nojump = *inv;
	cx->nojump.defaults.jump = NULL;
	cx->sshconf = sshconf;
	if (cli != NULL)
		cx->cli = *cli;
	cx->cli.user = NULL;
	cx->cli.port = 0;
	cx->drone = t->name;
	cx->seen[cx->nseen++] = t->name;
	if (hops_chain(cx, t->jump, err) == -1)
		goto out;
	if ((t->hops = calloc(cx->nout, sizeof(*t->hops))) == NULL) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	memcpy(t->hops, cx->out, cx->nout * sizeof(*t->hops));
	t->nhops = cx->nout;
	cx->nout = 0;
	rc = 0;
out:
	for (size_t i = 0; i < cx->nout; i++)
		dx_target_release(&cx->out[i]);
	free(cx);
	return rc;
}
