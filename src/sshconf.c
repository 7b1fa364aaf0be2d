/*
 * sshconf.c - ssh_config(5) read once, looked up per drone (sshconf.h).
 *
 * Theory of operation.  Loading flattens the files into one list of
 * entries in the order OpenSSH reads them: a FILE mark where each
 * top-level file starts, HOST lines with their patterns, option lines,
 * and a PUSH/POP pair around each included file.  Every line is checked
 * when it is read, so a bad value is an error even in a block that no
 * drone matches (OpenSSH does the same).  A lookup walks the list once,
 * with OpenSSH's notion of "active": a file starts active, a Host line
 * sets it from its patterns, an included file starts active only if the
 * Include line was (otherwise nothing in it can match), and the state
 * before an Include is restored after it.  Active option lines are taken
 * first-wins per option (IdentityFile accumulates); active lines dronex
 * does not honour are handed back as ignored.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"
#include "sshconf.h"

/* OpenSSH's READCONF_MAX_DEPTH. */
#define SC_MAX_DEPTH	16
#define SC_MAX_ARGS	64
#define SC_KEY_IDENTITY	(-2)	/* IdentityFile: accumulates */
#define SC_KEY_IGNORED	(-1)

enum sc_kind { SC_FILE, SC_HOST, SC_OPT, SC_PUSH, SC_POP };

struct sc_ent {
	enum sc_kind		 kind;
	int			 key;	/* enum dx_sc_key, or SC_KEY_* */
	struct dx_sshconf_opt	 opt;	/* HOST: args are the patterns */
};

struct dx_sshconf {
	struct sc_ent		*v;
	size_t			 n, cap;
};

static const struct {
	const char	*name;
	int		 key;
} sc_keywords[] = {
	{ "hostname", DX_SC_HOSTNAME },
	{ "user", DX_SC_USER },
	{ "port", DX_SC_PORT },
	{ "identitiesonly", DX_SC_IDENTITIES_ONLY },
	{ "proxyjump", DX_SC_PROXY_JUMP },
	{ "userknownhostsfile", DX_SC_USER_KNOWN_HOSTS },
	{ "globalknownhostsfile", DX_SC_GLOBAL_KNOWN_HOSTS },
	{ "stricthostkeychecking", DX_SC_STRICT_HOST_KEY },
	{ "hashknownhosts", DX_SC_HASH_KNOWN_HOSTS },
	{ "connecttimeout", DX_SC_CONNECT_TIMEOUT },
	{ "serveraliveinterval", DX_SC_ALIVE_INTERVAL },
	{ "serveralivecountmax", DX_SC_ALIVE_COUNT },
	{ "identityfile", SC_KEY_IDENTITY },
};

struct dx_sshconf *
dx_sshconf_new(void)
{
	return calloc(1, sizeof(struct dx_sshconf));
}

static void
sc_ent_release(struct sc_ent *e)
{
	for (size_t i = 0; i < e->opt.nargs; i++)
		free((char *)e->opt.args[i]);
	free((void *)e->opt.args);
	free((char *)e->opt.keyword);
	free((char *)e->opt.where);
}

void
dx_sshconf_free(struct dx_sshconf *conf)
{
	if (conf == NULL)
		return;
	for (size_t i = 0; i < conf->n; i++)
		sc_ent_release(&conf->v[i]);
	free(conf->v);
	free(conf);
}

/* A new zeroed entry at the end; NULL when out of memory. */
static struct sc_ent *
sc_push(struct dx_sshconf *conf, enum sc_kind kind)
{
	struct sc_ent *nv;

	if (conf->n == conf->cap) {
		size_t cap = conf->cap ? conf->cap * 2 : 64;

		if ((nv = realloc(conf->v, cap * sizeof(*nv))) == NULL)
			return NULL;
		conf->v = nv;
		conf->cap = cap;
	}
	nv = &conf->v[conf->n++];
	memset(nv, 0, sizeof(*nv));
	nv->kind = kind;
	return nv;
}

