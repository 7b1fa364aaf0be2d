/*
 * inventory.c - the drone inventory (SPEC section 2): the schema.
 *
 * Theory of operation.  jansson parses the text (rejecting duplicate keys,
 * so that a second "port" does not silently win) and reports syntax errors
 * with a line and column.  Everything after that is semantic checking on
 * the json_t tree, which carries no positions; when a check fails, the
 * position locator (jsonpos.h) walks the raw text again along the JSON
 * path of the bad value (["drones", 3, "port"]) and the message names its
 * line and column.
 *
 * Each drone is checked field by field in file order, so the first error in
 * the file is the one reported.  No defaults are applied: a drone keeps the
 * values it gives, "defaults" is kept beside the drones, and the line and
 * column of every connection field given is recorded (one pass over the
 * text per drone, counted on from the drone's own position), so that
 * target.c can say where each effective setting came from.  Names go into
 * a small open-addressing hash as they are accepted; it finds duplicates,
 * serves dx_inventory_find(), and lets the jump chains be checked for
 * loops in linear time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "inventory.h"
#include "inventory_int.h"
#include "jsonpos.h"

#define INV_MAX_BYTES		((size_t)64 << 20)

/* The name index: open addressing, slots hold drone index + 1 (0 = free). */
struct inv_index {
	size_t		 mask;
	size_t		*slots;
};

/*
 * The name index.
 */

uint32_t
dx_name_hash(const char *name)
{
	const unsigned char *p;
	uint32_t h = 2166136261u;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

static int
inv_index_new(struct inv_index **out, size_t n)
{
	struct inv_index *ix;
	size_t cap = 16;

	while (cap < n * 2 + 1)
		cap *= 2;
	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return -1;
	if ((ix->slots = calloc(cap, sizeof(*ix->slots))) == NULL) {
		free(ix);
		return -1;
	}
	ix->mask = cap - 1;
	*out = ix;
	return 0;
}

static void
inv_index_free(struct inv_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->slots);
	free(ix);
}

/*
 * Finds name among drones[]; returns its slot.  The slot is free when the
 * name is absent, so that inserting is one store.
 */
static size_t *
inv_index_slot(const struct inv_index *ix, const struct dx_drone *drones,
    const char *name)
{
	size_t i = dx_name_hash(name) & ix->mask;

	while (ix->slots[i] != 0 &&
	    strcmp(drones[ix->slots[i] - 1].name, name) != 0)
		i = (i + 1) & ix->mask;
	return &ix->slots[i];
}

/*
 * Parsing.
 */

static const char *const inv_default_keys[] = {
	"user", "port", "identity", "known_hosts", "connect_timeout", "jump",
	"vars", NULL
};

static bool
inv_known(const char *const *keys, const char *k)
{
	for (; *keys != NULL; keys++)
		if (strcmp(*keys, k) == 0)
			return true;
	return false;
}

/* The key of each dx_inv_field, in enum order. */
static const char *const inv_field_keys[DX_INV_NFIELDS] = {
	"host", "port", "user", "identity", "known_hosts", "jump",
	"connect_timeout"
};

/*
 * Records where each connection field of obj (the object at offset off,
 * whose line and column base holds) starts.  Each field is found by a walk
 * of obj alone, counted on from the object's own position, so that the
 * drones of a file cost one pass over it together.
 */
static void
inv_positions(const struct dx_inv_ctx *cx, json_t *obj, size_t off,
    const struct dx_jsonpos_lc *base, struct dx_inv_pos *pos)
{
	struct dx_jsonpos_step step = { NULL, 0 };
	struct dx_jsonpos_lc lc;
	size_t f;

	for (f = 0; f < DX_INV_NFIELDS; f++) {
		if (json_object_get(obj, inv_field_keys[f]) == NULL)
			continue;
		step.key = inv_field_keys[f];
		lc = *base;
		dx_jsonpos_lc_advance(&lc, cx->text, dx_jsonpos_find(cx->text,
		    cx->len, off, &step, 1, false));
		pos[f].line = lc.line;
		pos[f].col = lc.col;
	}
}

