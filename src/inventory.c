/*
 * inventory.c - the drone inventory (SPEC section 2).
 *
 * Theory of operation.  jansson parses the text (rejecting duplicate keys,
 * so that a second "port" does not silently win) and reports syntax errors
 * with a line and column.  Everything after that is semantic checking on
 * the json_t tree, which carries no positions; when a check fails, a small
 * position locator walks the raw text again along the JSON path of the bad
 * value (["drones", 3, "port"]) and turns the offset it reaches into a line
 * and column counted the way jansson counts them (lines from 1, columns in
 * UTF-8 characters from 1).  The locator only runs on text that jansson has
 * already accepted, but it never trusts that: every step is bounds-checked
 * and a path it cannot follow yields the deepest position it reached.
 *
 * Each drone is checked field by field in file order, so the first error in
 * the file is the one reported.  Defaults are applied after a drone's own
 * fields: its own value, then "defaults", then the built-in default.  Names
 * go into a small open-addressing hash as they are accepted; it finds
 * duplicates, serves dx_inventory_find(), and lets the jump chains be
 * checked for loops in linear time.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "inventory.h"

#define INV_MAX_BYTES		((size_t)64 << 20)
/* poll(2) takes an int of milliseconds. */
#define INV_MAX_TIMEOUT_S	(INT_MAX / 1000)

/* One step of a JSON path: an object key, or (key == NULL) an array index. */
struct inv_step {
	const char	*key;
	size_t		 index;
};

/* The name index: open addressing, slots hold drone index + 1 (0 = free). */
struct inv_index {
	size_t		 mask;
	size_t		*slots;
};

struct inv_defaults {
	char		*user;
	int		 port;
	char		*identity;
	char		*known_hosts;
	char		*jump;
	int64_t		 connect_timeout_ms;
	json_t		*vars;		/* defaults.vars, borrowed from the tree */
};

/* What a parse is working on, for messages. */
struct inv_ctx {
	const char	*text;
	size_t		 len;
	const char	*file;
	struct dx_err	*err;
	char		 who[96];	/* "drone 'x'", "drones[3]", "defaults" or "" */
};

/*
 * The position locator.
 */

struct inv_lex {
	const char	*p, *end;
};

static void
lx_ws(struct inv_lex *lx)
{
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' ||
	    *lx->p == '\n' || *lx->p == '\r'))
		lx->p++;
}

