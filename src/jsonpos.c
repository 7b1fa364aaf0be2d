/*
 * jsonpos.c - positions in raw JSON text (jsonpos.h): a small lexer that
 * skips values without recursing, compares keys decoded, and walks a JSON
 * path to the offset of its value.
 *
 * Theory of operation.  The text has been accepted by jansson, so it is
 * JSON, but the walk does not rely on that: each step checks the bounds,
 * a container is skipped by counting brackets (so no nesting can exhaust
 * the stack), a string's escapes are stepped over two bytes at a time,
 * and when a step cannot be followed (not an object, a missing key, an
 * index past the end) the walk stops at the deepest offset it reached.
 * Offsets become lines and columns by counting newlines and UTF-8 lead
 * bytes, as jansson counts them; dx_jsonpos_lc_advance() counts on from a
 * known position, so that positions visited in file order cost one pass.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "jsonpos.h"

struct jp_lex {
	const char	*p, *end;
};

static void
jp_ws(struct jp_lex *lx)
{
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' ||
	    *lx->p == '\n' || *lx->p == '\r'))
		lx->p++;
}

static void
jp_skip_string(struct jp_lex *lx)
{
	lx->p++;
	while (lx->p < lx->end) {
		if (*lx->p == '\\') {
			lx->p += (lx->end - lx->p >= 2) ? 2 : 1;
			continue;
		}
		if (*lx->p++ == '"')
			return;
	}
}

/*
 * Skips one value.  Containers are skipped by counting brackets rather than
 * by recursion, so no input can exhaust the stack.
 */
static void
jp_skip_value(struct jp_lex *lx)
{
	size_t depth = 0;
	const char *start;

	do {
		jp_ws(lx);
		if (lx->p >= lx->end)
			return;
		switch (*lx->p) {
		case '"':
			jp_skip_string(lx);
			break;
		case '{':
		case '[':
			depth++;
			lx->p++;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			lx->p++;
			break;
		case ',':
		case ':':
			lx->p++;
			break;
		default:
			start = lx->p;
			while (lx->p < lx->end &&
			    strchr(" \t\r\n,:[]{}\"", *lx->p) == NULL)
				lx->p++;
			if (lx->p == start)
				lx->p++;	/* a NUL byte: step over it */
			break;
		}
	} while (depth > 0 && lx->p < lx->end);
}

