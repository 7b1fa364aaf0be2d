/*
 * throttle.c - the failure record of one drone (throttle.h).
 *
 * The ring keeps the last k failures, newest at head - 1.  With k of them
 * recorded, the oldest (at head) is the k-th most recent: while it lies
 * within the window the drone has k failures in the window, and it stays
 * cooled down until that failure leaves the window.
 */
#include "config.h"

#include <stdlib.h>

#include "throttle.h"

void
dx_throttle_init(struct dx_throttle *th)
{
	th->t = NULL;
	th->k = th->n = th->head = 0;
}

void
dx_throttle_release(struct dx_throttle *th)
{
	free(th->t);
	dx_throttle_init(th);
}

void
dx_throttle_reset(struct dx_throttle *th)
{
	th->n = th->head = 0;
}

int
dx_throttle_fail(struct dx_throttle *th, int k, int64_t now)
{
	int64_t *t;

	if (k <= 0)
		return 0;
	if (th->k != k) {
		/* A new limit (resize, first failure): start the ring over. */
		if ((t = realloc(th->t, (size_t)k * sizeof(*t))) == NULL)
			return -1;
		th->t = t;
		th->k = k;
		th->n = th->head = 0;
	}
	th->t[th->head] = now;
	th->head = (th->head + 1) % th->k;
	if (th->n < th->k)
		th->n++;
	return 0;
}

int
dx_throttle_count(const struct dx_throttle *th, int64_t window_ms, int64_t now)
{
	int c = 0;

	for (int i = 0; i < th->n; i++)
		if (th->t[i] > now - window_ms)
			c++;
	return c;
}

int64_t
dx_throttle_until(const struct dx_throttle *th, int k, int64_t window_ms,
    int64_t now)
{
	int64_t until;

	if (k <= 0 || th->k != k || th->n < k)
		return 0;
	/* A full ring: head is the oldest of the last k. */
	until = th->t[th->head] + window_ms;
	return until > now ? until : 0;
}