/* Checks "defaults" (obj) into d: a drone with no name, no host. */
static int
inv_parse_defaults(struct dx_inv_ctx *cx, json_t *obj, struct dx_drone *d)
{
	struct dx_jsonpos_step path[2] = { { "defaults", 0 }, { NULL, 0 } };
	struct dx_jsonpos_lc lc;
	const char *k;
	json_t *v;
	size_t off;
	int rc = 0;

	if (!json_is_object(obj))
		return dx_inv_fail(cx, path, 1, false, "defaults",
		    "expected an object");
	snprintf(cx->who, sizeof(cx->who), "defaults");
	json_object_foreach(obj, k, v) {
		path[1].key = k;
		if (!inv_known(inv_default_keys, k))
			rc = dx_inv_fail(cx, path, 2, true, k, "unknown field");
		else if (strcmp(k, "user") == 0)
			rc = dx_inv_host(cx, path, 2, k, v, &d->user);
		else if (strcmp(k, "port") == 0)
			rc = dx_inv_port(cx, path, 2, v, &d->port);
		else if (strcmp(k, "identity") == 0)
			rc = dx_inv_path(cx, path, 2, k, v, &d->identity);
		else if (strcmp(k, "known_hosts") == 0)
			rc = dx_inv_path(cx, path, 2, k, v, &d->known_hosts);
		else if (strcmp(k, "connect_timeout") == 0)
			rc = dx_inv_timeout(cx, path, 2, v, &d->connect_timeout_ms);
		else if (strcmp(k, "vars") == 0) {
			if ((rc = dx_inv_vars(cx, path, 2, v)) == 0)
				d->vars = json_incref(v);
		} else
			rc = dx_inv_host(cx, path, 2, k, v, &d->jump);
		if (rc == -1)
			return -1;
	}
	off = dx_jsonpos_find(cx->text, cx->len, 0, path, 1, false);
	dx_jsonpos_lc_init(&lc);
	dx_jsonpos_lc_advance(&lc, cx->text, off);
	inv_positions(cx, obj, off, &lc, d->pos);
	cx->who[0] = '\0';
	return 0;
}

static const char *const inv_drone_keys[] = {
	"name", "host", "port", "user", "identity", "known_hosts", "labels",
	"priority", "calls", "jump", "connect_timeout", "vars", NULL
};

/*
 * Checks drones[i] (obj) into d and merges the defaults' vars under its
 * own.  The name has been checked and stored by the caller.
 */