int
dx_sshconf_time(const char *s, long long *out)
{
	long long total = 0, v, mult;
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0)
			return -1;
		switch (*end) {
		case '\0':
		case 's': case 'S':
			mult = 1;
			break;
		case 'm': case 'M':
			mult = 60;
			break;
		case 'h': case 'H':
			mult = 3600;
			break;
		case 'd': case 'D':
			mult = 86400;
			break;
		case 'w': case 'W':
			mult = 604800;
			break;
		default:
			return -1;
		}
		if (v > (1LL << 40) / mult)
			return -1;
		total += v * mult;
		if (total > (1LL << 40))
			return -1;
		s = *end == '\0' ? end : end + 1;
	}
	*out = total;
	return 0;
}

/*
 * Splits a line as OpenSSH does: a keyword ended by whitespace or one
 * '=', then words, "double" or 'single' quoted, with backslash escapes;
 * a word that starts with '#' ends the line.  The words are written into
 * buf (NUL-separated) and pointed to by w[]; 0 with *nw words (0: an
 * empty or comment line), or -1 with *why set.
 */
static int
sc_split(const char *line, char *buf, const char **w, size_t *nw,
    const char **why)
{
	const char *p = line;
	char *o = buf, q;

	*nw = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	w[(*nw)++] = o;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '=')
		*o++ = *p++;
	*o++ = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '=')
		p++;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			break;
		if (*nw == SC_MAX_ARGS) {
			*why = "too many arguments";
			return -1;
		}
		w[(*nw)++] = o;
		q = 0;
		while (*p != '\0') {
			if (q == 0 && (*p == ' ' || *p == '\t'))
				break;
			if (q == 0 && (*p == '"' || *p == '\'')) {
				q = *p++;
				continue;
			}
			if (q != 0 && *p == q) {
				q = 0;
				p++;
				continue;
			}
			if (*p == '\\' && q != '\'' && (p[1] == '"' || p[1] == '\'' ||
			    p[1] == '\\' || (q == 0 && p[1] == ' ')))
				p++;
			*o++ = *p++;
		}
		if (q != 0) {
			*why = "unterminated quote";
			return -1;
		}
		*o++ = '\0';
	}
	return 0;
}

static bool
sc_yesno(const char *s, bool *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0)
		*out = true;
	else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0)
		*out = false;
	else
		return false;
	return true;
}

/*
 * The %-tokens of a word are all in allowed; NULL, or what is wrong
 * (in buf).
 */
static const char *
sc_tokens(const char *w, const char *allowed, char *buf, size_t size)
{
	for (const char *p = w; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '\0' || strchr(allowed, p[1]) == NULL) {
			snprintf(buf, size, "token '%%%.1s' is not supported (only "
			    "%s)", p + 1, allowed[0] == 'h' && allowed[1] == '%' ?
			    "%h %%" : "%% %d %u %h %r %n %p");
			return buf;
		}
		p++;
	}
	return NULL;
}

/* Checks the words of a honoured option; NULL, or what is wrong. */
static const char *
sc_check(int key, const char *const *a, size_t n, char *buf, size_t size)
{
	const char *why;
	long long v;
	char *end;
	bool b;

	if (n == 0)
		return "missing argument";
	switch (key) {
	case DX_SC_USER_KNOWN_HOSTS:
	case DX_SC_GLOBAL_KNOWN_HOSTS:
		if (n > 16)
			return "too many files (at most 16)";
		for (size_t i = 0; i < n; i++)
			if ((why = sc_tokens(a[i], "%duhrnp", buf, size)) != NULL)
				return why;
		return NULL;
	default:
		break;
	}
	if (n > 1)
		return "garbage at end of line";
	switch (key) {
	case SC_KEY_IDENTITY:
		return sc_tokens(a[0], "%duhrnp", buf, size);
	case DX_SC_HOSTNAME:
		return sc_tokens(a[0], "h%", buf, size);
	case DX_SC_PORT:
		errno = 0;
		v = strtoll(a[0], &end, 10);
		return *end != '\0' || errno != 0 || v < 1 || v > 65535 ?
		    "expected a port number 1-65535" : NULL;
	case DX_SC_IDENTITIES_ONLY:
	case DX_SC_HASH_KNOWN_HOSTS:
		return sc_yesno(a[0], &b) ? NULL : "expected yes or no";
	case DX_SC_STRICT_HOST_KEY:
		return sc_yesno(a[0], &b) || strcasecmp(a[0], "off") == 0 ||
		    strcasecmp(a[0], "ask") == 0 ||
		    strcasecmp(a[0], "accept-new") == 0 ? NULL :
		    "expected yes, accept-new, no, off or ask";
	case DX_SC_CONNECT_TIMEOUT:
		if (strcasecmp(a[0], "none") == 0)
			return NULL;
		/* FALLTHROUGH */
	case DX_SC_ALIVE_INTERVAL:
		return dx_sshconf_time(a[0], &v) == -1 || v > 86400 * 365 ?
		    "expected a time (30, 1m30s)" : NULL;
	case DX_SC_ALIVE_COUNT:
		errno = 0;
		v = strtoll(a[0], &end, 10);
		return *end != '\0' || errno != 0 || v < 0 || v > 1000000 ||
		    a[0][0] == '\0' ? "expected a whole number" : NULL;
	default:
		return NULL;
	}
}

