/*
 * serve_status.c - serve's counters and DIR/status.json (SPEC section 7,
 * "dronex status"), written atomically (tmp + fsync + rename) by the main
 * thread on state changes (at most about 5 a second) and every 5 s.
 *
 * Waiting time runs from a request's arrival to its first drone's start,
 * running time from that start to its result.  Each keeps its count and
 * sum for ever and its last SERVE_SAMPLES values (a ring) for p50 and
 * p99: memory stays bounded however long serve runs.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "result.h"
#include "serve.h"

int64_t
serve_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Under mu. */
void
serve_stat_add(struct serve_stat *st, double v)
{
	st->v[st->count % SERVE_SAMPLES] = v;
	st->count++;
	st->sum += v;
}

static int
status_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* {"count", "mean", "p50", "p99"} (under mu). */
static json_t *
status_stat(const struct serve_stat *st)
{
	size_t n = st->count < SERVE_SAMPLES ? (size_t)st->count : SERVE_SAMPLES;
	double p50 = 0, p99 = 0, *v;

	if (n > 0 && (v = malloc(n * sizeof(*v))) != NULL) {
		memcpy(v, st->v, n * sizeof(*v));
		qsort(v, n, sizeof(*v), status_cmp);
		/* Nearest rank: the smallest value with p% of them at or below. */
		p50 = v[(n * 50 + 99) / 100 - 1];
		p99 = v[(n * 99 + 99) / 100 - 1];
		free(v);
	}
	return json_pack("{s:I, s:f, s:f, s:f}", "count", (json_int_t)st->count,
	    "mean", st->count ? st->sum / (double)st->count : 0.0, "p50", p50,
	    "p99", p99);
}

static void
status_cooled(void *arg, const char *name, int failures, int64_t until)
{
	char iso[80];

	dx_iso8601_ms(until, iso);
	json_array_append_new(arg, json_pack("{s:s, s:i, s:s}", "drone", name,
	    "failures", failures, "until", iso));
}

void
serve_status_write(struct serve *s)
{
	struct dx_pool_stats ps = { 0 };
	struct dx_err err = { 0 };
	size_t pending = 0, running = 0;
	json_t *doc, *cooled;
	char started[80], updated[80], *text;

	pthread_mutex_lock(&s->mu);
	for (struct serve_req *r = s->live; r != NULL; r = r->next)
		if (r->state == SR_RUNNING)
			running++;
		else if (r->state == SR_PENDING)
			pending++;
	pthread_mutex_unlock(&s->mu);
	if ((cooled = json_array()) == NULL)
		return;
	if (s->pool != NULL) {
		dx_pool_stats(s->pool, &ps);
		dx_pool_cooled(s->pool, status_cooled, cooled);
	}
	dx_iso8601_ms(s->started_wall, started);
	dx_iso8601_ms(serve_wall_ms(), updated);
	pthread_mutex_lock(&s->mu);
	doc = json_pack("{s:i, s:I, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:o}",
	    "dronex_status", 1, "pid", (json_int_t)getpid(), "started", started,
	    "updated", updated, "paused", s->paused, "draining", s->draining,
	    "fanout", (json_int_t)s->fanout, "pending", (json_int_t)pending,
	    "running", (json_int_t)running, "received", (json_int_t)s->received,
	    "completed", (json_int_t)s->ncompleted,
	    "aborted", (json_int_t)s->naborted,
	    "warm_sessions", (json_int_t)ps.warm,
	    "busy_sessions", (json_int_t)ps.busy,
	    "max_sessions", (json_int_t)(s->pool != NULL ? ps.max : s->max_sessions),
	    "wait_ms", status_stat(&s->wait_ms), "run_ms", status_stat(&s->run_ms),
	    "drones", (json_int_t)s->inv.n, "cooled", cooled);
	pthread_mutex_unlock(&s->mu);
	if (doc == NULL || (text = json_dumps(doc, JSON_COMPACT)) == NULL) {
		json_decref(doc);
		return;
	}
	json_decref(doc);
	if (dx_spool_write(s->spool, NULL, "status.json", text, strlen(text), true,
	    &err) == -1)
		serve_log("cannot write status.json: %s", err.msg);
	free(text);
	s->dirty = false;
}
