/*
 * hostset.c - drone sets as pdsh and ClusterShell write them.
 *
 * Theory of operation.  A set is parsed in two passes.  The first pass
 * splits the spec at the commas that stand outside brackets, trims each
 * element, checks every bracket and range in it, and counts how many names
 * the element expands to (the product of its brackets' sizes) and how long
 * the longest of them can be.  Only when the whole spec is valid and its
 * expansion is known to fit under DX_HOSTSET_MAX names (and a byte budget)
 * does the second pass allocate and write the names, walking the brackets
 * of each element like an odometer whose last bracket turns fastest.  So a
 * spec such as "n[1-999999999]" fails at once, before any memory is spent,
 * and the first error reported is the leftmost one in the spec.
 *
 * A bracket's text is parsed twice (once to check, once to expand); the
 * second time it is known to be valid, which keeps the expansion state down
 * to a cursor per bracket instead of a list of ranges.
 */
#include "config.h"

#include <ctype.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostset.h"

/* Longest number in a range, zero padding included; 10^18 fits in 64 bits. */
#define HS_MAX_DIGITS	18

/*
 * The most names, and the most bytes of names, a set may expand to.  The
 * fuzzer (scripts/fuzz) builds with lower limits: at a million names per
 * input it would spend its time in malloc() rather than in the parser.
 * The code paths are the same; tests/unit covers the real limits.
 */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define HS_MAX_NAMES	10000
#define HS_MAX_BYTES	((size_t)1 << 20)
#else
#define HS_MAX_NAMES	DX_HOSTSET_MAX
#define HS_MAX_BYTES	((size_t)256 << 20)
#endif

/* One item of a bracket: "7", "01-20" or "1-10/2". */
struct hs_range {
	uint64_t	 lo, hi, step;
	int		 width;		/* zero padding; 0 = none */
	size_t		 maxdigits;	/* widest number the item prints */
};

/* A bracket of an element, with its expansion cursor. */
struct hs_group {
	const char	*open;		/* the '[' */
	const char	*close;		/* the matching ']' */
	size_t		 count;		/* names the bracket stands for */
	size_t		 maxdigits;
	const char	*item;		/* cursor: current item's start */
	struct hs_range	 r;		/* cursor: current item, parsed */
	uint64_t	 v;		/* cursor: current number */
};

/* One comma-separated element, trimmed. */
struct hs_elem {
	const char	*s, *end;
	struct hs_group	*groups;
	size_t		 ngroups;
	size_t		 count;
	size_t		 maxlen;	/* longest expanded name, without NUL */
};

static int
hs_col(const char *spec, const char *p)
{
	return (int)(p - spec) + 1;
}

static int
hs_error(struct dx_err *err, const char *spec, const char *p, const char *what)
{
	return dx_err_set(err, DX_USAGE, "column %d: %s", hs_col(spec, p), what);
}

static bool
hs_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/*
 * Reads the digits at *pp (not past end) into *v, their count into *len.
 * The caller has checked that *pp points at a digit.
 */
static int
hs_number(const char *spec, const char **pp, const char *end, uint64_t *v,
    size_t *len, struct dx_err *err)
{
	const char *p = *pp;
	uint64_t n = 0;
	size_t k = 0;

	while (p < end && isdigit((unsigned char)*p)) {
		if (++k > HS_MAX_DIGITS)
			return hs_error(err, spec, *pp, "number too big");
		n = n * 10 + (uint64_t)(*p - '0');
		p++;
	}
	*v = n;
	*len = k;
	*pp = p;
	return 0;
}

static size_t
hs_digits(uint64_t v)
{
	size_t k = 1;

	while (v >= 10) {
		v /= 10;
		k++;
	}
	return k;
}

/*
 * Parses one bracket item, [p, end) already trimmed, into r.  Items are
 * "N", "N-M" or "N-M/S".  Zero padding comes from the low bound ("01-20"
 * pads to two digits, "8-10" does not pad); a padded high bound must have
 * the same width, since "1-010" cannot mean anything sensible.
 */
