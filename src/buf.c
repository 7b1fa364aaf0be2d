/*
 * buf.c - bounded byte buffers for captured output.
 *
 * Reaching the cap is not an error: the excess is dropped and the buffer
 * says so (truncated).  Memory grows geometrically up to the cap, so a
 * 5 MiB output under a 1 MiB cap never costs more than about 1 MiB.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dronex.h"

void
dx_buf_init(struct dx_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

int
dx_buf_append(struct dx_buf *b, const void *p, size_t n)
{
	size_t room, want, cap;
	char *nd;

	room = b->max - b->len;
	if (n > room) {
		b->truncated = true;
		n = room;
	}
	if (n == 0)
		return 0;
	want = b->len + n + 1;
	if (want > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < want)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		if ((nd = realloc(b->data, cap)) == NULL)
			return -1;
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void
dx_buf_release(struct dx_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
