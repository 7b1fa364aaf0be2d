/*
 * select.h - which drones of an inventory a run covers (SPEC section 3).
 *
 * Each -w SET adds drones (no -w: every drone), each -x SET removes
 * drones, each -g LABEL must be carried, and --shard K/N keeps the drones
 * whose stable hash (FNV-1a of the name) mod N is K-1.  Sets add up and a
 * name given twice counts once.  An element of a set is a name, a range
 * (hostset.h), a glob, "@LABEL" (the drones carrying LABEL; an error when
 * none does, as ClusterShell refuses an unknown group) or "^FILE" (the
 * sets in FILE, one a line, '#' starts a comment, blank lines ignored; a
 * file cannot name another file).  A plain name the inventory does not
 * hold is an error in -w and -x alike: it is a typo or a stale script,
 * never silently nothing.  The result keeps inventory order.
 *
 * A selection that ends up empty is an error naming what emptied it, except
 * when only the shard did (a fleet smaller than the shard count): then the
 * selection is empty and dx_select() succeeds.
 */
#ifndef DX_SELECT_H
#define DX_SELECT_H

#include "inventory.h"

struct dx_selection {
	const char *const *drones;	/* each -w, or ndrones 0 for all */
	size_t		 ndrones;
	const char *const *exclude;	/* each -x */
	size_t		 nexclude;
	const char *const *labels;	/* each -g, every one required */
	size_t		 nlabels;
	unsigned	 shard_k;	/* 1..shard_n; shard_n == 0: no sharding */
	unsigned	 shard_n;
};

/*
 * Fills *idx (malloc'd, the caller frees) with the indexes of the selected
 * drones and *n with their count.  0, or -1 with err set (DX_USAGE, or
 * DX_INTERNAL when out of memory).
 */
int	dx_select(const struct dx_inventory *, const struct dx_selection *,
	    size_t **idx, size_t *n, struct dx_err *);
/* The shard (0-based) that name falls in, for shard_n shards. */
unsigned dx_shard_of(const char *name, unsigned shard_n);

/*
 * With no inventory file, "-w [user@]host[:port],..." names the drones
 * themselves, as pdsh does: each element is a drone named as written,
 * whose host, user and port come from it ("[::1]:2222" for IPv6, brackets
 * then being the address's, not a range).  Ranges and "^FILE" work as in
 * dx_select(); globs and "@LABEL" are errors (there is nothing to match).
 * Errors point into the argument: "-w 'a,-b': column 3: host '-b' must
 * not start with '-'".  Fills inv (dx_inventory_release()); 0 or -1.
 */
int	dx_select_adhoc(struct dx_inventory *inv, const char *const *specs,
	    size_t nspecs, struct dx_err *);

#endif
