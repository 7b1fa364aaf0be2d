/*
 * queue_error.c - the consolidated error of a finished queue (SPEC section
 * 5): one line that counts failed and skipped drones as dx_queue_summary()
 * does and folds their names per kind into ranges.  It reads the queue
 * only through its public accessors.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dronex.h"
#include "hostset.h"

/*
 * The names of one kind of failure (or skip) keep the line short whatever
 * the size of the fleet: folded into ranges, then cut after this many
 * bytes with a count of the rest.
 */
#define QUEUE_ERROR_NAMES_MAX	160

/*
 * Appends "NAMES (KIND)" (or "NAMES (skipped: KIND)") for every drone with
 * the status and kind of drone first, in the order of dx_queue_add().
 */
static int
queue_error_group(const struct dx_queue *q, size_t first, const char **names,
    FILE *m)
{
	const struct dx_outcome *o = dx_queue_outcome(q, first), *p;
	size_t i, n = 0, omitted = 0, njobs = dx_queue_size(q);
	char *fold;

	for (i = first; i < njobs; i++) {
		p = dx_queue_outcome(q, i);
		if (p->status == o->status && p->error.kind == o->error.kind)
			names[n++] = dx_queue_job(q, i)->name;
	}
	if ((fold = dx_hostset_fold_max(names, n, QUEUE_ERROR_NAMES_MAX,
	    &omitted)) == NULL)
		return -1;
	fputs(fold, m);
	free(fold);
	if (omitted > 0)
		fprintf(m, " and %zu more", omitted);
	if (o->status == DX_ST_SKIPPED)
		fprintf(m, o->error.kind == DX_OK ? " (skipped)" : " (skipped: %s)",
		    dx_kind_name(o->error.kind));
	else
		fprintf(m, " (%s)", dx_kind_name(o->error.kind));
	return 0;
}

char *
dx_queue_error(const struct dx_queue *q)
{
	const struct dx_outcome *o;
	struct dx_summary sum;
	const char **names = NULL;
	const char *drones;
	char *s = NULL;
	size_t len = 0, i, njobs = dx_queue_size(q);
	bool first = true, seen[2][DX_KIND_COUNT + 1];
	unsigned kind;
	FILE *m;

	dx_queue_summary(q, &sum);
	if (sum.failed + sum.skipped == 0)
		return NULL;
	memset(seen, 0, sizeof(seen));
	if ((names = calloc(njobs + 1, sizeof(*names))) == NULL ||
	    (m = open_memstream(&s, &len)) == NULL) {
		free(names);
		return NULL;
	}
	drones = sum.drones == 1 ? "drone" : "drones";
	if (sum.failed > 0 && sum.skipped > 0)
		fprintf(m, "%zu of %zu %s failed, %zu skipped: ", sum.failed,
		    sum.drones, drones, sum.skipped);
	else
		fprintf(m, "%zu of %zu %s %s: ", sum.failed + sum.skipped,
		    sum.drones, drones, sum.failed > 0 ? "failed" : "skipped");
	/* One entry per (status, kind), in the order of its first drone. */
	for (i = 0; i < njobs; i++) {
		o = dx_queue_outcome(q, i);
		if (o->status != DX_ST_FAILED && o->status != DX_ST_SKIPPED)
			continue;
		kind = (unsigned)o->error.kind < DX_KIND_COUNT ?
		    (unsigned)o->error.kind : DX_KIND_COUNT;
		if (seen[o->status == DX_ST_SKIPPED][kind])
			continue;
		seen[o->status == DX_ST_SKIPPED][kind] = true;
		if (!first)
			fputs(", ", m);
		first = false;
		if (queue_error_group(q, i, names, m) == -1) {
			fclose(m);
			free(s);
			free(names);
			return NULL;
		}
	}
	free(names);
	if (fclose(m) != 0) {
		free(s);
		return NULL;
	}
	return s;
}