static int
hs_item(const char *spec, const char *p, const char *end, struct hs_range *r,
    struct dx_err *err)
{
	const char *lo_at = p, *hi_at;
	size_t lolen, hilen;
	char what[96];

	if (p == end)
		return hs_error(err, spec, p, "empty range");
	if (!isdigit((unsigned char)*p))
		return hs_error(err, spec, p, "non-digit in range");
	if (hs_number(spec, &p, end, &r->lo, &lolen, err) == -1)
		return -1;
	r->hi = r->lo;
	r->step = 1;
	r->width = (lolen > 1 && *lo_at == '0') ? (int)lolen : 0;
	if (p < end && *p == '-') {
		p++;
		hi_at = p;
		if (p == end)
			return hs_error(err, spec, p, "missing end of range");
		if (!isdigit((unsigned char)*p))
			return hs_error(err, spec, p, "non-digit in range");
		if (hs_number(spec, &p, end, &r->hi, &hilen, err) == -1)
			return -1;
		if (hilen > 1 && *hi_at == '0' && hilen != lolen) {
			snprintf(what, sizeof(what),
			    "zero padding of '%.*s' and '%.*s' differs",
			    (int)lolen, lo_at, (int)hilen, hi_at);
			return hs_error(err, spec, lo_at, what);
		}
		if (r->hi < r->lo) {
			snprintf(what, sizeof(what), "reversed range '%.*s-%.*s'",
			    (int)lolen, lo_at, (int)hilen, hi_at);
			return hs_error(err, spec, lo_at, what);
		}
		if (p < end && *p == '/') {
			p++;
			if (p == end)
				return hs_error(err, spec, p, "missing step");
			if (!isdigit((unsigned char)*p))
				return hs_error(err, spec, p, "non-digit in range");
			hi_at = p;
			if (hs_number(spec, &p, end, &r->step, &hilen, err) == -1)
				return -1;
			if (r->step == 0)
				return hs_error(err, spec, hi_at, "zero step");
		}
	}
	if (p < end)
		return hs_error(err, spec, p, "non-digit in range");
	r->maxdigits = hs_digits(r->hi);
	if ((size_t)r->width > r->maxdigits)
		r->maxdigits = (size_t)r->width;
	return 0;
}

/* The end of the item starting at p inside a bracket closed by close. */
static const char *
hs_item_end(const char *p, const char *close)
{
	while (p < close && *p != ',')
		p++;
	return p;
}

/* Trims blanks from both ends of [*s, *e). */
static void
hs_trim(const char **s, const char **e)
{
	while (*s < *e && hs_blank(**s))
		(*s)++;
	while (*e > *s && hs_blank((*e)[-1]))
		(*e)--;
}


/* Checks every item of g and sums their sizes into g->count. */
static int
hs_group_check(const char *spec, struct hs_group *g, struct dx_err *err)
{
	const char *p = g->open + 1, *s, *e;
	struct hs_range r;
	uint64_t n;

	g->count = 0;
	g->maxdigits = 0;
	for (;;) {
		e = hs_item_end(p, g->close);
		s = p;
		hs_trim(&s, &e);
		if (hs_item(spec, s, e, &r, err) == -1)
			return -1;
		n = (r.hi - r.lo) / r.step + 1;
		if (n > HS_MAX_NAMES - g->count)
			return dx_err_set(err, DX_USAGE,
			    "column %d: range expands to more than %d names",
			    hs_col(spec, s), HS_MAX_NAMES);
		g->count += (size_t)n;
		if (r.maxdigits > g->maxdigits)
			g->maxdigits = r.maxdigits;
		p = hs_item_end(p, g->close);
		if (p == g->close)
			return 0;
		p++;
	}
}

/*
 * Checks the element [s, e) of spec and fills el with its brackets, the
 * number of names it expands to and the longest of them.
 */
static int
hs_elem_check(const char *spec, const char *s, const char *e,
    struct hs_elem *el, struct dx_err *err)
{
	const char *p, *q;
	struct hs_group *g;
	size_t cap = 0, count = 1, len = 0;
	void *ng;

