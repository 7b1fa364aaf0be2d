/*
 * fuzz_inventory.c - libFuzzer target for the inventory parser.
 *
 * Any byte string goes to dx_inventory_parse(): it must return 0 or -1
 * without crashing, leaking or overrunning, and a successful parse must
 * hold together (every drone found by its name, each field given with a
 * position, every drone's target resolved with its settings filled,
 * messages never empty).  Selection runs on the result too, since it
 * walks the name index the parser built.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "select.h"
#include "target.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Tilde expansion reads HOME: make it the same on every run. */
	setenv("HOME", "/home/fuzz", 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dx_inventory inv;
	struct dx_selection sel = { 0 };
	struct dx_err err = { 0 };
	size_t i, *idx, n;

	if (dx_inventory_parse(&inv, (const char *)data, size, "fuzz.json",
	    &err) == -1) {
		if (err.kind == DX_OK || err.msg[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < inv.n; i++) {
		const struct dx_drone *d = &inv.drones[i];
		struct dx_target t;

		if (dx_inventory_find(&inv, d->name) != d || d->index != i ||
		    (d->port != 0 && d->pos[DX_INV_PORT].line < 1) ||
		    (d->user != NULL && d->pos[DX_INV_USER].line < 1) ||
		    (d->host != NULL && d->pos[DX_INV_HOST].line < 1))
			abort();
		if (dx_target_resolve(&t, &inv, d, NULL, NULL, &err) == -1) {
			if (err.msg[0] == '\0')
				abort();
			continue;
		}
		if (t.host == NULL || t.user == NULL || t.nknown_hosts == 0 ||
		    t.port < 1 || t.port > 65535 || t.connect_timeout_ms < 1)
			abort();
		dx_target_release(&t);
	}
	sel.shard_k = 1;
	sel.shard_n = 2;
	/* Only an inventory of no drones is refused, with a message. */
	if (dx_select(&inv, &sel, &idx, &n, &err) == -1) {
		if (inv.n > 0 || err.kind != DX_USAGE || err.msg[0] == '\0')
			abort();
	} else
		free(idx);
	dx_inventory_release(&inv);
	return 0;
}
