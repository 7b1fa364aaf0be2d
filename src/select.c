/*
 * select.c - which drones of an inventory a run covers.
 *
 * Theory of operation.  One flag per drone says "selected".  Each -w sets
 * the flags of the drones it names (all of them when there is no -w): a
 * plain name is looked up in the inventory's name index, so a set of a
 * million names costs a million lookups, not a million times the fleet; a
 * glob or an @LABEL is matched against every drone.  Setting a flag twice
 * is setting it once, which is what makes a selection a set.  -x clears
 * flags the same way, then labels and the shard clear the rest, and each
 * stage that leaves nothing is named in the error.  Walking the flags in
 * order yields the selection in inventory order.  The shard is a hash of
 * the name alone, so a drone lands in the same shard on every machine,
 * whatever else the inventory holds.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostset.h"
#include "select.h"

/* A ^FILE of names is read whole; a bigger one is surely a mistake. */
#define SEL_MAX_FILE	((size_t)64 << 20)

unsigned
dx_shard_of(const char *name, unsigned shard_n)
{
	/* FNV-1a, 32 bits: the inventory's name hash, stable everywhere. */
	return shard_n == 0 ? 0 : dx_name_hash(name) % shard_n;
}

/* Reads path whole into *out (NUL-terminated, the caller frees). */
static int
sel_read_file(const char *path, char **out, struct dx_err *err)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, r;
	FILE *f;
	int rc = -1;

	*out = NULL;
	if (*path == '\0')
		return dx_err_set(err, DX_USAGE, "'^' must be followed by a file name");
	if ((f = fopen(path, "r")) == NULL)
		return dx_err_set(err, DX_USAGE, "cannot read '%.200s': %s", path,
		    strerror(errno));
	for (;;) {
		if (cap - len < 2) {
			if (cap > SEL_MAX_FILE) {
				dx_err_set(err, DX_USAGE, "'%.200s' is larger "
				    "than %zu MiB", path, SEL_MAX_FILE >> 20);
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(buf, cap)) == NULL) {
				dx_err_set(err, DX_INTERNAL, "out of memory");
				goto out;
			}
			buf = nb;
		}
		r = fread(buf + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		dx_err_set(err, DX_USAGE, "cannot read '%.200s': %s", path,
		    strerror(errno));
		goto out;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		dx_err_set(err, DX_USAGE, "'%.200s' holds a NUL byte: it is not a "
		    "list of names", path);
		goto out;
	}
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

/*
 * The next line of a ^FILE with its comment and blanks cut off: sets
 * *line to it (in place) and returns the rest, or NULL at the end.
 */
static char *
sel_next_line(char *p, char **line)
{
	char *nl, *end;

	if (p == NULL || *p == '\0')
		return NULL;
	if ((nl = strchr(p, '\n')) != NULL)
		*nl = '\0';
	if ((end = strchr(p, '#')) != NULL)
		*end = '\0';
	end = p + strlen(p);
	while (end > p && strchr(" \t\r\v\f", end[-1]) != NULL)
		*--end = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	*line = p;
	return nl != NULL ? nl + 1 : p + strlen(p);
}

static bool
sel_has_label(const struct dx_drone *d, const char *label)
{
	size_t i;

	for (i = 0; i < d->nlabels; i++)
		if (strcmp(d->labels[i], label) == 0)
			return true;
	return false;
}

/*
 * Sets (on) or clears (!on) the flag of every drone that spec names.  what
 * prefixes messages ("-w 'web-[1-3]'", "hosts.txt:4"); depth is 1 inside
 * a ^FILE, where another ^FILE is refused.
 */
