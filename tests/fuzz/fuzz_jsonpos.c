/*
 * fuzz_jsonpos.c - libFuzzer target for the JSON position locator
 * (jsonpos.h).
 *
 * The locator runs on text jansson accepted, but must never trust it: any
 * byte string goes to it here, accepted by jansson or not.  The first
 * bytes choose a path (keys from a small set, indexes from the bytes);
 * every offset it returns must lie within the text, the elements of an
 * array must come in rising order, and counting lines from a known
 * position must agree with counting from the start.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fz_keys[] = {
	"drones", "defaults", "name", "port", "na\xc3\xa9", "", "jump", "calls"
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dx_jsonpos_step path[4];
	struct dx_jsonpos_lc lc;
	size_t np, i, off, offs[16], n, base;
	const char *text;
	int line, col;

	if (size < 2)
		return 0;
	/* Byte 0: the path's length and shape; byte 1: its keys/indexes. */
	np = data[0] % 5;
	for (i = 0; i < np; i++) {
		unsigned b = (unsigned)(data[1] >> (2 * i)) & 3;

		if (((data[0] >> (3 + i)) & 1) != 0) {
			path[i].key = NULL;
			path[i].index = b;
		} else {
			path[i].key = fz_keys[(b + i * 3u) % 8];
			path[i].index = 0;
		}
	}
	text = (const char *)data + 2;
	size -= 2;
	for (int at_key = 0; at_key < 2; at_key++) {
		off = dx_jsonpos_find(text, size, 0, path, np, at_key);
		if (off > size)
			abort();
		base = off;
		off = dx_jsonpos_find(text, size, base, path, np, at_key);
		if (off > size)
			abort();
	}
	/* Past the end as a base: still within the text. */
	if (dx_jsonpos_find(text, size, size + 7, path, np, false) > size)
		abort();
	n = dx_jsonpos_elements(text, size, dx_jsonpos_find(text, size, 0, path,
	    np, false), offs, 16);
	if (n > 16)
		abort();
	for (i = 0; i < n; i++)
		if (offs[i] >= size || (i > 0 && offs[i] <= offs[i - 1]))
			abort();
	/* Counting on from a position agrees with counting from the start. */
	dx_jsonpos_lc_init(&lc);
	for (i = 0; i < n; i++) {
		dx_jsonpos_lc_advance(&lc, text, offs[i]);
		dx_jsonpos_linecol(text, offs[i], &line, &col);
		if (lc.line != line || lc.col != col || line < 1 || col < 1)
			abort();
	}
	return 0;
}