	memset(el, 0, sizeof(*el));
	el->s = s;
	el->end = e;
	for (p = s; p < e; p++) {
		if (*p == ']')
			return hs_error(err, spec, p, "unexpected ']'");
		if (hs_blank(*p))
			return hs_error(err, spec, p, "whitespace in name");
		if (*p != '[') {
			len++;
			continue;
		}
		for (q = p + 1; q < e && *q != ']'; q++)
			if (*q == '[')
				return hs_error(err, spec, q, "nested '['");
		if (q == e)
			return hs_error(err, spec, p, "unclosed '['");
		if (el->ngroups == cap) {
			cap = cap ? cap * 2 : 4;
			if ((ng = reallocarray(el->groups, cap,
			    sizeof(*el->groups))) == NULL)
				return dx_err_set(err, DX_INTERNAL,
				    "out of memory");
			el->groups = ng;
		}
		g = &el->groups[el->ngroups++];
		memset(g, 0, sizeof(*g));
		g->open = p;
		g->close = q;
		if (hs_group_check(spec, g, err) == -1)
			return -1;
		/* Both factors are at most HS_MAX_NAMES: no overflow. */
		if (g->count > HS_MAX_NAMES / count)
			return dx_err_set(err, DX_USAGE,
			    "column %d: element expands to more than %d names",
			    hs_col(spec, s), HS_MAX_NAMES);
		count *= g->count;
		len += g->maxdigits;
		p = q;
	}
	el->count = count;
	el->maxlen = len;
	return 0;
}

/* Loads the item of g that starts at item into g's cursor. */
static void
hs_group_load(struct hs_group *g, const char *item)
{
	const char *s = item, *e = hs_item_end(item, g->close);

	hs_trim(&s, &e);
	g->item = item;
	/* Checked in the first pass: this cannot fail. */
	(void)hs_item(g->open, s, e, &g->r, NULL);
	g->v = g->r.lo;
}

/* Moves g's cursor on; false when it wrapped around to its first name. */
static bool
hs_group_advance(struct hs_group *g)
{
	const char *p;

	if (g->r.hi - g->v >= g->r.step) {
		g->v += g->r.step;
		return true;
	}
	p = hs_item_end(g->item, g->close);
	if (p < g->close) {
		hs_group_load(g, p + 1);
		return true;
	}
	hs_group_load(g, g->open + 1);
	return false;
}

/* Writes el's names to names[], using buf (el->maxlen + 1 bytes). */
static int
hs_elem_expand(struct hs_elem *el, char **names, char *buf, struct dx_err *err)
{
	const char *p;
	char *q;
	size_t i, k, gi;
	int w;

	for (k = 0; k < el->ngroups; k++)
		hs_group_load(&el->groups[k], el->groups[k].open + 1);
	for (i = 0; i < el->count; i++) {
		q = buf;
		gi = 0;
		for (p = el->s; p < el->end; ) {
			if (*p != '[') {
				*q++ = *p++;
				continue;
			}
			w = snprintf(q, el->maxlen + 1 - (size_t)(q - buf),
			    "%0*" PRIu64, el->groups[gi].r.width,
			    el->groups[gi].v);
			q += w;
			p = el->groups[gi].close + 1;
			gi++;
		}
		*q = '\0';
		if ((names[i] = strdup(buf)) == NULL)
			return dx_err_set(err, DX_INTERNAL, "out of memory");
		for (k = el->ngroups; k > 0; k--)
			if (hs_group_advance(&el->groups[k - 1]))
				break;
	}
	return 0;
}

/* The end of the element starting at p: the next comma outside brackets. */
static const char *
hs_elem_end(const char *p)
{
	bool in = false;

	for (; *p != '\0'; p++) {
		if (*p == '[')
			in = true;
		else if (*p == ']')
			in = false;
		else if (*p == ',' && !in)
			break;
	}
	return p;
}

