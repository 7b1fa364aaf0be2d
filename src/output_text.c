/*
 * output_text.c - --format text, the results for people (SPEC section 4),
 * laid out as ClusterShell's clubak -b and pdsh's dshbak -c lay them out:
 *
 *   ---------------
 *   web-[01-05,07] (6)          drones whose output is identical, folded
 *   ---------------
 *   <what they printed>
 *   ---------------
 *   db-1 (1)
 *   ---------------
 *   <what it printed>
 *   --------------- not ok: 3 drones
 *   web-[08-09] (2) failed: connect_refused: connection refused ...
 *   db-2 (1) skipped: max_failures: ...
 *   --------------- 10 drones: 7 ok, 2 failed, 1 skipped (1.234 s)
 *
 * What is gathered: the output of the command line's calls (stdout, then
 * stderr, of each call in turn), not that of a drone's own inventory calls,
 * which run first; with no command-line call (opts.own_calls NULL) the
 * inventory calls are all the run has, and their output is gathered.  A
 * drone that printed nothing gets no header: the summary counts it.
 * Groups come in the order of their first drone in the selection.
 *
 * Gathering is linear: each drone's output is hashed (FNV-1a) when it
 * finishes and looked up in an open-addressing table of the outputs seen
 * so far; a drone whose output is already there keeps only a group number
 * and its copy is freed, so 10,000 drones printing the same line hold it
 * once.  Failures are sorted by (status, kind, message) and folded the
 * same way: one line per distinct failure.
 *
 * Nothing a drone sent reaches the terminal raw: bytes outside printable
 * UTF-8 are written escaped -- C0 controls but newline and tab (ESC is
 * "\x1b", CR "\r"), DEL, C1 controls and the bidirectional overrides
 * ("\u009b", "\u202e"), and bytes that are not UTF-8 ("\xff").  A
 * backslash stays as it is.  Names and messages go through the same
 * filter.  A stream that is not text (a NUL byte, or from 32 bytes on,
 * more than a quarter of them to escape) is summarised as "[N bytes of
 * binary stdout]" rather than spelt out byte by byte.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostset.h"
#include "output_int.h"
#include "result.h"
#include "utf8.h"

#define TEXT_RULE	"---------------"
#define TEXT_BOLD	"\033[1m"
#define TEXT_RED	"\033[31m"
#define TEXT_RESET	"\033[0m"
#define TEXT_NONE	SIZE_MAX	/* a drone that printed nothing */

struct text_drone {
	char		*name;		/* NULL: never finished */
	enum dx_status	 status;
	struct dx_err	 error;
	size_t		 group;		/* index into groups, or TEXT_NONE */
};

struct text_group {			/* one distinct output */
	char		*body;
	size_t		 len;
	uint64_t	 hash;
	size_t		 count;		/* drones printing it */
	size_t		 first;		/* the smallest index among them */
};

struct dx_out_text {
	struct text_drone *d;		/* index -> drone */
	size_t		 n;
	struct text_group *g;		/* the distinct outputs */
	size_t		 ng, gcap;
	size_t		*slot;		/* hash table: group + 1, 0 empty */
	size_t		 nslot;		/* a power of two, > 2 * ng */
};

struct dx_out_text *
dx_out_text_new(size_t ndrones)
{
	struct dx_out_text *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->n = ndrones;
	if ((t->d = calloc(ndrones + 1, sizeof(*t->d))) == NULL) {
		free(t);
		return NULL;
	}
	for (size_t i = 0; i < ndrones; i++)
		t->d[i].group = TEXT_NONE;
	return t;
}

void
dx_out_text_free(struct dx_out_text *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->d[i].name);
	for (size_t i = 0; i < t->ng; i++)
		free(t->g[i].body);
	free(t->d);
	free(t->g);
	free(t->slot);
	free(t);
}

/*
 * The length of the well-formed UTF-8 character at s (at most len bytes),
 * its code point in *cp; 0 if the bytes there are not one (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t
text_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xbf))
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return n;
}

/* Characters above ASCII that must not reach a terminal as they are. */
static bool
text_unsafe_cp(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||		/* C1 controls (CSI, OSC) */
	    (cp >= 0x202a && cp <= 0x202e) ||		/* bidi embeddings, overrides */
	    (cp >= 0x2066 && cp <= 0x2069) ||		/* bidi isolates */
	    cp == 0x2028 || cp == 0x2029;		/* line, paragraph separators */
}

/*
 * The number of bytes of s that text_put() escapes, and whether s holds
 * a NUL: what decides that a stream is binary.
 */