/* Copies the n words of w into e (keyword w[0], args the rest). */
static int
sc_fill(struct sc_ent *e, const char *const *w, size_t n, const char *path,
    size_t line)
{
	char **args;

	if ((args = calloc(n, sizeof(*args))) == NULL)
		return -1;
	e->opt.args = (const char *const *)args;
	if ((e->opt.keyword = strdup(w[0])) == NULL ||
	    asprintf((char **)&e->opt.where, "%s:%zu", path, line) == -1) {
		e->opt.where = NULL;
		return -1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((args[i - 1] = strdup(w[i])) == NULL)
			return -1;
		e->opt.nargs = i;
	}
	return 0;
}

static int sc_read(struct dx_sshconf *, const char *path, bool user,
    bool must_exist, bool checkperm, int depth, struct dx_err *);

/* Include: each word a glob, relative to ~/.ssh or /etc/ssh. */
static int
sc_include(struct dx_sshconf *conf, const char *const *a, size_t n, bool user,
    const char *where, int depth, struct dx_err *err)
{
	char *pat = NULL, *home = NULL;
	glob_t g;
	int rc = -1, r;

	for (size_t i = 0; i < n; i++) {
		free(pat);
		pat = NULL;
		if (a[i][0] == '~') {
			if ((pat = dx_expand_tilde(a[i], err)) == NULL)
				goto out;
		} else if (a[i][0] == '/') {
			if ((pat = strdup(a[i])) == NULL)
				goto oom;
		} else if (user) {
			if (home == NULL && (home = dx_home_dir(err)) == NULL)
				goto out;
			if (asprintf(&pat, "%s/.ssh/%s", home, a[i]) == -1) {
				pat = NULL;
				goto oom;
			}
		} else if (asprintf(&pat, "/etc/ssh/%s", a[i]) == -1) {
			pat = NULL;
			goto oom;
		}
		memset(&g, 0, sizeof(g));
		if ((r = glob(pat, 0, NULL, &g)) == GLOB_NOMATCH) {
			globfree(&g);
			continue;
		}
		if (r != 0) {
			globfree(&g);
			dx_err_set(err, DX_USAGE, "%s: Include '%s': cannot expand "
			    "the pattern", where, a[i]);
			goto out;
		}
		for (size_t k = 0; k < g.gl_pathc; k++)
			if (sc_push(conf, SC_PUSH) == NULL ||
			    sc_read(conf, g.gl_pathv[k], user, false, true,
			    depth + 1, err) == -1 || sc_push(conf, SC_POP) == NULL) {
				if (err->kind == DX_OK)
					dx_err_set(err, DX_INTERNAL, "out of memory");
				globfree(&g);
				goto out;
			}
		globfree(&g);
	}
	rc = 0;
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	free(pat);
	free(home);
	return rc;
}

