/*
 * select.h - which drones of an inventory a run covers.
 *
 * -w SET keeps the named drones (a plain name that is not in the inventory
 * is an error: it is a typo or a stale script, never silently nothing),
 * -x SET removes drones, each -l LABEL must be carried, and --shard K/N keeps
 * the drones whose stable hash (FNV-1a of the name) mod N is K-1.
 * The result keeps inventory order.
 */
#ifndef DX_SELECT_H
#define DX_SELECT_H

#include "inventory.h"

struct dx_selection {
	const char	*drones;	/* -w, or NULL for all */
	const char	*exclude;	/* -x, or NULL */
	const char *const *labels;	/* -l, every one required */
	size_t		 nlabels;
	unsigned	 shard_k;	/* 1..shard_n; shard_n == 0: no sharding */
	unsigned	 shard_n;
};

/*
 * Fills *idx (malloc'd, the caller frees) with the indexes of the selected
 * drones and *n with their count.  An empty selection is not an error.
 * 0, or -1 with err set (DX_USAGE).
 */
int	dx_select(const struct dx_inventory *, const struct dx_selection *,
	    size_t **idx, size_t *n, struct dx_err *);
/* The shard (0-based) that name falls in, for shard_n shards. */
unsigned dx_shard_of(const char *name, unsigned shard_n);

#endif
