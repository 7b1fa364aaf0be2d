/*
 * queue_error.c - the consolidated error (SPEC section 5): one line that
 * counts failed and skipped drones as dx_queue_summary() does and folds
 * their names per kind into ranges.  dx_error_line() builds it from a plain
 * list of (name, status, kind), so "dronex merge" words a merged run
 * exactly as one run; dx_queue_error() makes that list from a finished
 * queue through its public accessors.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dronex.h"
#include "hostset.h"
#include "queue_error.h"

/*
 * The names of one kind of failure (or skip) keep the line short whatever
 * the size of the fleet: folded into ranges, then cut after this many
 * bytes with a count of the rest.
 */
#define QUEUE_ERROR_NAMES_MAX	160

/* A kind as an index of seen[][], out-of-range values sharing the last. */
static unsigned
queue_error_kind(enum dx_kind k)
{
	return (unsigned)k < DX_KIND_COUNT ? (unsigned)k : DX_KIND_COUNT;
}

/*
 * Appends "NAMES (KIND)" (or "NAMES (skipped: KIND)") for every drone with
 * the status and kind of drone first, in list order.
 */
static int
queue_error_group(const struct dx_error_entry *v, size_t n, size_t first,
    const char **names, FILE *m)
{
	const struct dx_error_entry *o = &v[first];
	size_t i, k = 0, omitted = 0;
	char *fold;

	for (i = first; i < n; i++)
		if (v[i].status == o->status &&
		    queue_error_kind(v[i].kind) == queue_error_kind(o->kind))
			names[k++] = v[i].name;
	if ((fold = dx_hostset_fold_max(names, k, QUEUE_ERROR_NAMES_MAX,
	    &omitted)) == NULL)
		return -1;
	fputs(fold, m);
	free(fold);
	if (omitted > 0)
		fprintf(m, " and %zu more", omitted);
	if (o->status == DX_ST_SKIPPED)
		fprintf(m, o->kind == DX_OK ? " (skipped)" : " (skipped: %s)",
		    dx_kind_name(o->kind));
	else
		fprintf(m, " (%s)", dx_kind_name(o->kind));
	return 0;
}

char *
dx_error_line(const struct dx_error_entry *v, size_t n)
{
	const char **names = NULL;
	const char *drones;
	char *s = NULL;
	size_t len = 0, i, failed = 0, skipped = 0;
	bool first = true, seen[2][DX_KIND_COUNT + 1];
	unsigned kind;
	FILE *m;

	for (i = 0; i < n; i++) {
		failed += v[i].status == DX_ST_FAILED;
		skipped += v[i].status == DX_ST_SKIPPED;
	}
	if (failed + skipped == 0)
		return NULL;
	memset(seen, 0, sizeof(seen));
	if ((names = calloc(n + 1, sizeof(*names))) == NULL ||
	    (m = open_memstream(&s, &len)) == NULL) {
		free(names);
		return NULL;
	}
	drones = n == 1 ? "drone" : "drones";
	if (failed > 0 && skipped > 0)
		fprintf(m, "%zu of %zu %s failed, %zu skipped: ", failed, n,
		    drones, skipped);
	else
		fprintf(m, "%zu of %zu %s %s: ", failed + skipped, n, drones,
		    failed > 0 ? "failed" : "skipped");
	/* One entry per (status, kind), in the order of its first drone. */
	for (i = 0; i < n; i++) {
		if (v[i].status != DX_ST_FAILED && v[i].status != DX_ST_SKIPPED)
			continue;
		kind = queue_error_kind(v[i].kind);
		if (seen[v[i].status == DX_ST_SKIPPED][kind])
			continue;
		seen[v[i].status == DX_ST_SKIPPED][kind] = true;
		if (!first)
			fputs(", ", m);
		first = false;
		if (queue_error_group(v, n, i, names, m) == -1) {
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

char *
dx_queue_error(const struct dx_queue *q)
{
	struct dx_error_entry *v;
	const struct dx_outcome *o;
	size_t i, n = dx_queue_size(q);
	char *s;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		o = dx_queue_outcome(q, i);
		v[i].name = dx_queue_job(q, i)->name;
		v[i].status = o->status;
		v[i].kind = o->error.kind;
	}
	s = dx_error_line(v, n);
	free(v);
	return s;
}
