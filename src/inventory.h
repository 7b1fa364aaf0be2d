/*
 * inventory.h - the drone inventory (SPEC section 2).
 *
 * dx_inventory_load() reads a JSON file (or stdin for "-"), applies
 * "defaults" and built-in defaults, expands "~", and checks every field.
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
 * (IPv6 addresses are written bare, "::1", "fe80::1%eth0"); empty strings
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
 * Makes an inventory of the n ad-hoc drones, with no file: known_hosts
 * ~/.ssh/known_hosts, no identity (the agent and ~/.ssh/id_*).  A name
 * given twice makes one drone (the first).  name is used in messages and
 * as inv->path.  0, or -1 with err set.
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
 * "~" or "~/x" -> "$HOME/x" (the password database's home when HOME is
 * unset or empty); other paths, "~user/x" included, are copied.  Returns a
 * string the caller frees, or NULL + err (DX_USAGE) if no home is known.
 */
char	*dx_expand_tilde(const char *path, struct dx_err *);

#endif