static int
inv_parse_drone(struct dx_inv_ctx *cx, size_t i, json_t *obj,
    const struct dx_drone *def, struct dx_drone *d)
{
	struct dx_jsonpos_step path[5] = { { "drones", 0 }, { NULL, i } };
	const char *k;
	json_int_t pr;
	json_t *v, *vars = NULL;
	int rc = 0;

	json_object_foreach(obj, k, v) {
		path[2].key = k;
		if (!inv_known(inv_drone_keys, k))
			rc = dx_inv_fail(cx, path, 3, true, k, "unknown field");
		else if (strcmp(k, "name") == 0)
			continue;
		else if (strcmp(k, "host") == 0 || strcmp(k, "user") == 0)
			rc = dx_inv_host(cx, path, 3, k, v,
			    k[0] == 'h' ? &d->host : &d->user);
		else if (strcmp(k, "jump") == 0) {
			if ((rc = dx_inv_host(cx, path, 3, k, v, &d->jump)) == 0 &&
			    strcmp(d->jump, d->name) == 0)
				rc = dx_inv_fail(cx, path, 3, false, k,
				    "a drone cannot jump through itself");
		} else if (strcmp(k, "port") == 0)
			rc = dx_inv_port(cx, path, 3, v, &d->port);
		else if (strcmp(k, "identity") == 0)
			rc = dx_inv_path(cx, path, 3, k, v, &d->identity);
		else if (strcmp(k, "known_hosts") == 0)
			rc = dx_inv_path(cx, path, 3, k, v, &d->known_hosts);
		else if (strcmp(k, "labels") == 0)
			rc = dx_inv_strings(cx, path, 3, k, v, &d->labels,
			    &d->nlabels);
		else if (strcmp(k, "calls") == 0)
			rc = dx_inv_strings(cx, path, 3, k, v, &d->calls,
			    &d->ncalls);
		else if (strcmp(k, "priority") == 0) {
			if (!json_is_integer(v) ||
			    (pr = json_integer_value(v)) < INT_MIN ||
			    pr > INT_MAX)
				rc = dx_inv_fail(cx, path, 3, false, k,
				    "expected an integer %d to %d", INT_MIN,
				    INT_MAX);
			else
				d->priority = (int)pr;
		} else if (strcmp(k, "vars") == 0) {
			if ((rc = dx_inv_vars(cx, path, 3, v)) == 0)
				vars = v;
		} else
			rc = dx_inv_timeout(cx, path, 3, v, &d->connect_timeout_ms);
		if (rc == -1)
			return -1;
	}
	/*
	 * vars: the defaults' keys, then the drone's own over them (a shallow
	 * merge at the top level, as Ansible merges group and host vars).
	 */
	if (def->vars != NULL || vars != NULL) {
		if ((d->vars = json_object()) == NULL ||
		    (def->vars != NULL &&
		    json_object_update(d->vars, def->vars) == -1) ||
		    (vars != NULL && json_object_update(d->vars, vars) == -1))
			return dx_err_set(cx->err, DX_INTERNAL, "out of memory");
	}
	/* The host defaults to the name (target.c), which must be one. */
	if (d->host == NULL) {
		path[2].key = "name";
		if (dx_check_hostname(d->name, "host", cx->err) == -1)
			return dx_inv_fail(cx, path, 3, false, "name",
			    "%s (the host defaults to the name)", cx->err->msg);
	}
	return 0;
}

/* The drone d jumps through: its own, else defaults.jump unless it is d. */
static const char *
inv_jump_of(const struct dx_inventory *inv, const struct dx_drone *d)
{
	if (d->jump != NULL)
		return d->jump;
	if (inv->defaults.jump != NULL && strcmp(inv->defaults.jump, d->name) != 0)
		return inv->defaults.jump;
	return NULL;
}

/* The index + 1 of the drone that drone j jumps through, or 0. */
static size_t
inv_jump_slot(const struct dx_inventory *inv, const struct inv_index *ix,
    size_t j)
{
	const char *jump = inv_jump_of(inv, &inv->drones[j]);

	return jump != NULL ? *inv_index_slot(ix, inv->drones, jump) : 0;
}

/*
 * Refuses jump chains that come back on themselves (a -> b -> a): they
 * would never connect.  Each drone jumps through at most one drone, so the
 * chains form a functional graph, walked once with three colours.
 */