int
dx_hostset_parse(struct dx_hostset *set, const char *spec, struct dx_err *err)
{
	struct hs_elem *els = NULL;
	char **names = NULL, *buf = NULL;
	const char *p, *s, *e;
	size_t nels = 0, cap = 0, total = 0, bytes = 0, maxlen = 0, i, k;
	void *ng;
	int rc = -1;

	set->names = NULL;
	set->n = 0;
	s = spec;
	e = spec + strlen(spec);
	hs_trim(&s, &e);
	if (s == e)
		return dx_err_set(err, DX_USAGE, "column 1: empty drone set");

	for (p = spec; ; p++) {
		s = p;
		e = p = hs_elem_end(p);
		hs_trim(&s, &e);
		if (s == e) {
			hs_error(err, spec, s, "empty element");
			goto out;
		}
		if (nels == cap) {
			cap = cap ? cap * 2 : 8;
			if ((ng = reallocarray(els, cap, sizeof(*els))) == NULL) {
				dx_err_set(err, DX_INTERNAL, "out of memory");
				goto out;
			}
			els = ng;
		}
		if (hs_elem_check(spec, s, e, &els[nels++], err) == -1)
			goto out;
		if (els[nels - 1].count > HS_MAX_NAMES - total) {
			dx_err_set(err, DX_USAGE,
			    "column %d: set expands to more than %d names",
			    hs_col(spec, s), HS_MAX_NAMES);
			goto out;
		}
		total += els[nels - 1].count;
		k = els[nels - 1].maxlen + 1;
		if (els[nels - 1].count > (HS_MAX_BYTES - bytes) / k) {
			dx_err_set(err, DX_USAGE,
			    "column %d: set expands to more than %zu MiB of names",
			    hs_col(spec, s), HS_MAX_BYTES >> 20);
			goto out;
		}
		bytes += els[nels - 1].count * k;
		if (k > maxlen)
			maxlen = k;
		if (*p == '\0')
			break;
	}

	if ((names = calloc(total, sizeof(*names))) == NULL ||
	    (buf = malloc(maxlen)) == NULL) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0, k = 0; i < nels; k += els[i].count, i++)
		if (hs_elem_expand(&els[i], names + k, buf, err) == -1)
			goto out;
	set->names = names;
	set->n = total;
	names = NULL;
	rc = 0;
out:
	if (names != NULL) {
		for (i = 0; i < total; i++)
			free(names[i]);
		free(names);
	}
	for (i = 0; i < nels; i++)
		free(els[i].groups);
	free(els);
	free(buf);
	return rc;
}

bool
dx_hostset_is_glob(const char *element)
{
	return strpbrk(element, "*?") != NULL;
}

bool
dx_hostset_match(const struct dx_hostset *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (dx_hostset_is_glob(set->names[i])) {
			/* A backslash is part of a name, never an escape. */
			if (fnmatch(set->names[i], name, FNM_NOESCAPE) == 0)
				return true;
		} else if (strcmp(set->names[i], name) == 0)
			return true;
	}
	return false;
}

void
dx_hostset_release(struct dx_hostset *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		free(set->names[i]);
	free(set->names);
	set->names = NULL;
	set->n = 0;
}

/*
 * Folding, the inverse of parsing.  Each name is split around its last run
 * of digits into prefix, number and suffix ("web-" "07" ""); names with the
 * same prefix and suffix form a group, sorted by number, and consecutive
 * numbers with the same zero padding become one range.  A name without
 * digits (or with a number too long, or with a character the syntax gives
 * a meaning to) is a group of its own and is written as it is.  Groups are
 * written in the natural order of their first name, so "web-[2-9],web-10x"
 * and "db-[1-2],web-[01-30]" read in the order a person expects.
 */
struct hs_fname {
	const char	*name;
	size_t		 plen;		/* prefix length */
	const char	*digits;	/* NULL: a literal name */
	size_t		 dlen;
	const char	*suffix;
	uint64_t	 v;
};

struct hs_fgroup {
	size_t		 first, n;	/* a run of the sorted hs_fname array */
	const char	*name;		/* its first name */
};