static void
lx_skip_string(struct inv_lex *lx)
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
lx_skip_value(struct inv_lex *lx)
{
	size_t depth = 0;
	const char *start;

	do {
		lx_ws(lx);
		if (lx->p >= lx->end)
			return;
		switch (*lx->p) {
		case '"':
			lx_skip_string(lx);
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
lx_hex(struct inv_lex *lx, unsigned *out)
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
lx_utf8(unsigned cp, unsigned char *o)
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
lx_key_eq(struct inv_lex *lx, const char *want)
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
				if (lx_hex(lx, &cp) == -1) {
					eq = false;
					continue;
				}
				if (cp >= 0xd800 && cp <= 0xdbff &&
				    lx->end - lx->p >= 6 && lx->p[0] == '\\' &&
				    lx->p[1] == 'u') {
					lx->p += 2;
					if (lx_hex(lx, &lo) == 0 &&
					    lo >= 0xdc00 && lo <= 0xdfff)
						cp = 0x10000 + ((cp - 0xd800) << 10) +
						    (lo - 0xdc00);
					else
						eq = false;
				}
				n = lx_utf8(cp, out);
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
static size_t
inv_locate(const char *text, size_t len, const struct inv_step *path,
    size_t np, bool at_key)
{
	struct inv_lex lx = { text, text + len };
	const char *best, *keyat;
	size_t i, k;
	bool found;

	lx_ws(&lx);
	best = lx.p;
	for (i = 0; i < np; i++) {
		lx_ws(&lx);
		if (lx.p >= lx.end)
			break;
		best = lx.p;
		found = false;
		if (path[i].key != NULL) {
			if (*lx.p != '{')
				break;
			lx.p++;
			for (;;) {
				lx_ws(&lx);
				if (lx.p >= lx.end || *lx.p != '"')
					break;
				keyat = lx.p;
				found = lx_key_eq(&lx, path[i].key);
				lx_ws(&lx);
				if (lx.p < lx.end && *lx.p == ':')
					lx.p++;
				lx_ws(&lx);
				if (found) {
					best = (at_key && i == np - 1) ? keyat : lx.p;
					break;
				}
				lx_skip_value(&lx);
				lx_ws(&lx);
				if (lx.p >= lx.end || *lx.p != ',')
					break;
				lx.p++;
			}
		} else {
			if (*lx.p != '[')
				break;
			lx.p++;
			for (k = 0; ; k++) {
				lx_ws(&lx);
				if (lx.p >= lx.end || *lx.p == ']')
					break;
				if (k == path[i].index) {
					found = true;
					best = lx.p;
					break;
				}
				lx_skip_value(&lx);
				lx_ws(&lx);
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

/* Line and column of offset off, counted as jansson counts them. */
static void
inv_linecol(const char *text, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

/*
 * Fails with "FILE:LINE:COL: WHO: field 'FIELD': what", positioned at the
 * value at path (or its key).  field may be NULL.
 */
static int
inv_fail(struct inv_ctx *cx, const struct inv_step *path, size_t np,
    bool at_key, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int
inv_fail(struct inv_ctx *cx, const struct inv_step *path, size_t np,
    bool at_key, const char *field, const char *fmt, ...)
{
	char what[200], fld[80] = "";
	va_list ap;
	int line, col;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	inv_linecol(cx->text, inv_locate(cx->text, cx->len, path, np, at_key),
	    &line, &col);
	if (field != NULL)
		snprintf(fld, sizeof(fld), "field '%.48s': ", field);
	return dx_err_set(cx->err, DX_INVENTORY, "%s:%d:%d: %s%s%s%s",
	    cx->file, line, col, cx->who, cx->who[0] ? ": " : "", fld, what);
}

/*
 * Checking values.
 */

static const char inv_shell_meta[] = "'`\"$\\;&<>|(){}";

int
dx_check_hostname(const char *value, const char *what, struct dx_err *err)
{
	const unsigned char *p;

	if (value == NULL || *value == '\0')
		return dx_err_set(err, DX_USAGE, "%s must not be empty", what);
	if (*value == '-')
		return dx_err_set(err, DX_USAGE,
		    "%s '%.64s' must not start with '-'", what, value);
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (isspace(*p))
			return dx_err_set(err, DX_USAGE,
			    "%s '%.64s' must not hold whitespace", what, value);
		if (*p < 0x20 || *p == 0x7f)
			return dx_err_set(err, DX_USAGE,
			    "%s must not hold control characters", what);
		if (strchr(inv_shell_meta, *p) != NULL)
			return dx_err_set(err, DX_USAGE,
			    "%s '%.64s' must not hold '%c'", what, value, *p);
	}
	return 0;
}

static pthread_once_t	inv_user_once = PTHREAD_ONCE_INIT;
static char		inv_user_name[256];	/* written once, under inv_user_once */

static void
inv_user_init(void)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	const char *u = NULL;

	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL)
		u = pw.pw_name;
	else
		u = getenv("USER");
	if (u != NULL && strlen(u) < sizeof(inv_user_name))
		strcpy(inv_user_name, u);
}

/* The home directory: $HOME, else the password database's. */
static char *
inv_home(void)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	const char *h;

	if ((h = getenv("HOME")) != NULL && *h != '\0')
		return strdup(h);
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL && pw.pw_dir != NULL && *pw.pw_dir != '\0')
		return strdup(pw.pw_dir);
	return NULL;
}

char *
dx_expand_tilde(const char *path, struct dx_err *err)
{
	char *home, *out = NULL;
	size_t hl;

	if (path[0] != '~' || (path[1] != '\0' && path[1] != '/')) {
		if ((out = strdup(path)) == NULL)
			dx_err_set(err, DX_INTERNAL, "out of memory");
		return out;
	}
	if ((home = inv_home()) == NULL) {
		dx_err_set(err, DX_USAGE,
		    "cannot expand '~' in '%.64s': HOME is not set", path);
		return NULL;
	}
	/* "/" + "/x" would give "//x"; drop the home's trailing slash. */
	hl = strlen(home);
	if (hl > 0 && home[hl - 1] == '/' && path[1] == '/')
		home[--hl] = '\0';
	if (asprintf(&out, "%s%s", home, path + 1) == -1) {
		out = NULL;
		dx_err_set(err, DX_INTERNAL, "out of memory");
	}
	free(home);
	return out;
}

/* Why a drone name cannot be used, or NULL if it can. */
static const char *
inv_bad_name(const char *name)
{
	const unsigned char *p;

	if (*name == '\0')
		return "must not be empty";
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (isspace(*p))
			return "must not hold whitespace";
		if (*p < 0x20 || *p == 0x7f)
			return "must not hold control characters";
		/* These would change its meaning in a drone set (-w, -x). */
		if (*p == ',' || *p == '[' || *p == ']')
			return "must not hold ',', '[' or ']'";
		if (*p == '*' || *p == '?')
			return "must not hold '*' or '?'";
	}
	return NULL;
}

/*
 * Field checkers.  Each takes the path to the value and the value, checks
 * it, and stores it; -1 with the error set otherwise.
 */

static int
inv_string(struct inv_ctx *cx, const struct inv_step *path, size_t np,
    const char *field, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return inv_fail(cx, path, np, false, field, "expected a string");
	*out = json_string_value(v);
	if (**out == '\0')
		return inv_fail(cx, path, np, false, field,
		    "must not be empty");
	return 0;
}

static int
inv_dup(struct inv_ctx *cx, const char *s, char **out)
{
	free(*out);
	if ((*out = strdup(s)) == NULL)
		return dx_err_set(cx->err, DX_INTERNAL, "out of memory");
	return 0;
}

/* host, user and jump: a string that OpenSSH would accept as a host. */
static int
inv_host(struct inv_ctx *cx, const struct inv_step *path, size_t np,
    const char *field, json_t *v, char **out)
{
	struct dx_err e;
	const char *s;

	if (inv_string(cx, path, np, field, v, &s) == -1)
		return -1;
	if (dx_check_hostname(s, field, &e) == -1)
		return inv_fail(cx, path, np, false, field, "%s", e.msg);
	if (strcmp(field, "host") == 0 && strpbrk(s, "@[]") != NULL)
		return inv_fail(cx, path, np, false, field,
		    strchr(s, '@') != NULL ?
		    "host '%.64s' must not hold '@': put the user in 'user'" :
		    "host '%.64s' must not hold brackets: write IPv6 addresses "
		    "bare", s);
	return inv_dup(cx, s, out);
}

static int
inv_path(struct inv_ctx *cx, const struct inv_step *path, size_t np,
    const char *field, json_t *v, char **out)
{
	struct dx_err e;
	const char *s;
	char *x;

	if (inv_string(cx, path, np, field, v, &s) == -1)
		return -1;
	if ((x = dx_expand_tilde(s, &e)) == NULL)
		return inv_fail(cx, path, np, false, field, "%s", e.msg);
	free(*out);
	*out = x;
	return 0;
}

static int
inv_port(struct inv_ctx *cx, const struct inv_step *path, size_t np,
    json_t *v, int *out)
{
	json_int_t n;

	if (!json_is_integer(v) || (n = json_integer_value(v)) < 1 ||
	    n > 65535)
		return inv_fail(cx, path, np, false, "port",
		    "expected an integer 1-65535");
	*out = (int)n;
	return 0;
}

static int
inv_timeout(struct inv_ctx *cx, const struct inv_step *path, size_t np,
    json_t *v, int64_t *out)
{
	double s;

	if (!json_is_number(v))
		return inv_fail(cx, path, np, false, "connect_timeout",
		    "expected a number of seconds");
	s = json_number_value(v);
	if (!(s > 0) || s > INV_MAX_TIMEOUT_S)
		return inv_fail(cx, path, np, false, "connect_timeout",
		    "expected a number of seconds > 0 and at most %d",
		    INV_MAX_TIMEOUT_S);
	/* Round up, so that 0.0001 s still means "set". */
	*out = (int64_t)(s * 1000);
	if ((double)*out < s * 1000 || *out < 1)
		(*out)++;
	return 0;
}

/* labels and calls: an array of non-empty strings. */
static int
inv_strings(struct inv_ctx *cx, struct inv_step *path, size_t np,
    const char *field, json_t *v, char ***out, size_t *nout)
{
	size_t i, n;
	json_t *x;

	if (!json_is_array(v))
		return inv_fail(cx, path, np, false, field,
		    "expected an array of strings");
	n = json_array_size(v);
	if ((*out = calloc(n ? n : 1, sizeof(**out))) == NULL)
		return dx_err_set(cx->err, DX_INTERNAL, "out of memory");
	path[np].key = NULL;
	json_array_foreach(v, i, x) {
		path[np].index = i;
		if (!json_is_string(x))
			return inv_fail(cx, path, np + 1, false, field,
			    "item %zu: expected a string", i);
		if (*json_string_value(x) == '\0')
			return inv_fail(cx, path, np + 1, false, field,
			    "item %zu: must not be empty", i);
		if (((*out)[i] = strdup(json_string_value(x))) == NULL)
			return dx_err_set(cx->err, DX_INTERNAL, "out of memory");
		(*nout)++;
	}
	return 0;
}

/*
 * The name index.
 */

static uint32_t
inv_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
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
	size_t i = inv_hash(name) & ix->mask;

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

/* vars: any JSON object, kept as it is and never interpreted. */
static int
inv_vars(struct inv_ctx *cx, const struct inv_step *path, size_t np,
    json_t *v)
{
	if (!json_is_object(v))
		return inv_fail(cx, path, np, false, "vars",
		    "expected an object");
	return 0;
}

static bool
inv_known(const char *const *keys, const char *k)
{
	for (; *keys != NULL; keys++)
		if (strcmp(*keys, k) == 0)
			return true;
	return false;
}

static int
inv_parse_defaults(struct inv_ctx *cx, json_t *obj, struct inv_defaults *d)
{
	struct inv_step path[2] = { { "defaults", 0 }, { NULL, 0 } };
	const char *k;
	json_t *v;
	int rc = 0;

	if (!json_is_object(obj))
		return inv_fail(cx, path, 1, false, "defaults",
		    "expected an object");
	snprintf(cx->who, sizeof(cx->who), "defaults");
	json_object_foreach(obj, k, v) {
		path[1].key = k;
		if (!inv_known(inv_default_keys, k))
			rc = inv_fail(cx, path, 2, true, k, "unknown field");
		else if (strcmp(k, "user") == 0)
			rc = inv_host(cx, path, 2, k, v, &d->user);
		else if (strcmp(k, "port") == 0)
			rc = inv_port(cx, path, 2, v, &d->port);
		else if (strcmp(k, "identity") == 0)
			rc = inv_path(cx, path, 2, k, v, &d->identity);
		else if (strcmp(k, "known_hosts") == 0)
			rc = inv_path(cx, path, 2, k, v, &d->known_hosts);
		else if (strcmp(k, "connect_timeout") == 0)
			rc = inv_timeout(cx, path, 2, v, &d->connect_timeout_ms);
		else if (strcmp(k, "vars") == 0) {
			if ((rc = inv_vars(cx, path, 2, v)) == 0)
				d->vars = v;
		} else
			rc = inv_host(cx, path, 2, k, v, &d->jump);
		if (rc == -1)
			return -1;
	}
	cx->who[0] = '\0';
	return 0;
}

static const char *const inv_drone_keys[] = {
	"name", "host", "port", "user", "identity", "known_hosts", "labels",
	"priority", "calls", "jump", "connect_timeout", "vars", NULL
};

/*
 * Checks drones[i] (obj) into d, then applies the defaults.  The name has
 * been checked and stored by the caller.
 */
static int
inv_parse_drone(struct inv_ctx *cx, size_t i, json_t *obj,
    const struct inv_defaults *def, struct dx_drone *d)
{
	struct inv_step path[5] = { { "drones", 0 }, { NULL, i } };
	const char *k;
	json_int_t pr;
	json_t *v, *vars = NULL;
	int rc = 0;

	d->port = 0;
	json_object_foreach(obj, k, v) {
		path[2].key = k;
		if (!inv_known(inv_drone_keys, k))
			rc = inv_fail(cx, path, 3, true, k, "unknown field");
		else if (strcmp(k, "name") == 0)
			continue;
		else if (strcmp(k, "host") == 0 || strcmp(k, "user") == 0)
			rc = inv_host(cx, path, 3, k, v,
			    k[0] == 'h' ? &d->host : &d->user);
		else if (strcmp(k, "jump") == 0) {
			if ((rc = inv_host(cx, path, 3, k, v, &d->jump)) == 0 &&
			    strcmp(d->jump, d->name) == 0)
				rc = inv_fail(cx, path, 3, false, k,
				    "a drone cannot jump through itself");
		} else if (strcmp(k, "port") == 0)
			rc = inv_port(cx, path, 3, v, &d->port);
		else if (strcmp(k, "identity") == 0)
			rc = inv_path(cx, path, 3, k, v, &d->identity);
		else if (strcmp(k, "known_hosts") == 0)
			rc = inv_path(cx, path, 3, k, v, &d->known_hosts);
		else if (strcmp(k, "labels") == 0)
			rc = inv_strings(cx, path, 3, k, v, &d->labels,
			    &d->nlabels);
		else if (strcmp(k, "calls") == 0)
			rc = inv_strings(cx, path, 3, k, v, &d->calls,
			    &d->ncalls);
		else if (strcmp(k, "priority") == 0) {
			if (!json_is_integer(v) ||
			    (pr = json_integer_value(v)) < INT_MIN ||
			    pr > INT_MAX)
				rc = inv_fail(cx, path, 3, false, k,
				    "expected an integer %d to %d", INT_MIN,
				    INT_MAX);
			else
				d->priority = (int)pr;
		} else if (strcmp(k, "vars") == 0) {
			if ((rc = inv_vars(cx, path, 3, v)) == 0)
				vars = v;
		} else
			rc = inv_timeout(cx, path, 3, v, &d->connect_timeout_ms);
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

	if (d->host == NULL) {
		path[2].key = "name";
		if (dx_check_hostname(d->name, "host", cx->err) == -1)
			return inv_fail(cx, path, 3, false, "name",
			    "%s (the host defaults to the name)", cx->err->msg);
		if (inv_dup(cx, d->name, &d->host) == -1)
			return -1;
	}
	if (d->user == NULL) {
		if (def->user != NULL)
			rc = inv_dup(cx, def->user, &d->user);
		else {
			pthread_once(&inv_user_once, inv_user_init);
			if (inv_user_name[0] == '\0')
				return inv_fail(cx, path, 2, false, "user",
				    "not given, and the current user has no name");
			rc = inv_dup(cx, inv_user_name, &d->user);
		}
		if (rc == -1)
			return -1;
	}
	if (d->port == 0)
		d->port = def->port ? def->port : 22;
	if (d->identity == NULL && def->identity != NULL &&
	    inv_dup(cx, def->identity, &d->identity) == -1)
		return -1;
	if (d->known_hosts == NULL) {
		if (def->known_hosts != NULL)
			rc = inv_dup(cx, def->known_hosts, &d->known_hosts);
		else if ((d->known_hosts = dx_expand_tilde("~/.ssh/known_hosts",
		    cx->err)) == NULL)
			return inv_fail(cx, path, 2, false, "known_hosts",
			    "%s", cx->err->msg);
		if (rc == -1)
			return -1;
	}
	/* The jump host itself does not jump through itself. */
	if (d->jump == NULL && def->jump != NULL &&
	    strcmp(def->jump, d->name) != 0 &&
	    inv_dup(cx, def->jump, &d->jump) == -1)
		return -1;
	if (d->connect_timeout_ms == 0)
		d->connect_timeout_ms = def->connect_timeout_ms;
	return 0;
}

/*
 * Refuses jump chains that come back on themselves (a -> b -> a): they
 * would never connect.  Each drone jumps through at most one drone, so the
 * chains form a functional graph, walked once with three colours.
 */
static int
inv_check_jumps(struct inv_ctx *cx, struct dx_inventory *inv,
    const struct inv_index *ix, const bool *own_jump)
{
	struct inv_step dpath[3] = { { "drones", 0 }, { NULL, 0 }, { "jump", 0 } };
	struct inv_step defpath[2] = { { "defaults", 0 }, { "jump", 0 } };
	unsigned char *colour;
	size_t i, j, *slot;
	int rc = 0;

	if ((colour = calloc(inv->n ? inv->n : 1, 1)) == NULL)
		return dx_err_set(cx->err, DX_INTERNAL, "out of memory");
	for (i = 0; i < inv->n && rc == 0; i++) {
		/* Walk from i, painting the chain grey, until known ground. */
		for (j = i; colour[j] == 0; ) {
			colour[j] = 1;
			if (inv->drones[j].jump == NULL)
				break;
			slot = inv_index_slot(ix, inv->drones,
			    inv->drones[j].jump);
			if (*slot == 0)
				break;
			j = *slot - 1;
		}
		if (colour[j] == 1 && inv->drones[j].jump != NULL &&
		    *inv_index_slot(ix, inv->drones, inv->drones[j].jump) != 0) {
			snprintf(cx->who, sizeof(cx->who), "drone '%.64s'",
			    inv->drones[i].name);
			dpath[1].index = i;
			rc = own_jump[i] ?
			    inv_fail(cx, dpath, 3, false, "jump",
			    "jump chain through '%.64s' loops", inv->drones[i].jump) :
			    inv_fail(cx, defpath, 2, false, "jump",
			    "jump chain through '%.64s' loops", inv->drones[i].jump);
			break;
		}
		/* Paint the chain black: it ends well. */
		for (j = i; colour[j] == 1; ) {
			colour[j] = 2;
			if (inv->drones[j].jump == NULL ||
			    *(slot = inv_index_slot(ix, inv->drones,
			    inv->drones[j].jump)) == 0)
				break;
			j = *slot - 1;
		}
	}
	free(colour);
	return rc;
}

/*
 * jansson's wording, where it names jansson's own flags or internals, in
 * plain words for the person who edits the file.
 */
static const char *
inv_plain(const char *text, char *buf, size_t size)
{
	unsigned byte;

	if (strstr(text, "JSON_ALLOW_NUL") != NULL)
		return "a string holds a NUL character (\\u0000)";
	if (sscanf(text, "unable to decode byte 0x%x", &byte) == 1) {
		snprintf(buf, size, "not valid UTF-8 (byte 0x%02x): save the "
		    "file as UTF-8", byte);
		return buf;
	}
	return text;
}

int
dx_inventory_parse(struct dx_inventory *inv, const char *text, size_t len,
    const char *name, struct dx_err *err)
{
	struct inv_ctx cx = { text, len, name, err, "" };
	struct inv_defaults def = { 0 };
	struct inv_index *ix = NULL;
	struct inv_step path[3] = { { "drones", 0 }, { NULL, 0 }, { "name", 0 } };
	json_error_t jerr;
	json_t *root = NULL, *drones, *defaults, *v, *nv;
	const char *k, *why, *nul;
	char plain[160];
	bool *own_jump = NULL;
	size_t i, j, *slot;
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
		inv_linecol(text, (size_t)(nul - text), &line, &col);
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
		    jerr.column > 0 ? jerr.column : 1, inv_plain(jerr.text,
		    plain, sizeof(plain)));
	if (!json_is_object(root)) {
		inv_fail(&cx, NULL, 0, false, NULL,
		    "expected a JSON object with 'drones'");
		goto out;
	}
	json_object_foreach(root, k, v) {
		if (strcmp(k, "defaults") != 0 && strcmp(k, "drones") != 0) {
			path[0].key = k;
			inv_fail(&cx, path, 1, true, k, "unknown field");
			goto out;
		}
	}
	path[0].key = "drones";
	if ((defaults = json_object_get(root, "defaults")) != NULL &&
	    inv_parse_defaults(&cx, defaults, &def) == -1)
		goto out;
	if ((drones = json_object_get(root, "drones")) == NULL) {
		inv_fail(&cx, NULL, 0, false, "drones", "missing");
		goto out;
	}
	if (!json_is_array(drones)) {
		inv_fail(&cx, path, 1, false, "drones", "expected an array");
		goto out;
	}

	if ((inv->path = strdup(name)) == NULL ||
	    (inv->drones = calloc(json_array_size(drones) + 1,
	    sizeof(*inv->drones))) == NULL ||
	    (own_jump = calloc(json_array_size(drones) + 1,
	    sizeof(*own_jump))) == NULL ||
	    inv_index_new(&ix, json_array_size(drones)) == -1) {
		dx_err_set(err, DX_INTERNAL, "out of memory");
		goto out;
	}
	json_array_foreach(drones, i, v) {
		struct dx_drone *d = &inv->drones[i];

		path[1].index = i;
		snprintf(cx.who, sizeof(cx.who), "drones[%zu]", i);
		if (!json_is_object(v)) {
			inv_fail(&cx, path, 2, false, NULL, "expected an object");
			goto out;
		}
		if ((nv = json_object_get(v, "name")) == NULL) {
			inv_fail(&cx, path, 2, false, "name", "missing");
			goto out;
		}
		if (!json_is_string(nv)) {
			inv_fail(&cx, path, 3, false, "name", "expected a string");
			goto out;
		}
		if ((why = inv_bad_name(json_string_value(nv))) != NULL) {
			inv_fail(&cx, path, 3, false, "name", "'%.64s' %s",
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
			inv_linecol(text, inv_locate(text, len,
			    (struct inv_step[]){ { "drones", 0 }, { NULL, j },
			    { "name", 0 } }, 3, false), &line, &col);
			inv_fail(&cx, path, 3, false, "name",
			    "duplicate name, first given at line %d column %d",
			    line, col);
			goto out;
		}
		*slot = i + 1;
		own_jump[i] = json_object_get(v, "jump") != NULL;
		if (inv_parse_drone(&cx, i, v, &def, d) == -1)
			goto out;
	}
	if (inv_check_jumps(&cx, inv, ix, own_jump) == -1)
		goto out;
	inv->byname = ix;
	ix = NULL;
	rc = 0;
out:
	if (rc == -1)
		dx_inventory_release(inv);
	inv_index_free(ix);
	free(own_jump);
	free(def.user);
	free(def.identity);
	free(def.known_hosts);
	free(def.jump);
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
	pthread_once(&inv_user_once, inv_user_init);
	for (i = 0; i < n; i++) {
		slot = inv_index_slot(ix, inv->drones, a[i].name);
		if (*slot != 0)
			continue;
		if (a[i].user == NULL && inv_user_name[0] == '\0') {
			dx_err_set(err, DX_USAGE, "'%.64s': no user given, and the "
			    "current user has no name", a[i].name);
			goto out;
		}
		d = &inv->drones[inv->n];
		d->index = inv->n++;
		d->port = a[i].port ? a[i].port : 22;
		if ((d->name = strdup(a[i].name)) == NULL ||
		    (d->host = strdup(a[i].host)) == NULL ||
		    (d->user = strdup(a[i].user ? a[i].user :
		    inv_user_name)) == NULL)
			goto oom;
		if ((d->known_hosts = dx_expand_tilde("~/.ssh/known_hosts",
		    err)) == NULL)
			goto out;
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

void
dx_inventory_release(struct dx_inventory *inv)
{
	struct dx_drone *d;
	size_t i;

	if (inv == NULL)
		return;
	for (i = 0; inv->drones != NULL && i < inv->n; i++) {
		d = &inv->drones[i];
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
