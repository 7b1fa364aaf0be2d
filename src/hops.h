/*
 * hops.h - a target's jump chain as targets of their own, resolved before
 * any connection (dx_target_resolve_hops() in dronex.h does the public
 * part), and the two helpers the jump registry (jump.h) needs: a deep
 * copy of a hop's target and the key that says which chains share a
 * session.
 */
#ifndef DX_HOPS_H
#define DX_HOPS_H

#include "dronex.h"

/* The longest chain dronex follows (OpenSSH has no limit; loops do). */
#define DX_HOPS_MAX	8

/*
 * Copies src into dst (dst's old contents are not freed): every setting,
 * string and list; not the hops nor the ignored ssh_config options.  0, or -1 when out of
 * memory (dst zeroed).
 */
int	 dx_hops_copy_target(struct dx_target *dst, const struct dx_target *src);

/*
 * The registry key of the chain hops[0..n): everything that makes a
 * hop's session differ (host, port, user, identities, IdentitiesOnly,
 * known_hosts files, host key policy), hop after hop.  Two drones whose chains give the same
 * key share the jump session.  A malloc'd string, or NULL when out of
 * memory.
 */
char	*dx_hops_key(const struct dx_target *hops, size_t n);

#endif
