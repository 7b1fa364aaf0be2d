/*
 * cli_list.c - "dronex list": resolves the selection and prints the
 * selected drones with their effective settings, or, with --explain NAME,
 * each setting of one selected drone with the source it came from.
 * Connects nowhere.  The JSON is written by output.c; a write that fails
 * is exit 3.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_int.h"
#include "output.h"

int
cli_list(int argc, char **argv)
{
	struct cli_opts o;
	struct dx_inventory inv = { 0 };
	struct dx_target *targets = NULL;
	struct dx_err err = { 0 };
	size_t *idx = NULL, n = 0, i;
	int rc = DX_EXIT_USAGE, r;

	if ((r = cli_parse(argc, argv, &o)) != 0) {
		rc = r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
		goto out;
	}
	if (o.exec_only != NULL) {
		cli_fail("option '%s' does nothing for 'dronex list'", o.exec_only);
		goto out;
	}
	if (o.command != NULL) {
		cli_fail("list takes no command ('%s')", o.command);
		goto out;
	}
	if (cli_resolve(&o, &inv, &idx, &targets, &n) == -1)
		goto out;
	if (o.explain != NULL) {
		for (i = 0; i < n; i++)
			if (strcmp(targets[i].name, o.explain) == 0)
				break;
		if (i == n) {
			cli_fail("option '--explain': drone '%s' is not in the "
			    "selection", o.explain);
			goto out;
		}
		r = dx_out_explain(stdout, &targets[i], o.pretty, &err);
	} else
		r = dx_out_list(stdout, &inv, idx, targets, n,
		    o.shard[0] ? o.shard : NULL, o.pretty, &err);
	if (r == -1) {
		cli_fail("%s", err.msg);
		rc = err.kind == DX_OUTPUT ? DX_EXIT_OUTPUT : DX_EXIT_FAILED;
		goto out;
	}
	rc = DX_EXIT_OK;
out:
	cli_targets_free(targets, n);
	free(idx);
	cli_opts_release(&o);
	dx_inventory_release(&inv);
	return rc;
}
