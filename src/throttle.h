/*
 * throttle.h - error throttling of drones that keep failing to connect
 * (SPEC section 7; autotest's container pool is the model).
 *
 * One record per drone keeps the times of its last K connect failures.
 * The drone is cooled down while K of them lie within the window: until
 * the oldest of those K plus the window, when fewer than K remain.  A
 * success clears the record.  Times are monotonic milliseconds
 * (dx_now_ms()).
 *
 * Ownership: the record is caller storage (dx_throttle_init() /
 * dx_throttle_release()); it allocates its K slots at the first failure.
 * Threads: none of its own; the caller locks.
 */
#ifndef DX_THROTTLE_H
#define DX_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "dronex.h"

struct dx_throttle {
	int64_t		*t;		/* ring of the last k failure times */
	int		 k;		/* slots in t (0 until the first failure) */
	int		 n;		/* failures recorded, at most k */
	int		 head;		/* the next slot to write */
};

void	dx_throttle_init(struct dx_throttle *);
void	dx_throttle_release(struct dx_throttle *);
/* Forgets every failure (a success). */
void	dx_throttle_reset(struct dx_throttle *);
/*
 * Records a failure at now, keeping the last k (k > 0).  Returns 0, or -1
 * when out of memory (the failure is then not counted).
 */
int	dx_throttle_fail(struct dx_throttle *, int k, int64_t now);
/* Failures within window_ms before now. */
int	dx_throttle_count(const struct dx_throttle *, int64_t window_ms,
	    int64_t now);
/*
 * When the cool-down ends (monotonic ms), or 0 when the drone is not
 * cooled down at now: fewer than k failures within window_ms, or k 0.
 */
int64_t	dx_throttle_until(const struct dx_throttle *, int k, int64_t window_ms,
	    int64_t now);

#endif