/* One line of path; 0 or -1 with err set. */
static int
sc_line(struct dx_sshconf *conf, const char *line, const char *path,
    size_t lineno, bool user, int depth, struct dx_err *err)
{
	const char *w[SC_MAX_ARGS + 1], *why = NULL;
	char *buf, whybuf[96];
	struct sc_ent *e;
	size_t nw, k;
	int key = SC_KEY_IGNORED, rc = -1;

	if ((buf = malloc(strlen(line) * 2 + SC_MAX_ARGS + 2)) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory");
	if (sc_split(line, buf, w, &nw, &why) == -1) {
		dx_err_set(err, DX_USAGE, "%s:%zu: %s", path, lineno, why);
		goto out;
	}
	if (nw == 0) {
		rc = 0;
		goto out;
	}
	if (strcasecmp(w[0], "match") == 0) {
		dx_err_set(err, DX_USAGE, "%s:%zu: 'Match' blocks are not supported "
		    "by dronex (use Host blocks, or --ssh-config FILE without "
		    "them)", path, lineno);
		goto out;
	}
	if (strcasecmp(w[0], "include") == 0) {
		char where[4200];

		snprintf(where, sizeof(where), "%s:%zu", path, lineno);
		if (nw < 2) {
			dx_err_set(err, DX_USAGE, "%s: keyword 'Include': missing "
			    "argument", where);
			goto out;
		}
		if (depth >= SC_MAX_DEPTH) {
			dx_err_set(err, DX_USAGE, "%s: keyword 'Include': nested "
			    "more than %d deep", where, SC_MAX_DEPTH);
			goto out;
		}
		rc = sc_include(conf, w + 1, nw - 1, user, where, depth, err);
		goto out;
	}
	if (strcasecmp(w[0], "host") == 0) {
		if (nw < 2) {
			dx_err_set(err, DX_USAGE, "%s:%zu: keyword 'Host': missing "
			    "pattern", path, lineno);
			goto out;
		}
		if ((e = sc_push(conf, SC_HOST)) == NULL ||
		    sc_fill(e, w, nw, path, lineno) == -1)
			goto oom;
		rc = 0;
		goto out;
	}
	for (k = 0; k < sizeof(sc_keywords) / sizeof(sc_keywords[0]); k++)
		if (strcasecmp(w[0], sc_keywords[k].name) == 0) {
			key = sc_keywords[k].key;
			break;
		}
	if (key != SC_KEY_IGNORED &&
	    (why = sc_check(key, w + 1, nw - 1, whybuf, sizeof(whybuf))) != NULL) {
		dx_err_set(err, DX_USAGE, "%s:%zu: keyword '%s': %s", path, lineno,
		    w[0], why);
		goto out;
	}
	if ((e = sc_push(conf, SC_OPT)) == NULL ||
	    sc_fill(e, w, nw, path, lineno) == -1)
		goto oom;
	e->key = key;
	rc = 0;
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	free(buf);
	return rc;
}

/*
 * Reads one file.  checkperm: refuse a file that another user owns or
 * that group or others may write, as OpenSSH refuses ~/.ssh/config and
 * included files ("Bad owner or permissions").
 */
static int
sc_read(struct dx_sshconf *conf, const char *path, bool user, bool must_exist,
    bool checkperm, int depth, struct dx_err *err)
{
	FILE *f;
	struct stat st;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return dx_err_set(err, DX_USAGE, "cannot read ssh_config '%s': %s",
		    path, strerror(errno));
	}
	if (fstat(fileno(f), &st) == -1 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return dx_err_set(err, DX_USAGE, "ssh_config '%s' is not a regular "
		    "file", path);
	}
	if (checkperm && ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 022) != 0)) {
		fclose(f);
		return dx_err_set(err, DX_USAGE, "bad owner or permissions on "
		    "ssh_config '%s' (writable by others, or not yours), as ssh "
		    "refuses it", path);
	}
	while (rc == 0 && (len = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (strlen(line) != (size_t)len)
			rc = dx_err_set(err, DX_USAGE, "%s:%zu: a NUL byte in the "
			    "line", path, lineno);
		else
			rc = sc_line(conf, line, path, lineno, user, depth, err);
	}
	if (rc == 0 && ferror(f))
		rc = dx_err_set(err, DX_USAGE, "cannot read ssh_config '%s': %s",
		    path, strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

int
dx_sshconf_read(struct dx_sshconf *conf, const char *path, bool user,
    bool must_exist, struct dx_err *err)
{
	if (sc_push(conf, SC_FILE) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory");
	/* ~/.ssh/config is checked; ssh -F's file and the system's are not. */
	return sc_read(conf, path, user, must_exist, user && !must_exist, 0, err);
}

int
dx_sshconf_load(const char *file, struct dx_sshconf **out, struct dx_err *err)
{
	struct dx_sshconf *conf;
	char *home = NULL, *user = NULL;
	int rc = -1;

	*out = NULL;
	if (file != NULL && strcmp(file, "none") == 0)
		return 0;
	if ((conf = dx_sshconf_new()) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory");
	if (file != NULL) {
		if (dx_sshconf_read(conf, file, true, true, err) == -1)
			goto out;
	} else {
		/* No home: no user file, as OpenSSH without a home. */
		if ((home = dx_home_dir(err)) == NULL) {
			if (err->kind == DX_INTERNAL)
				goto out;
			dx_err_clear(err);
		} else if (asprintf(&user, "%s/.ssh/config", home) == -1) {
			user = NULL;
			dx_err_set(err, DX_INTERNAL, "out of memory");
			goto out;
		}
		if ((user != NULL &&
		    dx_sshconf_read(conf, user, true, false, err) == -1) ||
		    dx_sshconf_read(conf, "/etc/ssh/ssh_config", false, false,
		    err) == -1)
			goto out;
	}
	*out = conf;
	conf = NULL;
	rc = 0;
out:
	dx_sshconf_free(conf);
	free(home);
	free(user);
	return rc;
}

/* OpenSSH's match_pattern(): '*' and '?', case-insensitive here. */
static bool
sc_glob(const char *p, const char *s)
{
	for (;;) {
		if (*p == '\0')
			return *s == '\0';
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return true;
			for (; *s != '\0'; s++)
				if (sc_glob(p, s))
					return true;
			return false;
		}
		if (*s == '\0')
			return false;
		if (*p != '?' && tolower((unsigned char)*p) !=
		    tolower((unsigned char)*s))
			return false;
		p++;
		s++;
	}
}

/*
 * A Host line's patterns against name, as OpenSSH's Host: each word one
 * pattern (a comma is no separator there, unlike Match); a negated
 * pattern that matches makes the whole line fail, otherwise any positive
 * match makes it match.
 */
static bool
sc_host_match(const struct dx_sshconf_opt *o, const char *name)
{
	bool hit = false;

	for (size_t i = 0; i < o->nargs; i++) {
		const char *p = o->args[i];
		bool neg = *p == '!';

		if (!sc_glob(p + neg, name))
			continue;
		if (neg)
			return false;
		hit = true;
	}
	return hit;
}

/* Appends o to a growing list; -1 when out of memory. */
static int
sc_append(const struct dx_sshconf_opt ***v, size_t *n,
    const struct dx_sshconf_opt *o)
{
	const struct dx_sshconf_opt **nv;

	if ((nv = realloc((void *)*v, (*n + 1) * sizeof(*nv))) == NULL)
		return -1;
	nv[(*n)++] = o;
	*v = nv;
	return 0;
}

void
dx_sshconf_host_release(struct dx_sshconf_host *h)
{
	free((void *)h->identities);
	free((void *)h->ignored);
	memset(h, 0, sizeof(*h));
}

int
dx_sshconf_lookup(const struct dx_sshconf *conf, const char *name,
    struct dx_sshconf_host *h, struct dx_err *err)
{
	struct {
		bool	 active, never;
	} st[SC_MAX_DEPTH + 2];
	size_t depth = 0;
	bool active = true, never = false;

	memset(h, 0, sizeof(*h));
	for (size_t i = 0; conf != NULL && i < conf->n; i++) {
		const struct sc_ent *e = &conf->v[i];

		switch (e->kind) {
		case SC_FILE:
			active = true;
			never = false;
			depth = 0;
			break;
		case SC_PUSH:
			if (depth < sizeof(st) / sizeof(st[0])) {
				st[depth].active = active;
				st[depth].never = never;
			}
			depth++;
			never = never || !active;
			active = !never;
			break;
		case SC_POP:
			if (depth > 0 && --depth < sizeof(st) / sizeof(st[0])) {
				active = st[depth].active;
				never = st[depth].never;
			}
			break;
		case SC_HOST:
			active = !never && sc_host_match(&e->opt, name);
			break;
		case SC_OPT:
			if (!active)
				break;
			if (e->key == SC_KEY_IDENTITY) {
				if (sc_append(&h->identities, &h->nidentities,
				    &e->opt) == -1)
					goto oom;
			} else if (e->key == SC_KEY_IGNORED) {
				if (sc_append(&h->ignored, &h->nignored,
				    &e->opt) == -1)
					goto oom;
			} else if (h->opt[e->key] == NULL)
				h->opt[e->key] = &e->opt;
			break;
		}
	}
	return 0;
oom:
	dx_sshconf_host_release(h);
	return dx_err_set(err, DX_INTERNAL, "out of memory");
}
