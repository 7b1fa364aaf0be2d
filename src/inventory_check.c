/*
 * inventory_check.c - checking one value of the inventory (inventory.h):
 * each checker takes the JSON path to the value and the value, checks it
 * against the schema, stores it, and otherwise fails with the value's
 * file, line, column and field (dx_inv_fail(), positioned by jsonpos.h).
 * Also the rules for names: what a drone name and a host or user name may
 * hold.  inventory.c walks the document and calls these.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "inventory_int.h"
#include "jsonpos.h"

/*
 * Fails with "FILE:LINE:COL: WHO: field 'FIELD': what", positioned at the
 * value at path (or its key).  field may be NULL.
 */
int
dx_inv_fail(struct dx_inv_ctx *cx, const struct dx_jsonpos_step *path, size_t np,
    bool at_key, const char *field, const char *fmt, ...)
{
	char what[200], fld[80] = "";
	va_list ap;
	int line, col;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	dx_jsonpos_linecol(cx->text, dx_jsonpos_find(cx->text, cx->len, 0, path,
	    np, at_key), &line, &col);
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

/* Why a drone name cannot be used, or NULL if it can. */
const char *
dx_inv_bad_name(const char *name)
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

int
dx_inv_string(struct dx_inv_ctx *cx, const struct dx_jsonpos_step *path, size_t np,
    const char *field, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return dx_inv_fail(cx, path, np, false, field, "expected a string");
	*out = json_string_value(v);
	if (**out == '\0')
		return dx_inv_fail(cx, path, np, false, field,
		    "must not be empty");
	return 0;
}

int
dx_inv_dup(struct dx_inv_ctx *cx, const char *s, char **out)
{
	free(*out);
	if ((*out = strdup(s)) == NULL)
		return dx_err_set(cx->err, DX_INTERNAL, "out of memory");
	return 0;
}

/* host, user and jump: a string that OpenSSH would accept as a host. */
int
dx_inv_host(struct dx_inv_ctx *cx, const struct dx_jsonpos_step *path, size_t np,
    const char *field, json_t *v, char **out)
{
	struct dx_err e;
	const char *s;

	if (dx_inv_string(cx, path, np, field, v, &s) == -1)
		return -1;
	if (dx_check_hostname(s, field, &e) == -1)
		return dx_inv_fail(cx, path, np, false, field, "%s", e.msg);
	if (strcmp(field, "host") == 0 && strpbrk(s, "@[]") != NULL)
		return dx_inv_fail(cx, path, np, false, field,
		    strchr(s, '@') != NULL ?
		    "host '%.64s' must not hold '@': put the user in 'user'" :
		    "host '%.64s' must not hold brackets: write IPv6 addresses "
		    "bare", s);
	return dx_inv_dup(cx, s, out);
}

int
dx_inv_path(struct dx_inv_ctx *cx, const struct dx_jsonpos_step *path, size_t np,
    const char *field, json_t *v, char **out)
{
	struct dx_err e;
	const char *s;
	char *x;

	if (dx_inv_string(cx, path, np, field, v, &s) == -1)
		return -1;
	if ((x = dx_expand_tilde(s, &e)) == NULL)
		return dx_inv_fail(cx, path, np, false, field, "%s", e.msg);
	free(*out);
	*out = x;
	return 0;
}

int
dx_inv_port(struct dx_inv_ctx *cx, const struct dx_jsonpos_step *path, size_t np,
    json_t *v, int *out)
{
	json_int_t n;

	if (!json_is_integer(v) || (n = json_integer_value(v)) < 1 ||
	    n > 65535)
		return dx_inv_fail(cx, path, np, false, "port",
		    "expected an integer 1-65535");
	*out = (int)n;
	return 0;
}

int
dx_inv_timeout(struct dx_inv_ctx *cx, const struct dx_jsonpos_step *path, size_t np,
    json_t *v, int64_t *out)
{
	double s;

	if (!json_is_number(v))
		return dx_inv_fail(cx, path, np, false, "connect_timeout",
		    "expected a number of seconds");
	s = json_number_value(v);
	if (!(s > 0) || s > INV_MAX_TIMEOUT_S)
		return dx_inv_fail(cx, path, np, false, "connect_timeout",
		    "expected a number of seconds > 0 and at most %d",
		    INV_MAX_TIMEOUT_S);
	/* Round up, so that 0.0001 s still means "set". */
	*out = (int64_t)(s * 1000);
	if ((double)*out < s * 1000 || *out < 1)
		(*out)++;
	return 0;
}

/* labels and calls: an array of non-empty strings. */
int
dx_inv_strings(struct dx_inv_ctx *cx, struct dx_jsonpos_step *path, size_t np,
    const char *field, json_t *v, char ***out, size_t *nout)
{
	size_t i, n;
	json_t *x;

	if (!json_is_array(v))
		return dx_inv_fail(cx, path, np, false, field,
		    "expected an array of strings");
	n = json_array_size(v);
	if ((*out = calloc(n ? n : 1, sizeof(**out))) == NULL)
		return dx_err_set(cx->err, DX_INTERNAL, "out of memory");
	path[np].key = NULL;
	json_array_foreach(v, i, x) {
		path[np].index = i;
		if (!json_is_string(x))
			return dx_inv_fail(cx, path, np + 1, false, field,
			    "item %zu: expected a string", i);
		if (*json_string_value(x) == '\0')
			return dx_inv_fail(cx, path, np + 1, false, field,
			    "item %zu: must not be empty", i);
		if (((*out)[i] = strdup(json_string_value(x))) == NULL)
			return dx_err_set(cx->err, DX_INTERNAL, "out of memory");
		(*nout)++;
	}
	return 0;
}


/* vars: any JSON object, kept as it is and never interpreted. */
int
dx_inv_vars(struct dx_inv_ctx *cx, const struct dx_jsonpos_step *path, size_t np,
    json_t *v)
{
	if (!json_is_object(v))
		return dx_inv_fail(cx, path, np, false, "vars",
		    "expected an object");
	return 0;
}


/*
 * jansson's wording, where it names jansson's own flags or internals, in
 * plain words for the person who edits the file.
 */
const char *
dx_inv_plain(const char *text, char *buf, size_t size)
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