static size_t
text_unsafe_bytes(const char *s, size_t len, bool *nul)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, bad = 0, n;
	uint32_t cp;

	*nul = false;
	while (i < len) {
		if (u[i] == '\n' || u[i] == '\t' || (u[i] >= 0x20 && u[i] < 0x7f)) {
			i++;
			continue;
		}
		if (u[i] == 0)
			*nul = true;
		n = text_decode(u + i, len - i, &cp);
		if (n > 1 && !text_unsafe_cp(cp)) {
			i += n;
			continue;
		}
		bad += n > 1 ? n : 1;
		i += n > 1 ? n : 1;
	}
	return bad;
}

/* Writes len bytes of s, everything unsafe escaped (see the top). */
static void
text_put(struct dx_out *o, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, n;
	uint32_t cp;

	while (i < len) {
		if (u[i] == '\n' || u[i] == '\t' || (u[i] >= 0x20 && u[i] < 0x7f)) {
			i++;
			continue;
		}
		n = text_decode(u + i, len - i, &cp);
		if (n > 1 && !text_unsafe_cp(cp)) {
			i += n;
			continue;
		}
		dx_out_write(o, s + run, i - run);
		if (n == 0)
			dx_out_printf(o, "\\x%02x", u[i]);
		else if (n > 1)
			dx_out_printf(o, "\\u%04x", (unsigned)cp);
		else if (u[i] == '\r')
			dx_out_write(o, "\\r", 2);
		else if (u[i] == '\b')
			dx_out_write(o, "\\b", 2);
		else if (u[i] == '\a')
			dx_out_write(o, "\\a", 2);
		else
			dx_out_printf(o, "\\x%02x", u[i]);
		i += n > 1 ? n : 1;
		run = i;
	}
	dx_out_write(o, s + run, i - run);
}

static void
text_puts(struct dx_out *o, const char *s)
{
	text_put(o, s, strlen(s));
}

void
dx_out_put_escaped(FILE *f, const char *s)
{
	struct dx_out o;

	memset(&o, 0, sizeof(o));
	o.f = f;
	text_puts(&o, s);
}

void
dx_out_error_line(FILE *f, const char *error)
{
	fputs("dronex: ", f);
	dx_out_put_escaped(f, error);
	fputc('\n', f);
}

void
dx_out_failure_line(FILE *f, const char *name, enum dx_status st,
    enum dx_kind kind, const char *msg)
{
	fputs("dronex: drone ", f);
	dx_out_put_escaped(f, name);
	fprintf(f, " %s: %s: ", st == DX_ST_SKIPPED ? "skipped" : "failed",
	    dx_kind_name(kind));
	dx_out_put_escaped(f, msg);
	fputc('\n', f);
}

/*
 * What a drone printed in calls [from, ncalls): stdout then stderr per
 * call, each ending in a newline.  A buffer cut by --max-output loses a
 * partial last character, as in the JSON results, so that the cap does
 * not make text look binary.  NULL when out of memory.
 */
static char *
text_body(const struct dx_result *res, size_t from, size_t *lenp)
{
	char *body = NULL;
	size_t len = 0, n, bad;
	bool nul;
	FILE *f;

	if ((f = open_memstream(&body, &len)) == NULL)
		return NULL;
	for (size_t i = from; i < res->ncalls; i++) {
		const struct dx_call_result *c = &res->calls[i];
		const struct dx_buf *b[2] = { &c->out, &c->err };

		for (int k = 0; k < 2; k++) {
			if (b[k]->len == 0)
				continue;
			n = b[k]->len;
			if (b[k]->truncated && dx_utf8_valid(b[k]->data,
			    dx_utf8_trim_partial(b[k]->data, n)))
				n = dx_utf8_trim_partial(b[k]->data, n);
			bad = text_unsafe_bytes(b[k]->data, n, &nul);
			if (nul || (n >= 32 && bad > n / 4)) {
				fprintf(f, "[%zu bytes of binary %s]\n", b[k]->len,
				    k ? "stderr" : "stdout");
			} else {
				fwrite(b[k]->data, 1, n, f);
				if (n > 0 && b[k]->data[n - 1] != '\n')
					fputc('\n', f);
			}
			if (b[k]->truncated)
				fprintf(f, "[%s truncated]\n", k ? "stderr" : "stdout");
		}
	}
	if (fclose(f) != 0) {
		free(body);
		return NULL;
	}
	*lenp = len;
	return body;
}