/* strcmp, except that runs of digits compare as numbers ("n2" < "n10"). */
static int
hs_natcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;

	while (i < alen && j < blen) {
		if (isdigit((unsigned char)a[i]) && isdigit((unsigned char)b[j])) {
			size_t si, sj, ei, ej;

			while (i < alen && a[i] == '0' && i + 1 < alen &&
			    isdigit((unsigned char)a[i + 1]))
				i++;
			while (j < blen && b[j] == '0' && j + 1 < blen &&
			    isdigit((unsigned char)b[j + 1]))
				j++;
			for (si = i, ei = i; ei < alen && isdigit((unsigned char)a[ei]); ei++)
				;
			for (sj = j, ej = j; ej < blen && isdigit((unsigned char)b[ej]); ej++)
				;
			if (ei - si != ej - sj)
				return ei - si < ej - sj ? -1 : 1;
			for (; si < ei; si++, sj++)
				if (a[si] != b[sj])
					return (unsigned char)a[si] < (unsigned char)b[sj] ? -1 : 1;
			i = ei;
			j = ej;
			continue;
		}
		if (a[i] != b[j])
			return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
		i++;
		j++;
	}
	if (i < alen || j < blen)
		return i < alen ? 1 : -1;
	return 0;
}

static void
hs_fname_split(struct hs_fname *f, const char *name)
{
	const char *end = name + strlen(name), *d = end, *s;

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->plen = (size_t)(end - name);
	f->suffix = end;
	if (strpbrk(name, "[],*? \t\n\r\v\f") != NULL)
		return;
	while (d > name && !isdigit((unsigned char)d[-1]))
		d--;
	if (d == name)
		return;
	s = d;
	while (d > name && isdigit((unsigned char)d[-1]))
		d--;
	if (s - d > HS_MAX_DIGITS)
		return;
	f->digits = d;
	f->dlen = (size_t)(s - d);
	f->plen = (size_t)(d - name);
	f->suffix = s;
	for (; d < s; d++)
		f->v = f->v * 10 + (uint64_t)(*d - '0');
}

/* Same group: same prefix and suffix, both with a number. */
static bool
hs_fname_same_group(const struct hs_fname *a, const struct hs_fname *b)
{
	return a->digits != NULL && b->digits != NULL && a->plen == b->plen &&
	    memcmp(a->name, b->name, a->plen) == 0 && strcmp(a->suffix, b->suffix) == 0;
}

static int
hs_fname_cmp(const void *pa, const void *pb)
{
	const struct hs_fname *a = pa, *b = pb;
	int c;

	/* Prefixes equal as numbers ("a01-", "a1-") still differ as bytes. */
	if ((c = hs_natcmp(a->name, a->plen, b->name, b->plen)) != 0)
		return c;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	if ((c = memcmp(a->name, b->name, a->plen)) != 0 ||
	    (c = strcmp(a->suffix, b->suffix)) != 0)
		return c;
	if ((a->digits == NULL) != (b->digits == NULL))
		return a->digits == NULL ? -1 : 1;
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	if (a->dlen != b->dlen)
		return a->dlen < b->dlen ? -1 : 1;
	return 0;
}

