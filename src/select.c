/*
 * select.c - which drones of an inventory a run covers.
 *
 * Theory of operation.  One flag per drone says "selected".  -w sets the
 * flags of the drones it names (all of them when -w is absent): a plain
 * name is looked up in the inventory's name index, so a set of a million
 * names costs a million lookups, not a million times the fleet; a glob is
 * matched against every drone.  -x clears flags the same way, then labels
 * and the shard clear the rest.  Walking the flags in order yields the
 * selection in inventory order.  The shard is a hash of the name alone, so
 * a drone lands in the same shard on every machine, whatever else the
 * inventory holds.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "hostset.h"
#include "select.h"

unsigned
dx_shard_of(const char *name, unsigned shard_n)
{
	uint32_t h = 2166136261u;	/* FNV-1a, 32 bits */
	const unsigned char *p;

	if (shard_n == 0)
		return 0;
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h % shard_n;
}

/*
 * Sets (on) or clears (!on) the flag of every drone that spec names.  opt
 * is the option, for messages.  Plain names missing from the inventory are
 * an error when strict.
 */
static int
select_apply(const struct dx_inventory *inv, const char *spec, const char *opt,
    bool strict, bool on, bool *flag, struct dx_err *err)
{
	struct dx_hostset set;
	const struct dx_drone *d;
	struct dx_err e;
	size_t i, k;
	int rc = -1;

	if (dx_hostset_parse(&set, spec, &e) == -1)
		return dx_err_set(err, e.kind, "%s '%.64s': %s", opt, spec,
		    e.msg);
	for (i = 0; i < set.n; i++) {
		if (dx_hostset_is_glob(set.names[i])) {
			/* A glob that matches nothing is fine, as in a shell. */
			for (k = 0; k < inv->n; k++)
				if (fnmatch(set.names[i], inv->drones[k].name,
				    FNM_NOESCAPE) == 0)
					flag[k] = on;
			continue;
		}
		if ((d = dx_inventory_find(inv, set.names[i])) != NULL)
			flag[d - inv->drones] = on;
		else if (strict) {
			dx_err_set(err, DX_USAGE,
			    "drone '%.64s' is not in the inventory",
			    set.names[i]);
			goto out;
		}
	}
	rc = 0;
out:
	dx_hostset_release(&set);
	return rc;
}

static bool
select_has_label(const struct dx_drone *d, const char *label)
{
	size_t i;

	for (i = 0; i < d->nlabels; i++)
		if (strcmp(d->labels[i], label) == 0)
			return true;
	return false;
}

int
dx_select(const struct dx_inventory *inv, const struct dx_selection *sel,
    size_t **idx, size_t *n, struct dx_err *err)
{
	bool *flag = NULL;
	size_t *out = NULL, i, j, k;
	int rc = -1;

	*idx = NULL;
	*n = 0;
	if (sel->shard_n != 0 && (sel->shard_k < 1 || sel->shard_k > sel->shard_n))
		return dx_err_set(err, DX_USAGE,
		    "shard %u/%u: K must be between 1 and N", sel->shard_k,
		    sel->shard_n);
	if ((flag = calloc(inv->n + 1, sizeof(*flag))) == NULL ||
	    (out = calloc(inv->n + 1, sizeof(*out))) == NULL) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	if (sel->drones == NULL)
		for (i = 0; i < inv->n; i++)
			flag[i] = true;
	else if (select_apply(inv, sel->drones, "-w", true, true, flag,
	    err) == -1)
		goto out;
	if (sel->exclude != NULL && select_apply(inv, sel->exclude, "-x",
	    false, false, flag, err) == -1)
		goto out;
	for (i = 0, k = 0; i < inv->n; i++) {
		if (!flag[i])
			continue;
		for (j = 0; j < sel->nlabels; j++)
			if (!select_has_label(&inv->drones[i], sel->labels[j]))
				break;
		if (j < sel->nlabels)
			continue;
		if (sel->shard_n != 0 && dx_shard_of(inv->drones[i].name,
		    sel->shard_n) != sel->shard_k - 1)
			continue;
		out[k++] = i;
	}
	*idx = out;
	*n = k;
	out = NULL;
	rc = 0;
out:
	free(out);
	free(flag);
	return rc;
}
