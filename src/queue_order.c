/*
 * queue_order.c - the start order of the queue's waiting jobs: a binary
 * heap on the key (priority, higher first; then add order), which is
 * stable because ids grow in add order.  Each entry knows its position,
 * so a priority change (dx_queue_set_priority()) and an abort
 * (dx_queue_abort_job()) move or take out one entry in O(log n), and a job
 * added while the queue runs takes its place at once.  Every function
 * here runs under the queue's mutex.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "queue.h"

/* Whether a starts before b. */
static bool
order_before(const struct queue_entry *a, const struct queue_entry *b)
{
	if (a->job.priority != b->job.priority)
		return a->job.priority > b->job.priority;
	return a->id < b->id;
}

static void
order_set(struct dx_queue *q, size_t pos, struct queue_entry *e)
{
	q->heap[pos] = e;
	e->heap = pos;
}

static void
order_up(struct dx_queue *q, size_t pos)
{
	struct queue_entry *e = q->heap[pos];
	size_t parent;

	while (pos > 0) {
		parent = (pos - 1) / 2;
		if (!order_before(e, q->heap[parent]))
			break;
		order_set(q, pos, q->heap[parent]);
		pos = parent;
	}
	order_set(q, pos, e);
}

static void
order_down(struct dx_queue *q, size_t pos)
{
	struct queue_entry *e = q->heap[pos];
	size_t child;

	for (;;) {
		child = 2 * pos + 1;
		if (child >= q->nheap)
			break;
		if (child + 1 < q->nheap &&
		    order_before(q->heap[child + 1], q->heap[child]))
			child++;
		if (!order_before(q->heap[child], e))
			break;
		order_set(q, pos, q->heap[child]);
		pos = child;
	}
	order_set(q, pos, e);
}

/* Returns 0, or -1 when out of memory (the entry is then not queued). */
int
queue_heap_push(struct dx_queue *q, struct queue_entry *e)
{
	struct queue_entry **heap;
	size_t cap;

	if (q->nheap == q->heapcap) {
		cap = q->heapcap ? q->heapcap * 2 : 16;
		if (cap > SIZE_MAX / sizeof(*heap) ||
		    (heap = realloc(q->heap, cap * sizeof(*heap))) == NULL)
			return -1;
		q->heap = heap;
		q->heapcap = cap;
	}
	order_set(q, q->nheap++, e);
	order_up(q, e->heap);
	return 0;
}

/* The first job to start, taken out; NULL when none waits. */
struct queue_entry *
queue_heap_pop(struct dx_queue *q)
{
	struct queue_entry *e;

	if (q->nheap == 0)
		return NULL;
	e = q->heap[0];
	queue_heap_remove(q, e);
	return e;
}

void
queue_heap_remove(struct dx_queue *q, struct queue_entry *e)
{
	size_t pos = e->heap;
	struct queue_entry *last;

	last = q->heap[--q->nheap];
	e->heap = SIZE_MAX;
	if (pos == q->nheap)
		return;
	order_set(q, pos, last);
	order_up(q, pos);
	order_down(q, last->heap);
}

/* After e->job.priority changed. */
void
queue_heap_fix(struct dx_queue *q, struct queue_entry *e)
{
	order_up(q, e->heap);
	order_down(q, e->heap);
}