static int
sel_apply(const struct dx_inventory *inv, const char *spec, const char *what,
    int depth, bool on, bool *flag, struct dx_err *err)
{
	struct dx_hostset set;
	const struct dx_drone *d;
	struct dx_err e;
	char *text = NULL, *p, *line, where[256];
	const char *name;
	size_t i, k, hits, lineno;
	int rc = -1;

	if (dx_hostset_parse(&set, spec, &e) == -1)
		return dx_err_set(err, e.kind, "%s: %s", what, e.msg);
	for (i = 0; i < set.n; i++) {
		name = set.names[i];
		if (name[0] == '^') {
			if (depth > 0) {
				dx_err_set(err, DX_USAGE, "%s: '%.64s': a file of "
				    "names cannot name another file", what, name);
				goto out;
			}
			if (sel_read_file(name + 1, &text, &e) == -1) {
				dx_err_set(err, e.kind, "%s: %s", what, e.msg);
				goto out;
			}
			for (p = text, lineno = 1; (p = sel_next_line(p, &line)) != NULL;
			    lineno++) {
				if (*line == '\0')
					continue;
				snprintf(where, sizeof(where), "%.200s:%zu",
				    name + 1, lineno);
				if (sel_apply(inv, line, where, depth + 1, on, flag,
				    err) == -1)
					goto out;
			}
			free(text);
			text = NULL;
		} else if (name[0] == '@') {
			for (k = 0, hits = 0; k < inv->n; k++)
				if (sel_has_label(&inv->drones[k], name + 1)) {
					flag[k] = on;
					hits++;
				}
			if (hits == 0) {
				dx_err_set(err, DX_USAGE, "%s: no drone carries the "
				    "label '%.64s'", what, name + 1);
				goto out;
			}
		} else if (dx_hostset_is_glob(name)) {
			/* A glob that matches nothing is fine, as in a shell. */
			for (k = 0; k < inv->n; k++)
				if (fnmatch(name, inv->drones[k].name,
				    FNM_NOESCAPE) == 0)
					flag[k] = on;
		} else if ((d = dx_inventory_find(inv, name)) != NULL)
			flag[d - inv->drones] = on;
		else {
			dx_err_set(err, DX_USAGE, "%s: drone '%.64s' is not in the "
			    "inventory", what, name);
			goto out;
		}
	}
	rc = 0;
out:
	free(text);
	dx_hostset_release(&set);
	return rc;
}

/* Applies each of the n sets of option opt ("-w", "-x"). */
static int
sel_apply_all(const struct dx_inventory *inv, const char *const *specs,
    size_t n, const char *opt, bool on, bool *flag, struct dx_err *err)
{
	char what[96];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "%s '%.64s'", opt, specs[i]);
		if (sel_apply(inv, specs[i], what, 0, on, flag, err) == -1)
			return -1;
	}
	return 0;
}

static size_t
sel_count(const bool *flag, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += flag[i];
	return k;
}

/* "no drone carries every label 'web', 'db'" (or "the label 'web'"). */
static int
sel_no_labels(const struct dx_selection *sel, struct dx_err *err)
{
	char list[200] = "";
	size_t i, len = 0;

	for (i = 0; i < sel->nlabels && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s'%.40s'",
		    i ? ", " : "", sel->labels[i]);
	return dx_err_set(err, DX_USAGE, "no %sdrone carries %s %s",
	    sel->ndrones + sel->nexclude > 0 ? "selected " : "",
	    sel->nlabels > 1 ? "every label" : "the label", list);
}

int
dx_select(const struct dx_inventory *inv, const struct dx_selection *sel,
    size_t **idx, size_t *n, struct dx_err *err)
{
	bool *flag = NULL;
	size_t *out = NULL, i, j, k;
	int rc = -1;

	*idx = NULL;
	*n = 0;
	if (sel->shard_n != 0 && (sel->shard_k < 1 || sel->shard_k > sel->shard_n))
		return dx_err_set(err, DX_USAGE,
		    "shard %u/%u: K must be between 1 and N", sel->shard_k,
		    sel->shard_n);
	if ((flag = calloc(inv->n + 1, sizeof(*flag))) == NULL ||
	    (out = calloc(inv->n + 1, sizeof(*out))) == NULL) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	if (inv->n == 0) {
		dx_err_set(err, DX_USAGE, "the inventory '%.200s' holds no drones",
		    inv->path ? inv->path : "");
		goto out;
	}
	if (sel->ndrones == 0)
		for (i = 0; i < inv->n; i++)
			flag[i] = true;
	else if (sel_apply_all(inv, sel->drones, sel->ndrones, "-w", true, flag,
	    err) == -1)
		goto out;
	else if (sel_count(flag, inv->n) == 0) {
		dx_err_set(err, DX_USAGE, "-w matches no drone");
		goto out;
	}
	if (sel_apply_all(inv, sel->exclude, sel->nexclude, "-x", false, flag,
	    err) == -1)
		goto out;
	if (sel->nexclude > 0 && sel_count(flag, inv->n) == 0) {
		dx_err_set(err, DX_USAGE, "-x removed every drone");
		goto out;
	}
	for (i = 0; i < inv->n; i++) {
		for (j = 0; flag[i] && j < sel->nlabels; j++)
			if (!sel_has_label(&inv->drones[i], sel->labels[j]))
				flag[i] = false;
	}
	if (sel_count(flag, inv->n) == 0) {
		sel_no_labels(sel, err);
		goto out;
	}
	/* Only the shard may leave nothing: a fleet smaller than N. */
	for (i = 0, k = 0; i < inv->n; i++) {
		if (!flag[i])
			continue;
		if (sel->shard_n != 0 && dx_shard_of(inv->drones[i].name,
		    sel->shard_n) != sel->shard_k - 1)
			continue;
		out[k++] = i;
	}
	*idx = out;
	*n = k;
	out = NULL;
	rc = 0;
out:
	free(out);
	free(flag);
	return rc;
}

