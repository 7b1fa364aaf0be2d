/*
 * queue_error.h - the consolidated error (SPEC section 5) built from a
 * plain list of drones, so that whatever holds finished drones can say it
 * the way one run would: the queue (dx_queue_error(), in dronex.h) and
 * "dronex merge", which has only the drones' JSON results.
 *
 * The caller owns the list and its names; the returned string is the
 * caller's to free.
 */
#ifndef DX_QUEUE_ERROR_H
#define DX_QUEUE_ERROR_H

#include <stddef.h>

#include "dronex.h"

/* One finished drone as the error line sees it. */
struct dx_error_entry {
	const char	*name;
	enum dx_status	 status;	/* DX_ST_PENDING counts in drones only */
	enum dx_kind	 kind;		/* for failed and skipped drones */
};

/*
 * The consolidated error of n drones in their order, exactly as
 * dx_queue_error() words it:
 *
 *   4 of 12 drones failed, 4 skipped: web-[01-03] (connect_refused),
 *   db-1 (auth), web-[09-12] (skipped: max_failures)
 *
 * NULL when every drone is ok (or n is 0), and when out of memory: a
 * caller that must tell the two apart counts the statuses itself.
 */
char	*dx_error_line(const struct dx_error_entry *, size_t n);

#endif
