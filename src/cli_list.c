/*
 * cli_list.c - "dronex list": resolves the selection and prints the
 * selected drones with their effective settings, or, with --explain NAME,
 * each setting of one selected drone with the source it came from.
 * Connects nowhere.  The JSON is written by output.c; a write that fails
 * is exit 3.  --names and --labels print plain lines instead (the names
 * of the selected drones in selection order; the labels they carry,
 * sorted, each once), for shells: completion/dronex calls them.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_int.h"
#include "output.h"

static int
cli_list_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --names or --labels: one string a line; 0, or -1 with err set. */
static int
cli_list_lines(const struct dx_inventory *inv, const size_t *idx, size_t n,
    bool labels, struct dx_err *err)
{
	const char **v = NULL;
	size_t nv = 0, cap = 0;
	int rc = -1;

	for (size_t i = 0; i < n; i++) {
		const struct dx_drone *d = &inv->drones[idx[i]];
		size_t k = labels ? d->nlabels : 1;

		if (nv + k > cap) {
			const char **nvv;

			cap = (nv + k) * 2;
			if ((nvv = realloc(v, cap * sizeof(*v))) == NULL) {
				dx_err_set(err, DX_INTERNAL, "out of memory");
				goto out;
			}
			v = nvv;
		}
		for (size_t j = 0; j < k; j++)
			v[nv++] = labels ? d->labels[j] : d->name;
	}
	if (labels && nv > 0)
		qsort(v, nv, sizeof(*v), cli_list_cmp);
	errno = 0;
	for (size_t i = 0; i < nv; i++)
		if (!labels || i == 0 || strcmp(v[i], v[i - 1]) != 0)
			printf("%s\n", v[i]);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		dx_err_set(err, DX_OUTPUT, "cannot write the list: %s",
		    strerror(errno ? errno : EIO));
		goto out;
	}
	rc = 0;
out:
	free(v);
	return rc;
}

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
	if ((o.explain != NULL) + o.names + o.label_list > 1) {
		cli_fail("give one of --explain, --names and --labels");
		goto out;
	}
	if (cli_resolve(&o, &inv, &idx, &targets, &n) == -1)
		goto out;
	if (o.names || o.label_list)
		r = cli_list_lines(&inv, idx, n, o.label_list, &err);
	else if (o.explain != NULL) {
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