static int
jp_hex(struct jp_lex *lx, unsigned *out)
{
	unsigned v = 0;
	int i, c;

	if (lx->end - lx->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		c = (unsigned char)lx->p[i];
		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	lx->p += 4;
	*out = v;
	return 0;
}

static size_t
jp_utf8(unsigned cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Reads the string at lx->p (a '"') and says whether, once its escapes are
 * decoded, it equals want.  Keys are compared decoded because jansson hands
 * us decoded keys: "na\u006de" is the field "name".
 */
static bool
jp_key_eq(struct jp_lex *lx, const char *want)
{
	const unsigned char *w = (const unsigned char *)want;
	unsigned char out[4];
	unsigned cp, lo;
	size_t n, k;
	bool eq = true;

	lx->p++;
	while (lx->p < lx->end && *lx->p != '"') {
		if (*lx->p != '\\') {
			out[0] = (unsigned char)*lx->p++;
			n = 1;
		} else {
			if (++lx->p >= lx->end)
				break;
			n = 1;
			switch (*lx->p++) {
			case 'b': out[0] = '\b'; break;
			case 'f': out[0] = '\f'; break;
			case 'n': out[0] = '\n'; break;
			case 'r': out[0] = '\r'; break;
			case 't': out[0] = '\t'; break;
			case 'u':
				if (jp_hex(lx, &cp) == -1) {
					eq = false;
					continue;
				}
				if (cp >= 0xd800 && cp <= 0xdbff &&
				    lx->end - lx->p >= 6 && lx->p[0] == '\\' &&
				    lx->p[1] == 'u') {
					lx->p += 2;
					if (jp_hex(lx, &lo) == 0 &&
					    lo >= 0xdc00 && lo <= 0xdfff)
						cp = 0x10000 + ((cp - 0xd800) << 10) +
						    (lo - 0xdc00);
					else
						eq = false;
				}
				n = jp_utf8(cp, out);
				break;
			default:
				out[0] = (unsigned char)lx->p[-1];
				break;
			}
		}
		for (k = 0; k < n && eq; k++) {
			if (*w == '\0' || *w != out[k])
				eq = false;
			else
				w++;
		}
	}
	if (lx->p < lx->end)
		lx->p++;
	return eq && *w == '\0';
}

/*
 * The offset in text of the value at path (or of its key, when at_key and
 * the last step is a key), or the deepest position the walk reached.
 */
size_t
dx_jsonpos_find(const char *text, size_t len, size_t base,
    const struct dx_jsonpos_step *path, size_t np, bool at_key)
{
	struct jp_lex lx = { text + (base < len ? base : len), text + len };
	const char *best, *keyat;
	size_t i, k;
	bool found;

	jp_ws(&lx);
	best = lx.p;
	for (i = 0; i < np; i++) {
		jp_ws(&lx);
		if (lx.p >= lx.end)
			break;
		best = lx.p;
		found = false;
		if (path[i].key != NULL) {
			if (*lx.p != '{')
				break;
			lx.p++;
			for (;;) {
				jp_ws(&lx);
				if (lx.p >= lx.end || *lx.p != '"')
					break;
				keyat = lx.p;
				found = jp_key_eq(&lx, path[i].key);
				jp_ws(&lx);
				if (lx.p < lx.end && *lx.p == ':')
					lx.p++;
				jp_ws(&lx);
				if (found) {
					best = (at_key && i == np - 1) ? keyat : lx.p;
					break;
				}
				jp_skip_value(&lx);
				jp_ws(&lx);
				if (lx.p >= lx.end || *lx.p != ',')
					break;
				lx.p++;
			}
		} else {
			if (*lx.p != '[')
				break;
			lx.p++;
			for (k = 0; ; k++) {
				jp_ws(&lx);
				if (lx.p >= lx.end || *lx.p == ']')
					break;
				if (k == path[i].index) {
					found = true;
					best = lx.p;
					break;
				}
				jp_skip_value(&lx);
				jp_ws(&lx);
				if (lx.p >= lx.end || *lx.p != ',')
					break;
				lx.p++;
			}
		}
		if (!found)
			break;
	}
	return (size_t)(best - text);
}

size_t
dx_jsonpos_elements(const char *text, size_t len, size_t off, size_t *offs,
    size_t max)
{
	struct jp_lex lx = { text + (off < len ? off : len), text + len };
	size_t k = 0;

	jp_ws(&lx);
	if (lx.p >= lx.end || *lx.p != '[')
		return 0;
	lx.p++;
	while (k < max) {
		jp_ws(&lx);
		if (lx.p >= lx.end || *lx.p == ']')
			break;
		offs[k++] = (size_t)(lx.p - text);
		jp_skip_value(&lx);
		jp_ws(&lx);
		if (lx.p >= lx.end || *lx.p != ',')
			break;
		lx.p++;
	}
	return k;
}

void
dx_jsonpos_lc_init(struct dx_jsonpos_lc *lc)
{
	lc->off = 0;
	lc->line = 1;
	lc->col = 1;
}

/* Lines and columns counted as jansson counts them. */
void
dx_jsonpos_lc_advance(struct dx_jsonpos_lc *lc, const char *text, size_t off)
{
	size_t i;

	if (off < lc->off)
		dx_jsonpos_lc_init(lc);
	for (i = lc->off; i < off; i++) {
		if (text[i] == '\n') {
			lc->line++;
			lc->col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			lc->col++;
	}
	lc->off = off;
}

void
dx_jsonpos_linecol(const char *text, size_t off, int *line, int *col)
{
	struct dx_jsonpos_lc lc;

	dx_jsonpos_lc_init(&lc);
	dx_jsonpos_lc_advance(&lc, text, off);
	*line = lc.line;
	*col = lc.col;
}

