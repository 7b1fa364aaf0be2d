/*
 * cli_resolve.c - from the options to targets, for every subcommand that
 * names drones (exec, list, serve's requests): the inventory (or the
 * ad-hoc one -w makes without a file), the selection (select.h), ssh_config
 * (sshconf.h), one target per selected drone with its hops (target.h,
 * hops.h), and the digest of a sharded run (the document's "run").
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_int.h"
#include "dronex.h"
#include "hops.h"
#include "inventory.h"
#include "select.h"
#include "sshconf.h"
#include "target.h"

void
cli_targets_free(struct dx_target *t, size_t n)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		dx_target_release(&t[i]);
	free(t);
}

/*
 * FNV-1a, 64 bits, over a stream of strings, each ended by a NUL byte and
 * led by a tag byte that says what it is, so that no two different inputs
 * make the same stream.
 */
#define CLI_FNV_OFFSET	0xcbf29ce484222325ULL
#define CLI_FNV_PRIME	0x100000001b3ULL

static uint64_t
cli_fnv(uint64_t h, char tag, const char *s)
{
	h = (h ^ (unsigned char)tag) * CLI_FNV_PRIME;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * CLI_FNV_PRIME;
	return h * CLI_FNV_PRIME;	/* the NUL: h ^ 0 is h */
}

static int
cli_drone_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct dx_drone *const *)a)->name,
	    (*(const struct dx_drone *const *)b)->name);
}

/*
 * The "run" field of a sharded run (man page, "dronex merge"): a digest of
 * the selection before the shard was taken and of the calls, the same on
 * every machine that runs a shard of it.  It covers the names of the
 * drones selected without the shard, sorted (so the inventory's order does
 * not count), each one's own inventory calls, and the command line's
 * command; not the options, the addresses or --stdin.  given is the
 * selection with its shard; run gets 16 hex digits and a NUL.
 */
static int
cli_run_digest(const struct dx_inventory *inv, const struct dx_selection *given,
    const char *command, char run[17], struct dx_err *err)
{
	struct dx_selection sel = *given;
	const struct dx_drone **d = NULL;
	size_t *all = NULL, nall = 0, i, j;
	uint64_t h = CLI_FNV_OFFSET;
	int rc = -1;

	sel.shard_k = sel.shard_n = 0;
	if (dx_select(inv, &sel, &all, &nall, err) == -1)
		return -1;
	if ((d = calloc(nall + 1, sizeof(*d))) == NULL) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < nall; i++)
		d[i] = &inv->drones[all[i]];
	qsort(d, nall, sizeof(*d), cli_drone_cmp);
	h = cli_fnv(h, 'V', "dronex-run-1");
	for (i = 0; i < nall; i++) {
		h = cli_fnv(h, 'D', d[i]->name);
		for (j = 0; j < d[i]->ncalls; j++)
			h = cli_fnv(h, 'C', d[i]->calls[j]);
	}
	if (command != NULL)
		h = cli_fnv(h, 'X', command);
	snprintf(run, 17, "%016llx", (unsigned long long)h);
	rc = 0;
out:
	free(d);
	free(all);
	return rc;
}

int
cli_sshconf_load(const struct cli_opts *o, struct dx_sshconf **out,
    struct dx_err *err)
{
	return dx_sshconf_load(o->ssh_config, out, err);
}

/*
 * Selects from a loaded inventory (the shard included) and resolves one
 * target per selected drone, with ssh_config (read here, cli_sshconf_load)
 * and the options as sources; run (when not NULL) gets the digest of a
 * sharded run.  0, or -1 with err set and nothing to free.
 */
static int
cli_select_run(const struct cli_opts *o, const struct dx_inventory *inv,
    size_t **idx, struct dx_target **targets, size_t *n, char run[17],
    struct dx_err *err)
{
	struct dx_selection sel;
	struct dx_target_cli tc;
	struct dx_sshconf *sc = NULL;

	*idx = NULL;
	*targets = NULL;
	*n = 0;
	memset(&sel, 0, sizeof(sel));
	sel.drones = o->drones;
	sel.ndrones = o->ndrones;
	sel.exclude = o->exclude;
	sel.nexclude = o->nexclude;
	sel.labels = o->labels;
	sel.nlabels = o->nlabels;
	sel.shard_k = o->shard_k;
	sel.shard_n = o->shard_n;
	if (dx_select(inv, &sel, idx, n, err) == -1 ||
	    cli_sshconf_load(o, &sc, err) == -1)
		goto fail;
	if (run != NULL && o->shard_n != 0 &&
	    cli_run_digest(inv, &sel, o->command, run, err) == -1)
		goto fail;
	/* One target per selected drone; the options are its top source. */
	memset(&tc, 0, sizeof(tc));
	tc.user = o->user;
	tc.port = o->port;
	tc.identities = (const char *const *)o->identities;
	tc.nidentities = o->nidentities;
	tc.connect_timeout_ms = o->connect_given ? o->connect_ms : 0;
	tc.hostkey_given = o->hostkey_given;
	tc.hostkey_policy = o->hostkey;
	tc.keepalive_given = o->keepalive_given;
	tc.keepalive_s = o->keepalive_s;
	if ((*targets = calloc(*n + 1, sizeof(**targets))) == NULL) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < *n; i++)
		if (dx_target_resolve(&(*targets)[i], inv, &inv->drones[(*idx)[i]],
		    sc, &tc, err) == -1 ||
		    dx_target_resolve_hops(&(*targets)[i], inv, sc, &tc,
		    err) == -1)
			goto fail;
	dx_sshconf_free(sc);
	return 0;
fail:
	dx_sshconf_free(sc);
	cli_targets_free(*targets, *n);
	*targets = NULL;
	free(*idx);
	*idx = NULL;
	*n = 0;
	return -1;
}

int
cli_select(const struct cli_opts *o, const struct dx_inventory *inv,
    size_t **idx, struct dx_target **targets, size_t *n, struct dx_err *err)
{
	return cli_select_run(o, inv, idx, targets, n, NULL, err);
}

int
cli_resolve_run(const struct cli_opts *o, struct dx_inventory *inv,
    size_t **idx, struct dx_target **targets, size_t *n, char run[17])
{
	struct dx_err err = { 0 };
	struct cli_opts ao;

	*idx = NULL;
	*targets = NULL;
	*n = 0;
	/*
	 * Without an inventory file, "-w a,root@b:2222" names the hosts
	 * themselves, as pdsh does.
	 */
	if (!o->inventory_given && o->ndrones > 0 &&
	    access(o->inventory, F_OK) == -1 && errno == ENOENT) {
		if (dx_select_adhoc(inv, o->drones, o->ndrones, &err) == -1)
			goto fail;
		/* The ad-hoc inventory holds exactly the -w drones. */
		ao = *o;
		ao.ndrones = 0;
		o = &ao;
	} else if (!o->inventory_given && access(o->inventory, F_OK) == -1 &&
	    errno == ENOENT) {
		cli_fail("no inventory: give -i FILE, set DRONEX_INVENTORY, create "
		    "./drones.json, or name hosts with -w");
		return -1;
	} else if (dx_inventory_load(inv, o->inventory, &err) == -1)
		goto fail;
	if (cli_select_run(o, inv, idx, targets, n, run, &err) == -1)
		goto fail;
	return 0;
fail:
	cli_fail("%s", err.msg);
	return -1;
}

int
cli_resolve(const struct cli_opts *o, struct dx_inventory *inv, size_t **idx,
    struct dx_target **targets, size_t *n)
{
	return cli_resolve_run(o, inv, idx, targets, n, NULL);
}
