/*
 * inventory.h - the drone inventory (SPEC section 2): the schema, checked
 * field by field, and the values as the file gives them.
 *
 * dx_inventory_load() reads a JSON file (or stdin for "-"), expands "~",
 * and checks every field.  It applies no defaults: a drone holds the
 * connection fields it sets itself (NULL or 0 when it does not), the
 * inventory's "defaults" object is kept apart in inv->defaults, and each
 * field given remembers its line and column, so that target resolution
 * (target.h) can layer built-in defaults < ssh_config < "defaults" < the
 * drone < the command line and say where each value came from.  Only
 * what belongs to the schema itself is merged here: "vars" (the defaults'
 * keys with the drone's over them) and the jump check ("defaults.jump" is
 * not applied to the drone it names; chains may not loop).
 *
 * Any error stops the load: err->kind is DX_INVENTORY and err->msg names
 * the file, line, column and field, e.g.
 *   "drones.json:7:18: drone 'db-01': field 'port': expected an integer 1-65535"
 * The inventory owns every string in it; dx_inventory_release() frees them
 * (and is a no-op on a released inventory or one whose load failed).
 * struct dx_drone, struct dx_inventory, dx_inventory_load(),
 * dx_inventory_release() and dx_inventory_find() (hashed after a load or
 * parse) are public: dronex.h declares them; this header adds what only
 * dronex itself uses.
 *
 * Choices beyond SPEC section 2: drone names must not be empty or hold
 * whitespace, control characters, ',', '[', ']', '*' or '?' (they would
 * change meaning in -w/-x sets); "host" must not hold '@' or brackets
 * (IPv6 addresses are written bare, "::1", "fe80::1%eth0"); a drone
 * without "host" must have a name that is a valid host; empty strings
 * in "labels" and "calls" are errors; "connect_timeout" is 0 < s <= 2147483;
 * a drone may not jump through itself, and jump chains may not loop;
 * "defaults.jump" is not applied to the drone it names.  JSON objects with
 * a key given twice are refused.  "vars" (in a drone or in "defaults") is
 * any JSON object; a drone's vars are the defaults' keys with its own
 * keys over them (a shallow merge).  A UTF-8 byte-order mark at the start
 * is skipped; a NUL byte is an error.
 */
#ifndef DX_INVENTORY_H
#define DX_INVENTORY_H

#include "dronex.h"
#include "home.h"		/* dx_expand_tilde() */

/* Parses text of len bytes; name is used in messages (e.g. the path). */
int	dx_inventory_parse(struct dx_inventory *, const char *text, size_t len,
	    const char *name, struct dx_err *);

/* One ad-hoc drone, as "dronex exec -w [user@]host[:port]" names it. */
struct dx_adhoc {
	const char	*name;
	const char	*host;
	const char	*user;		/* NULL: the current user */
	int		 port;		/* 0: 22 */
};
/*
 * Makes an inventory of the n ad-hoc drones, with no file: each drone sets
 * host, and user and port when given; everything else is left to target
 * resolution.  A name given twice makes one drone (the first).  name is
 * used in messages and as inv->path.  0, or -1 with err set.
 */
int	dx_inventory_adhoc(struct dx_inventory *, const struct dx_adhoc *, size_t n,
	    const char *name, struct dx_err *);
/*
 * Checks a host or user name the way OpenSSH 9.6 does: refuses an empty
 * value, a leading '-', whitespace, control characters and shell
 * metacharacters.  what is "host" or "user" (for the message).
 */
int	dx_check_hostname(const char *value, const char *what, struct dx_err *);

/*
 * The name hash: FNV-1a, 32 bits.  The name index uses it, and so does
 * --shard (select.h), which is why it never changes: a drone must land in
 * the same shard on every machine and in every version.
 */
uint32_t dx_name_hash(const char *name);

#endif