static int
inv_check_jumps(struct dx_inv_ctx *cx, struct dx_inventory *inv,
    const struct inv_index *ix)
{
	struct dx_jsonpos_step dpath[3] = { { "drones", 0 }, { NULL, 0 },
	    { "jump", 0 } };
	struct dx_jsonpos_step defpath[2] = { { "defaults", 0 }, { "jump", 0 } };
	unsigned char *colour;
	size_t i, j, slot;
	int rc = 0;

	if ((colour = calloc(inv->n ? inv->n : 1, 1)) == NULL)
		return dx_err_set(cx->err, DX_INTERNAL, "out of memory");
	for (i = 0; i < inv->n && rc == 0; i++) {
		/* Walk from i, painting the chain grey, until known ground. */
		for (j = i; colour[j] == 0; ) {
			colour[j] = 1;
			if ((slot = inv_jump_slot(inv, ix, j)) == 0)
				break;
			j = slot - 1;
		}
		if (colour[j] == 1 && inv_jump_slot(inv, ix, j) != 0) {
			snprintf(cx->who, sizeof(cx->who), "drone '%.64s'",
			    inv->drones[i].name);
			dpath[1].index = i;
			rc = inv->drones[i].jump != NULL ?
			    dx_inv_fail(cx, dpath, 3, false, "jump",
			    "jump chain through '%.64s' loops",
			    inv_jump_of(inv, &inv->drones[i])) :
			    dx_inv_fail(cx, defpath, 2, false, "jump",
			    "jump chain through '%.64s' loops",
			    inv_jump_of(inv, &inv->drones[i]));
			break;
		}
		/* Paint the chain black: it ends well. */
		for (j = i; colour[j] == 1; ) {
			colour[j] = 2;
			if ((slot = inv_jump_slot(inv, ix, j)) == 0)
				break;
			j = slot - 1;
		}
	}
	free(colour);
	return rc;
}