/* Groups in the natural order of their first names; ties keep their order. */
static int
hs_fgroup_cmp(const void *pa, const void *pb)
{
	const struct hs_fgroup *a = pa, *b = pb;
	int c;

	if ((c = hs_natcmp(a->name, strlen(a->name), b->name, strlen(b->name))) != 0)
		return c;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* The padding a number written as f's digits implies, as hs_item() reads it. */
static int
hs_fname_width(const struct hs_fname *f)
{
	return f->dlen > 1 && f->digits[0] == '0' ? (int)f->dlen : 0;
}

/*
 * Writes one group's element (n names, sorted) into m, keeping it within
 * budget bytes by leaving out the items of the bracket that do not fit;
 * with force, the first item is written even when it does not fit.
 * Returns how many names the written element covers (0: nothing fitted).
 */
static size_t
hs_fgroup_write(FILE *m, const struct hs_fname *f, size_t n, size_t budget,
    bool force)
{
	size_t i, k, d, covered = 0, len, item;
	int w;

	if (n == 1) {
		if (strlen(f[0].name) > budget && !force)
			return 0;
		fputs(f[0].name, m);
		return 1;
	}
	/* prefix, '[', ']' and suffix */
	len = f[0].plen + 2 + strlen(f[0].suffix);
	for (i = 0; i < n; i = k) {
		/*
		 * Extend the run while the next number is one more and is
		 * written as the range would expand it: padded to the low
		 * bound's width, or unpadded when the low bound is.
		 */
		w = hs_fname_width(&f[i]);
		for (k = i + 1; k < n && f[k].v == f[k - 1].v + 1; k++) {
			d = hs_digits(f[k].v);
			if (f[k].dlen != ((size_t)w > d ? (size_t)w : d))
				break;
		}
		item = (i > 0) + f[i].dlen + (k - i > 1 ? 1 + f[k - 1].dlen : 0);
		if (len + item > budget && !(force && i == 0))
			break;
		if (i == 0)
			fprintf(m, "%.*s[", (int)f[0].plen, f[0].name);
		fprintf(m, "%s%.*s", i ? "," : "", (int)f[i].dlen, f[i].digits);
		if (k - i > 1)
			fprintf(m, "-%.*s", (int)f[k - 1].dlen, f[k - 1].digits);
		len += item;
		covered += k - i;
	}
	if (covered > 0)
		fprintf(m, "]%s", f[0].suffix);
	return covered;
}

char *
dx_hostset_fold_max(const char *const *names, size_t n, size_t max,
    size_t *omitted)
{
	struct hs_fname *f = NULL;
	struct hs_fgroup *g = NULL;
	size_t i, ng = 0, m = 0, left = 0, len = 0, covered, budget;
	char *out = NULL, *el = NULL, *grown;
	size_t ellen = 0;
	FILE *ms = NULL;
	bool full = false;

	if ((f = calloc(n + 1, sizeof(*f))) == NULL ||
	    (g = calloc(n + 1, sizeof(*g))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		hs_fname_split(&f[i], names[i]);
	qsort(f, n, sizeof(*f), hs_fname_cmp);
	/* Drop duplicates (they sort next to each other), then form groups. */
	for (i = 0; i < n; i++)
		if (m == 0 || strcmp(f[i].name, f[m - 1].name) != 0)
			f[m++] = f[i];
	for (i = 0; i < m; i++) {
		if (ng > 0 && hs_fname_same_group(&f[g[ng - 1].first], &f[i]))
			g[ng - 1].n++;
		else
			g[ng++] = (struct hs_fgroup){ .first = i, .n = 1,
			    .name = f[i].name };
	}
	qsort(g, ng, sizeof(*g), hs_fgroup_cmp);

	if ((out = malloc(1)) == NULL)
		goto fail;
	out[0] = '\0';
	for (i = 0; i < ng; i++) {
		if (full) {
			left += g[i].n;
			continue;
		}
		budget = SIZE_MAX;
		if (max > 0)
			budget = len + (len > 0) < max ? max - len - (len > 0) : 0;
		if ((ms = open_memstream(&el, &ellen)) == NULL)
			goto fail;
		covered = hs_fgroup_write(ms, &f[g[i].first], g[i].n, budget,
		    len == 0);
		if (fclose(ms) != 0) {
			ms = NULL;
			goto fail;
		}
		ms = NULL;
		if (covered < g[i].n) {
			full = true;
			left += g[i].n - covered;
		}
		if (covered > 0) {
			if ((grown = realloc(out, len + (len > 0) + ellen + 1)) == NULL)
				goto fail;
			out = grown;
			if (len > 0)
				out[len++] = ',';
			memcpy(out + len, el, ellen + 1);
			len += ellen;
		}
		free(el);
		el = NULL;
	}
	if (omitted != NULL)
		*omitted = left;
	free(f);
	free(g);
	return out;
fail:
	if (ms != NULL)
		fclose(ms);
	free(el);
	free(out);
	free(f);
	free(g);
	return NULL;
}

char *
dx_hostset_fold(const char *const *names, size_t n)
{
	return dx_hostset_fold_max(names, n, 0, NULL);
}
