/*
 * jobs.c - the queue jobs of a run (jobs.h): the rule that a drone's own
 * calls run before the run's, in one place.  Every job's call list is a
 * slice of one allocation, so a fleet costs two allocations, not one per
 * drone.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jobs.h"

int
dx_jobs_build(struct dx_jobs *jobs, const struct dx_inventory *inv,
    const size_t *idx, const struct dx_target *targets, size_t n,
    const char *const *calls, size_t ncalls, struct dx_err *err)
{
	const struct dx_drone *d;
	const char **cv;
	size_t i, k, total = 0;

	memset(jobs, 0, sizeof(*jobs));
	for (i = 0; i < n; i++)
		total += inv->drones[idx[i]].ncalls + ncalls + 1;
	if ((jobs->v = calloc(n + 1, sizeof(*jobs->v))) == NULL ||
	    (jobs->callv = calloc(total + 1, sizeof(*jobs->callv))) == NULL) {
		dx_jobs_release(jobs);
		return dx_err_set(err, DX_INTERNAL, "out of memory");
	}
	for (i = 0, cv = jobs->callv; i < n; i++) {
		d = &inv->drones[idx[i]];
		jobs->v[i].name = d->name;
		jobs->v[i].priority = d->priority;
		jobs->v[i].drone = &targets[i];
		jobs->v[i].calls = cv;
		jobs->v[i].ncalls = d->ncalls + ncalls;
		for (k = 0; k < d->ncalls; k++)
			*cv++ = d->calls[k];
		for (k = 0; k < ncalls; k++)
			*cv++ = calls[k];
		*cv++ = NULL;
	}
	jobs->n = n;
	return 0;
}

void
dx_jobs_release(struct dx_jobs *jobs)
{
	if (jobs == NULL)
		return;
	free(jobs->v);
	free(jobs->callv);
	memset(jobs, 0, sizeof(*jobs));
}