/*
 * Ad-hoc drones: "-w [user@]host[:port]" with no inventory file.
 */

struct sel_adhoc {
	struct dx_adhoc	*v;		/* name, host, user owned (cast) */
	size_t		 n, cap;
};

static void
sel_adhoc_free(struct sel_adhoc *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free((char *)l->v[i].name);
		free((char *)l->v[i].host);
		free((char *)l->v[i].user);
	}
	free(l->v);
}

/*
 * Adds the drone that name (one expanded element) describes.  col is the
 * element's 1-based column in the argument; exact says that name is the
 * argument's own text from col (no range was expanded), so that a column
 * can point at the part in error.
 */
static int
sel_adhoc_one(struct sel_adhoc *l, const char *name, const char *what,
    int col, bool exact, struct dx_err *err)
{
	const char *at, *h, *c, *pc = NULL, *bad = name;
	char *user = NULL, *host = NULL, *end;
	struct dx_adhoc *nv;
	struct dx_err e;
	long port = 0;
	int rc = -1;

	at = strchr(name, '@');
	h = at != NULL ? at + 1 : name;
	if (h[0] == '[') {
		/* An IPv6 address: the brackets are the address's own. */
		if ((c = strchr(h, ']')) == NULL) {
			bad = h;
			dx_err_set(&e, DX_USAGE, "unclosed '['");
			goto fail;
		}
		host = strndup(h + 1, (size_t)(c - h - 1));
		if (c[1] == ':')
			pc = c + 2;
		else if (c[1] != '\0') {
			bad = c + 1;
			dx_err_set(&e, DX_USAGE, "expected ':PORT' after ']'");
			goto fail;
		}
	} else if ((c = strrchr(h, ':')) != NULL && strchr(h, ':') == c) {
		host = strndup(h, (size_t)(c - h));
		pc = c + 1;
	} else
		host = strdup(h);	/* a bare IPv6 address has no port */
	if (host == NULL || (at != NULL &&
	    (user = strndup(name, (size_t)(at - name))) == NULL))
		goto oom;
	if (user != NULL && dx_check_hostname(user, "user", &e) == -1)
		goto fail;
	bad = h;
	if (dx_check_hostname(host, "host", &e) == -1)
		goto fail;
	if (pc != NULL) {
		bad = pc;
		errno = 0;
		port = strtol(pc, &end, 10);
		if (*pc < '0' || *pc > '9' || *end != '\0' || errno != 0 ||
		    port < 1 || port > 65535) {
			dx_err_set(&e, DX_USAGE, "port '%.16s' is not a number "
			    "from 1 to 65535", pc);
			goto fail;
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL)
			goto oom;
		l->v = nv;
	}
	if ((l->v[l->n].name = strdup(name)) == NULL)
		goto oom;
	l->v[l->n].host = host;
	l->v[l->n].user = user;
	l->v[l->n].port = (int)port;
	l->n++;
	host = user = NULL;
	rc = 0;
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
	goto out;
fail:
	dx_err_set(err, DX_USAGE, "%s: column %d: %s", what,
	    col + (exact ? (int)(bad - name) : 0), e.msg);
out:
	free(host);
	free(user);
	return rc;
}

static int sel_adhoc_spec(struct sel_adhoc *, const char *, const char *,
    int, struct dx_err *);