static uint64_t
text_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Doubles the table (or makes the first); -1 when out of memory. */
static int
text_grow(struct dx_out_text *t)
{
	size_t nslot = t->nslot ? t->nslot * 2 : 64, *slot, j;

	if ((slot = calloc(nslot, sizeof(*slot))) == NULL)
		return -1;
	for (size_t g = 0; g < t->ng; g++) {
		for (j = t->g[g].hash & (nslot - 1); slot[j] != 0;
		    j = (j + 1) & (nslot - 1))
			;
		slot[j] = g + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	return 0;
}

/*
 * The group of body: an existing one (body is then freed) or a new one
 * (body is kept).  TEXT_NONE when out of memory (body freed).
 */
static size_t
text_group(struct dx_out_text *t, char *body, size_t len, size_t index)
{
	uint64_t h = text_hash(body, len);
	struct text_group *g;
	size_t j;

	if ((t->ng + 1) * 2 > t->nslot && text_grow(t) == -1)
		goto oom;
	for (j = h & (t->nslot - 1); t->slot[j] != 0; j = (j + 1) & (t->nslot - 1)) {
		g = &t->g[t->slot[j] - 1];
		if (g->hash == h && g->len == len && memcmp(g->body, body, len) == 0) {
			free(body);
			g->count++;
			if (index < g->first)
				g->first = index;
			return t->slot[j] - 1;
		}
	}
	if (t->ng == t->gcap) {
		size_t cap = t->gcap ? t->gcap * 2 : 16;
		struct text_group *ng = realloc(t->g, cap * sizeof(*ng));

		if (ng == NULL)
			goto oom;
		t->g = ng;
		t->gcap = cap;
	}
	g = &t->g[t->ng];
	g->body = body;
	g->len = len;
	g->hash = h;
	g->count = 1;
	g->first = index;
	t->slot[j] = ++t->ng;
	return t->ng - 1;
oom:
	free(body);
	return TEXT_NONE;
}

int
dx_out_text_drone(struct dx_out *o, size_t index, const char *name,
    const struct dx_result *res)
{
	struct dx_out_text *t = o->text;
	struct text_drone *d = &t->d[index];
	size_t from = o->opts.own_calls ? o->opts.own_calls[index] : 0, len = 0;
	char *body;

	if (d->name != NULL || (d->name = strdup(name)) == NULL)
		return -1;
	d->status = res->status;
	d->error = res->error;
	if ((body = text_body(res, from, &len)) == NULL ||
	    (len > 0 && (d->group = text_group(t, body, len, index)) == TEXT_NONE)) {
		if (len == 0)
			free(body);
		/* Without memory for its output the drone is still listed. */
		d->group = TEXT_NONE;
		dx_err_set(&d->error, DX_INTERNAL,
		    "the output of this drone could not be kept (out of memory)");
		return 0;
	}
	if (len == 0)
		free(body);
	return 0;
}

static const char *
text_plural(size_t n)
{
	return n == 1 ? "drone" : "drones";
}

/* "names (count)", the names folded, in bold on a terminal. */
static int
text_names(struct dx_out *o, const char *const *names, size_t n, bool bold)
{
	char *folded;

	if ((folded = dx_hostset_fold(names, n)) == NULL)
		return -1;
	if (bold)
		dx_out_write(o, TEXT_BOLD, strlen(TEXT_BOLD));
	text_puts(o, folded);
	dx_out_printf(o, " (%zu)", n);
	if (bold)
		dx_out_write(o, TEXT_RESET, strlen(TEXT_RESET));
	free(folded);
	return 0;
}

static int
text_group_cmp(const void *a, const void *b)
{
	const struct text_group *x = *(struct text_group *const *)a;
	const struct text_group *y = *(struct text_group *const *)b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* The gathered outputs, in the order of each group's first drone. */
static int
text_groups(struct dx_out *o)
{
	struct dx_out_text *t = o->text;
	struct text_group **order = NULL;
	const char **names = NULL;
	size_t *start = NULL, *fill = NULL, gi;
	int rc = -1;

	if (t->ng == 0)
		return 0;
	if ((order = calloc(t->ng, sizeof(*order))) == NULL ||
	    (start = calloc(t->ng + 1, sizeof(*start))) == NULL ||
	    (fill = calloc(t->ng, sizeof(*fill))) == NULL ||
	    (names = calloc(t->n + 1, sizeof(*names))) == NULL)
		goto out;
	/* One array of names, each group's slice in index order. */
	for (gi = 0; gi < t->ng; gi++)
		start[gi + 1] = start[gi] + t->g[gi].count;
	for (size_t i = 0; i < t->n; i++)
		if (t->d[i].name != NULL && (gi = t->d[i].group) != TEXT_NONE)
			names[start[gi] + fill[gi]++] = t->d[i].name;
	for (gi = 0; gi < t->ng; gi++)
		order[gi] = &t->g[gi];
	qsort(order, t->ng, sizeof(*order), text_group_cmp);
	for (size_t k = 0; k < t->ng && !o->wfail; k++) {
		gi = (size_t)(order[k] - t->g);
		dx_out_printf(o, TEXT_RULE "\n");
		if (text_names(o, names + start[gi], fill[gi], o->opts.color) == -1)
			goto out;
		dx_out_printf(o, "\n" TEXT_RULE "\n");
		text_put(o, t->g[gi].body, t->g[gi].len);
	}
	rc = 0;
out:
	free(order);
	free(start);
	free(fill);
	free(names);
	return rc;
}

static bool
text_not_ok(const struct text_drone *d)
{
	return d->name != NULL && (d->status != DX_ST_OK || d->error.kind != DX_OK);
}

static int
text_fail_cmp(const void *a, const void *b)
{
	const struct text_drone *x = *(struct text_drone *const *)a;
	const struct text_drone *y = *(struct text_drone *const *)b;
	int c;

	if (x->status != y->status)
		return x->status < y->status ? -1 : 1;
	if (x->error.kind != y->error.kind)
		return x->error.kind < y->error.kind ? -1 : 1;
	if ((c = strcmp(x->error.msg, y->error.msg)) != 0)
		return c;
	return x < y ? -1 : x > y;	/* stable: selection order */
}

/* The drones not ok, one line per (status, kind, message). */
static int
text_failures(struct dx_out *o)
{
	struct dx_out_text *t = o->text;
	struct text_drone **v = NULL;
	const char **names = NULL;
	size_t nv = 0, i, j;
	int rc = -1;

	for (i = 0; i < t->n; i++)
		nv += text_not_ok(&t->d[i]);
	if (nv == 0)
		return 0;
	if ((v = calloc(nv, sizeof(*v))) == NULL ||
	    (names = calloc(nv, sizeof(*names))) == NULL)
		goto out;
	for (i = 0, j = 0; i < t->n; i++)
		if (text_not_ok(&t->d[i]))
			v[j++] = &t->d[i];
	qsort(v, nv, sizeof(*v), text_fail_cmp);
	dx_out_printf(o, TEXT_RULE " not ok: %zu %s\n", nv, text_plural(nv));
	for (i = 0; i < nv && !o->wfail; i = j) {
		const struct text_drone *d = v[i];

		for (j = i; j < nv && v[j]->status == d->status &&
		    v[j]->error.kind == d->error.kind &&
		    strcmp(v[j]->error.msg, d->error.msg) == 0; j++)
			names[j - i] = v[j]->name;
		if (o->opts.color)
			dx_out_write(o, TEXT_RED, strlen(TEXT_RED));
		if (text_names(o, names, j - i, false) == -1)
			goto out;
		dx_out_printf(o, " %s: %s: ", dx_status_name(d->status),
		    dx_kind_name(d->error.kind));
		text_puts(o, d->error.msg);
		if (o->opts.color)
			dx_out_write(o, TEXT_RESET, strlen(TEXT_RESET));
		dx_out_write(o, "\n", 1);
	}
	rc = 0;
out:
	free(v);
	free(names);
	return rc;
}

int
dx_out_text_finish(struct dx_out *o, const struct dx_summary *sum,
    int64_t elapsed_ms, struct dx_err *err)
{
	if (text_groups(o) == -1 || text_failures(o) == -1) {
		if (o->wfail)
			return dx_out_fail(o, err);
		return dx_err_set(err, DX_INTERNAL, "out of memory");
	}
	dx_out_printf(o, TEXT_RULE " %zu %s: %zu ok", sum->drones,
	    text_plural(sum->drones), sum->ok);
	if (sum->failed > 0)
		dx_out_printf(o, ", %zu failed", sum->failed);
	if (sum->skipped > 0)
		dx_out_printf(o, ", %zu skipped", sum->skipped);
	if (o->opts.shard != NULL) {
		dx_out_printf(o, ", shard ");
		text_puts(o, o->opts.shard);
	}
	dx_out_printf(o, " (%.3f s)\n", (double)elapsed_ms / 1000.0);
	dx_out_flush(o);
	return o->wfail ? dx_out_fail(o, err) : 0;
}
