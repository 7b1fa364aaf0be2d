/*
 * jobs.h - the queue jobs of a run: one per selected drone, in selection
 * order, each running the drone's own inventory calls first, then the
 * calls given for the whole run (SPEC section 2).  The CLI and a C
 * scheduler build their jobs with the same rule.
 *
 * Declared here rather than in dronex.h because it takes the inventory
 * and the targets, whose headers are not public yet; it moves into
 * dronex.h with them.
 *
 * Ownership: dx_jobs_build() fills a struct dx_jobs whose job array and
 * call lists it owns (dx_jobs_release() frees them; a no-op on a zeroed or
 * released one).  What the jobs point to is borrowed: names and the
 * drones' calls from the inventory, the run's calls from the caller, and
 * job->drone is &targets[i] (const struct dx_target *).  All of it must
 * outlive the queue the jobs are added to.
 */
#ifndef DX_JOBS_H
#define DX_JOBS_H

#include "dronex.h"
#include "inventory.h"
#include "target.h"

struct dx_jobs {
	struct dx_job	*v;		/* n jobs, v[i] for drones[idx[i]] */
	size_t		 n;
	const char     **callv;		/* private: every job's calls, one block */
};

/*
 * Builds the jobs of the n drones inv->drones[idx[0..n)], whose targets
 * are targets[0..n), each with its own calls then calls[0..ncalls).
 * Returns 0, or -1 with err set (DX_INTERNAL, out of memory) and jobs
 * zeroed.
 */
int	dx_jobs_build(struct dx_jobs *jobs, const struct dx_inventory *inv,
	    const size_t *idx, const struct dx_target *targets, size_t n,
	    const char *const *calls, size_t ncalls, struct dx_err *err);
void	dx_jobs_release(struct dx_jobs *);

#endif
