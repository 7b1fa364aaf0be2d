/*
 * jobs.h - the queue jobs of a run: one per selected drone, in selection
 * order, each running the drone's own inventory calls first, then the
 * calls given for the whole run (SPEC section 2).  The CLI and a C
 * scheduler build their jobs with the same rule.
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

/* Public: dronex.h declares struct dx_jobs, dx_jobs_build() and dx_jobs_release(). */

#endif
