/*
 * jsonpos.h - positions in raw JSON text: where the value at a JSON path
 * ( ["drones", 3, "port"] ) begins, as a byte offset and as the line and
 * column jansson would report (lines from 1, columns in UTF-8 characters
 * from 1).
 *
 * jansson's tree carries no positions, so a checker that finds a bad value
 * in the tree walks the text again along the value's path.  The walk runs
 * on text jansson has already accepted, but it never trusts that: every
 * step is bounds-checked, no input can make it recurse, and a path it
 * cannot follow yields the deepest position it reached.  Keys are compared
 * decoded ("na\u006de" is the key "name").  Used by the inventory (errors
 * and the origin of each setting), and meant for `merge` and the spool
 * reader.  Nothing here allocates.
 */
#ifndef DX_JSONPOS_H
#define DX_JSONPOS_H

#include <stdbool.h>
#include <stddef.h>

/* One step of a JSON path: an object key, or (key == NULL) an array index. */
struct dx_jsonpos_step {
	const char	*key;
	size_t		 index;
};

/*
 * The offset of the value at path, walked from the value that starts at
 * offset base (0: the document), or of its key when at_key and the last
 * step is a key; the deepest offset reached when the path is not there.
 */
size_t	dx_jsonpos_find(const char *text, size_t len, size_t base,
	    const struct dx_jsonpos_step *path, size_t np, bool at_key);

/*
 * Fills offs[0..max) with the offsets of the elements of the array that
 * starts at offset off, in one pass; returns how many it filled (0 when
 * off is not an array).
 */
size_t	dx_jsonpos_elements(const char *text, size_t len, size_t off,
	    size_t *offs, size_t max);

/* A line and column at an offset, to count on from there. */
struct dx_jsonpos_lc {
	size_t		 off;
	int		 line, col;
};

/* The start of the text: offset 0, line 1, column 1. */
void	dx_jsonpos_lc_init(struct dx_jsonpos_lc *);
/*
 * Moves lc forward to offset off (counting from where it is), or counts
 * from the start when off lies before it.
 */
void	dx_jsonpos_lc_advance(struct dx_jsonpos_lc *, const char *text,
	    size_t off);
/* Line and column of offset off, counted from the start. */
void	dx_jsonpos_linecol(const char *text, size_t off, int *line, int *col);

#endif