int
dx_inventory_parse(struct dx_inventory *inv, const char *text, size_t len,
    const char *name, struct dx_err *err)
{
	struct dx_inv_ctx cx = { text, len, name, err, "" };
	struct inv_index *ix = NULL;
	struct dx_jsonpos_lc lc;
	struct dx_jsonpos_step path[3] = { { "drones", 0 }, { NULL, 0 }, { "name", 0 } };
	json_error_t jerr;
	json_t *root = NULL, *drones, *defaults, *v, *nv;
	const char *k, *why, *nul;
	char plain[160];
	size_t i, j, *slot, *offs = NULL, noffs = 0;
	int line, col, rc = -1;

	memset(inv, 0, sizeof(*inv));
	if (len > INV_MAX_BYTES)
		return dx_err_set(err, DX_INVENTORY, "%s: larger than %zu MiB",
		    name, INV_MAX_BYTES >> 20);
	/*
	 * A UTF-8 byte-order mark, as some Windows editors write, is skipped
	 * (RFC 8259 section 8.1 allows it); positions count from after it,
	 * as those editors show them.
	 */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
		cx.text = text;
		cx.len = len;
	}
	/* jansson would stop at a NUL byte and call it the end of the file. */
	if ((nul = memchr(text, '\0', len)) != NULL) {
		dx_jsonpos_linecol(text, (size_t)(nul - text), &line, &col);
		return dx_err_set(err, DX_INVENTORY, "%s:%d:%d: the file holds a "
		    "NUL byte: it is not JSON text", name, line, col);
	}
	for (i = 0; i < len && text[i] != '\0' &&
	    strchr(" \t\r\n", text[i]) != NULL; i++)
		;
	if (i == len)
		return dx_err_set(err, DX_INVENTORY,
		    "%s:1:1: empty file: expected a JSON object with 'drones'",
		    name);
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return dx_err_set(err, DX_INVENTORY, "%s:%d:%d: %s", name,
		    jerr.line > 0 ? jerr.line : 1,
		    jerr.column > 0 ? jerr.column : 1, dx_inv_plain(jerr.text,
		    plain, sizeof(plain)));
	if (!json_is_object(root)) {
		dx_inv_fail(&cx, NULL, 0, false, NULL,
		    "expected a JSON object with 'drones'");
		goto out;
	}
	json_object_foreach(root, k, v) {
		if (strcmp(k, "defaults") != 0 && strcmp(k, "drones") != 0) {
			path[0].key = k;
			dx_inv_fail(&cx, path, 1, true, k, "unknown field");
			goto out;
		}
	}
	path[0].key = "drones";
	if ((defaults = json_object_get(root, "defaults")) != NULL &&
	    inv_parse_defaults(&cx, defaults, &inv->defaults) == -1)
		goto out;
	if ((drones = json_object_get(root, "drones")) == NULL) {
		dx_inv_fail(&cx, NULL, 0, false, "drones", "missing");
		goto out;
	}
	if (!json_is_array(drones)) {
		dx_inv_fail(&cx, path, 1, false, "drones", "expected an array");
		goto out;
	}

	if ((inv->path = strdup(name)) == NULL ||
	    (inv->drones = calloc(json_array_size(drones) + 1,
	    sizeof(*inv->drones))) == NULL ||
	    (offs = calloc(json_array_size(drones) + 1,
	    sizeof(*offs))) == NULL ||
	    inv_index_new(&ix, json_array_size(drones)) == -1) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	/* Where each drone starts, for the positions of its fields. */
	noffs = dx_jsonpos_elements(text, len, dx_jsonpos_find(text, len, 0,
	    path, 1, false), offs, json_array_size(drones));
	dx_jsonpos_lc_init(&lc);
	json_array_foreach(drones, i, v) {
		struct dx_drone *d = &inv->drones[i];

		path[1].index = i;
		snprintf(cx.who, sizeof(cx.who), "drones[%zu]", i);
		if (!json_is_object(v)) {
			dx_inv_fail(&cx, path, 2, false, NULL, "expected an object");
			goto out;
		}
		if ((nv = json_object_get(v, "name")) == NULL) {
			dx_inv_fail(&cx, path, 2, false, "name", "missing");
			goto out;
		}
		if (!json_is_string(nv)) {
			dx_inv_fail(&cx, path, 3, false, "name", "expected a string");
			goto out;
		}
		if ((why = dx_inv_bad_name(json_string_value(nv))) != NULL) {
			dx_inv_fail(&cx, path, 3, false, "name", "'%.64s' %s",
			    json_string_value(nv), why);
			goto out;
		}
		if ((d->name = strdup(json_string_value(nv))) == NULL) {
			dx_err_set(err, DX_INTERNAL, "out of memory");
			goto out;
		}
		d->index = i;
		inv->n = i + 1;
		snprintf(cx.who, sizeof(cx.who), "drone '%.64s'", d->name);
		slot = inv_index_slot(ix, inv->drones, d->name);
		if (*slot != 0) {
			j = *slot - 1;
			dx_jsonpos_linecol(text, dx_jsonpos_find(text, len, 0,
			    (struct dx_jsonpos_step[]){ { "drones", 0 }, { NULL, j },
			    { "name", 0 } }, 3, false), &line, &col);
			dx_inv_fail(&cx, path, 3, false, "name",
			    "duplicate name, first given at line %d column %d",
			    line, col);
			goto out;
		}
		*slot = i + 1;
		if (inv_parse_drone(&cx, i, v, &inv->defaults, d) == -1)
			goto out;
		if (i < noffs) {
			dx_jsonpos_lc_advance(&lc, text, offs[i]);
			inv_positions(&cx, v, offs[i], &lc, d->pos);
		}
	}
	if (inv_check_jumps(&cx, inv, ix) == -1)
		goto out;
	inv->byname = ix;
	ix = NULL;
	rc = 0;
out:
	if (rc == -1)
		dx_inventory_release(inv);
	inv_index_free(ix);
	free(offs);
	json_decref(root);
	return rc;
}

int
dx_inventory_load(struct dx_inventory *inv, const char *path,
    struct dx_err *err)
{
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	char *text = NULL, *np;
	size_t len = 0, cap = 0;
	struct stat st;
	ssize_t r;
	int fd, rc = -1;