/* One top-level element of a set, at 1-based column col. */
static int
sel_adhoc_elem(struct sel_adhoc *l, const char *elem, const char *what,
    int col, int depth, struct dx_err *err)
{
	struct dx_hostset set;
	struct dx_err e;
	char *text = NULL, *p, *line, where[256];
	const char *h, *c;
	size_t i, lineno;
	int ecol, rc = -1;

	if (elem[0] == '^') {
		if (depth > 0)
			return dx_err_set(err, DX_USAGE, "%s: column %d: a file of "
			    "names cannot name another file", what, col);
		if (sel_read_file(elem + 1, &text, &e) == -1)
			return dx_err_set(err, e.kind, "%s: %s", what, e.msg);
		for (p = text, lineno = 1; (p = sel_next_line(p, &line)) != NULL;
		    lineno++) {
			if (*line == '\0')
				continue;
			snprintf(where, sizeof(where), "%.200s:%zu", elem + 1, lineno);
			if (sel_adhoc_spec(l, line, where, depth + 1, err) == -1)
				goto out;
		}
		rc = 0;
		goto out;
	}
	if (elem[0] == '@')
		return dx_err_set(err, DX_USAGE, "%s: column %d: '%.64s' names a "
		    "label, but there is no inventory", what, col, elem);
	if (dx_hostset_is_glob(elem))
		return dx_err_set(err, DX_USAGE, "%s: column %d: '%.64s' is a "
		    "pattern, but there is no inventory to match it against",
		    what, col, elem);
	h = (h = strchr(elem, '@')) != NULL ? h + 1 : elem;
	if (h[0] == '[' && (c = strchr(h, ']')) != NULL &&
	    memchr(h, ':', (size_t)(c - h)) != NULL)
		return sel_adhoc_one(l, elem, what, col, true, err);
	if (dx_hostset_parse(&set, elem, &e) == -1) {
		/* Its columns count in the element; make them the argument's. */
		if (sscanf(e.msg, "column %d: ", &ecol) == 1 &&
		    (p = strstr(e.msg, ": ")) != NULL)
			return dx_err_set(err, e.kind, "%s: column %d: %s", what,
			    col + ecol - 1, p + 2);
		return dx_err_set(err, e.kind, "%s: column %d: %s", what, col,
		    e.msg);
	}
	for (i = 0; i < set.n; i++)
		if (sel_adhoc_one(l, set.names[i], what, col,
		    set.n == 1 && strcmp(set.names[i], elem) == 0, err) == -1)
			goto out_set;
	rc = 0;
out_set:
	dx_hostset_release(&set);
out:
	free(text);
	return rc;
}

/*
 * Splits spec at the commas outside brackets, as hostset.c does, keeping
 * each element's column, and adds each element.
 */
static int
sel_adhoc_spec(struct sel_adhoc *l, const char *spec, const char *what,
    int depth, struct dx_err *err)
{
	const char *p = spec, *start, *end;
	char *elem;
	int depthb, rc;

	if (*spec == '\0')
		return dx_err_set(err, DX_USAGE, "%s: column 1: empty drone set",
		    what);
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		for (depthb = 0; *p != '\0' && (*p != ',' || depthb > 0); p++)
			if (*p == '[')
				depthb++;
			else if (*p == ']' && depthb > 0)
				depthb--;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end == start)
			return dx_err_set(err, DX_USAGE, "%s: column %d: empty "
			    "element", what, (int)(start - spec) + 1);
		if ((elem = strndup(start, (size_t)(end - start))) == NULL)
			return dx_err_set(err, DX_INTERNAL, "out of memory");
		rc = sel_adhoc_elem(l, elem, what, (int)(start - spec) + 1, depth,
		    err);
		free(elem);
		if (rc == -1)
			return -1;
		if (*p == '\0')
			return 0;
		p++;
	}
}

int
dx_select_adhoc(struct dx_inventory *inv, const char *const *specs,
    size_t nspecs, struct dx_err *err)
{
	struct sel_adhoc l = { 0 };
	char what[96];
	size_t i;
	int rc = -1;

	memset(inv, 0, sizeof(*inv));
	for (i = 0; i < nspecs; i++) {
		snprintf(what, sizeof(what), "-w '%.64s'", specs[i]);
		if (sel_adhoc_spec(&l, specs[i], what, 0, err) == -1)
			goto out;
	}
	rc = dx_inventory_adhoc(inv, l.v, l.n, "-w", err);
out:
	sel_adhoc_free(&l);
	return rc;
}