	memset(inv, 0, sizeof(*inv));
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return dx_err_set(err, DX_INVENTORY, "%s: cannot open: %s",
		    name, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uintmax_t)st.st_size > INV_MAX_BYTES) {
		dx_err_set(err, DX_INVENTORY, "%s: larger than %zu MiB", name,
		    INV_MAX_BYTES >> 20);
		goto out;
	}
	for (;;) {
		if (len == cap) {
			/* One byte beyond the limit tells "too large" apart. */
			if (cap > INV_MAX_BYTES) {
				dx_err_set(err, DX_INVENTORY,
				    "%s: larger than %zu MiB", name,
				    INV_MAX_BYTES >> 20);
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			if (cap > INV_MAX_BYTES + 1)
				cap = INV_MAX_BYTES + 1;
			if ((np = realloc(text, cap)) == NULL) {
				dx_err_set(err, DX_INTERNAL, "out of memory");
				goto out;
			}
			text = np;
		}
		r = read(fd, text + len, cap - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			dx_err_set(err, DX_INVENTORY, "%s: cannot read: %s",
			    name, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > INV_MAX_BYTES) {
		dx_err_set(err, DX_INVENTORY, "%s: larger than %zu MiB", name,
		    INV_MAX_BYTES >> 20);
		goto out;
	}
	if (dx_inventory_parse(inv, text, len, name, err) == -1)
		goto out;
	if ((np = strdup(path)) == NULL) {
		dx_inventory_release(inv);
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	free(inv->path);
	inv->path = np;
	rc = 0;
out:
	if (fd != STDIN_FILENO)
		close(fd);
	free(text);
	return rc;
}

int
dx_inventory_adhoc(struct dx_inventory *inv, const struct dx_adhoc *a,
    size_t n, const char *name, struct dx_err *err)
{
	struct inv_index *ix = NULL;
	struct dx_drone *d;
	size_t i, *slot;
	int rc = -1;

	memset(inv, 0, sizeof(*inv));
	if ((inv->path = strdup(name)) == NULL ||
	    (inv->drones = calloc(n + 1, sizeof(*inv->drones))) == NULL ||
	    inv_index_new(&ix, n) == -1)
		goto oom;
	for (i = 0; i < n; i++) {
		slot = inv_index_slot(ix, inv->drones, a[i].name);
		if (*slot != 0)
			continue;
		d = &inv->drones[inv->n];
		d->index = inv->n++;
		d->port = a[i].port;
		if ((d->name = strdup(a[i].name)) == NULL ||
		    (d->host = strdup(a[i].host)) == NULL ||
		    (a[i].user != NULL && (d->user = strdup(a[i].user)) == NULL))
			goto oom;
		*slot = d->index + 1;
	}
	inv->byname = ix;
	ix = NULL;
	rc = 0;
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	inv_index_free(ix);
	if (rc == -1)
		dx_inventory_release(inv);
	return rc;
}

static void
inv_free_strings(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
inv_drone_release(struct dx_drone *d)
{
	free(d->name);
	free(d->host);
	free(d->user);
	free(d->identity);
	free(d->known_hosts);
	free(d->jump);
	inv_free_strings(d->labels, d->nlabels);
	inv_free_strings(d->calls, d->ncalls);
	json_decref(d->vars);
}

void
dx_inventory_release(struct dx_inventory *inv)
{
	size_t i;

	if (inv == NULL)
		return;
	for (i = 0; inv->drones != NULL && i < inv->n; i++)
		inv_drone_release(&inv->drones[i]);
	inv_drone_release(&inv->defaults);
	free(inv->drones);
	free(inv->path);
	inv_index_free(inv->byname);
	memset(inv, 0, sizeof(*inv));
}

const struct dx_drone *
dx_inventory_find(const struct dx_inventory *inv, const char *name)
{
	size_t i, *slot;

	if (inv->byname != NULL) {
		slot = inv_index_slot(inv->byname, inv->drones, name);
		return *slot ? &inv->drones[*slot - 1] : NULL;
	}
	for (i = 0; i < inv->n; i++)
		if (strcmp(inv->drones[i].name, name) == 0)
			return &inv->drones[i];
	return NULL;
}
