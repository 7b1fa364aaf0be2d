/*
 * knownhosts.c - OpenSSH known_hosts files, parsed by dronex itself.
 *
 * Theory of operation: a file is read once into a flat array of entries,
 * one per usable line, each keeping its 1-based line number, its host
 * patterns (or the salt and hash of a hashed name), its key type and the
 * decoded key blob.  A line that cannot be used (too few fields, an unknown
 * marker, bad base64, a blob whose inner type disagrees with the type
 * field) is skipped and counted; it never hides the lines after it, which
 * is where libssh2's own reader goes wrong.  "@cert-authority" lines are
 * dropped quietly: libssh2 1.10 has no host certificates, so they can never
 * vouch for a key.
 *
 * A lookup builds the name OpenSSH would look up ("host" on port 22,
 * "[host]:port" otherwise, lower-cased) once, then walks the entries:
 * a key listed under "@revoked" for the host wins over everything, then an
 * exact blob match, then any other key for the host (a mismatch).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "base64.h"
#include "fmt.h"
#include "fileio.h"
#include "knownhosts.h"

#define KH_SHA1_LEN	20
#define KH_NAME_MAX	1100	/* NI_MAXHOST plus "[]:65535" */

struct kh_entry {
	size_t		 line;		/* 1-based line in the file */
	bool		 revoked;	/* listed under @revoked */
	bool		 hashed;	/* |1|salt|hash instead of patterns */
	unsigned char	 salt[KH_SHA1_LEN];
	unsigned char	 hash[KH_SHA1_LEN];
	char		*patterns;	/* comma list, lower-cased; NULL if hashed */
	char		*type;		/* "ssh-ed25519", ... */
	unsigned char	*blob;		/* SSH wire-format public key */
	size_t		 bloblen;
	char		*mem;		/* one allocation behind the pointers */
};

struct dx_known_hosts {
	char		*name;		/* path or test name, for messages */
	struct kh_entry	*v;
	size_t		 n, cap;
	size_t		 nlines;	/* lines seen, so appends know theirs */
	size_t		 skipped;	/* malformed lines */
};

/* The type name inside a wire-format key blob must equal type. */
static bool
kh_blob_has_type(const unsigned char *blob, size_t len, const char *type)
{
	size_t tlen = strlen(type);
	uint32_t n;

	if (len < 4)
		return false;
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
	    (uint32_t)blob[2] << 8 | blob[3];
	return n == tlen && n <= len - 4 && memcmp(blob + 4, type, tlen) == 0;
}

/* Case-insensitive glob with '*' and '?' (the pattern is lower-case). */
static bool
kh_glob(const char *pat, size_t plen, const char *s)
{
	size_t p = 0, star = (size_t)-1;
	const char *mark = NULL;

	while (*s != '\0') {
		if (p < plen && (pat[p] == '?' ||
		    pat[p] == tolower((unsigned char)*s))) {
			p++;
			s++;
		} else if (p < plen && pat[p] == '*') {
			star = ++p;
			mark = s;
		} else if (star != (size_t)-1) {
			p = star;
			s = ++mark;
		} else
			return false;
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

/*
 * OpenSSH's rule for a pattern list: a matching negated pattern rules the
 * line out whatever else matches; otherwise any matching pattern is enough.
 */
static bool
kh_patterns_match(const char *list, const char *name)
{
	bool pos = false;
	const char *p = list, *e;

	while (*p != '\0') {
		bool neg = false;
		size_t len;

		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		if (*p == '!') {
			neg = true;
			p++;
		}
		len = (size_t)(e - p);
		if (len > 0 && kh_glob(p, len, name)) {
			if (neg)
				return false;
			pos = true;
		}
		p = *e == ',' ? e + 1 : e;
	}
	return pos;
}

static bool
kh_entry_matches(const struct kh_entry *e, const char *name)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!e->hashed)
		return kh_patterns_match(e->patterns, name);
	if (HMAC(EVP_sha1(), e->salt, KH_SHA1_LEN, (const unsigned char *)name,
	    strlen(name), md, &mdlen) == NULL || mdlen != KH_SHA1_LEN)
		return false;
	return memcmp(md, e->hash, KH_SHA1_LEN) == 0;
}

/* "host" on port 22 (or 0), "[host]:port" otherwise, lower-cased. */
static void
kh_lookup_name(char *buf, size_t size, const char *host, int port)
{
	dx_fmt_hostport(buf, size, host, port, DX_HP_SSH);
	for (char *p = buf; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
}

static int
kh_push(struct dx_known_hosts *kh, struct kh_entry *e)
{
	if (kh->n == kh->cap) {
		size_t cap = kh->cap ? kh->cap * 2 : 16;
		struct kh_entry *v;

		if ((v = realloc(kh->v, cap * sizeof(*v))) == NULL)
			return -1;
		kh->v = v;
		kh->cap = cap;
	}
	kh->v[kh->n++] = *e;
	return 0;
}

/* Splits off the next blank-separated field of [*p, end). */
static bool
kh_field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return false;
	*f = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*flen = (size_t)(s - *f);
	*p = s;
	return true;
}

/* Decodes "|1|salt|hash" into e; false if it is not well-formed. */
static bool
kh_parse_hashed(const char *f, size_t len, struct kh_entry *e)
{
	unsigned char tmp[64];
	const char *sep;
	size_t slen;
	long n;

	f += 3;
	len -= 3;
	if ((sep = memchr(f, '|', len)) == NULL)
		return false;
	slen = (size_t)(sep - f);
	if (slen > 40 || len - slen - 1 > 40)
		return false;
	if ((n = dx_base64_decode(f, slen, tmp)) != KH_SHA1_LEN)
		return false;
	memcpy(e->salt, tmp, KH_SHA1_LEN);
	if ((n = dx_base64_decode(sep + 1, len - slen - 1, tmp)) != KH_SHA1_LEN)
		return false;
	memcpy(e->hash, tmp, KH_SHA1_LEN);
	e->hashed = true;
	return true;
}

/*
 * Parses one line (without its newline).  Returns 1 and fills e for a
 * usable entry, 0 for a line to ignore (blank, comment, @cert-authority),
 * -1 for a malformed line, -2 when out of memory.
 */
static int
kh_parse_line(const char *s, const char *end, struct kh_entry *e)
{
	const char *f, *hosts, *type, *key;
	size_t flen, hlen, tlen, klen;
	char *mem;
	long n;

	memset(e, 0, sizeof(*e));
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || *s == '#')
		return 0;
	if (!kh_field(&s, end, &f, &flen))
		return 0;
	if (*f == '@') {
		if (flen == 8 && memcmp(f, "@revoked", 8) == 0)
			e->revoked = true;
		else if (flen == 15 && memcmp(f, "@cert-authority", 15) == 0)
			return 0;
		else
			return -1;
		if (!kh_field(&s, end, &f, &flen))
			return -1;
	}
	hosts = f;
	hlen = flen;
	if (!kh_field(&s, end, &type, &tlen) || !kh_field(&s, end, &key, &klen))
		return -1;
	/* Old RSA1 lines ("bits e n") have a number where the type goes. */
	if (isdigit((unsigned char)type[0]))
		return -1;
	if (hlen >= 3 && memcmp(hosts, "|1|", 3) == 0) {
		if (!kh_parse_hashed(hosts, hlen, e))
			return -1;
	} else if (hosts[0] == '|')
		return -1;
	/* One block: patterns, type, blob; freed through e->mem. */
	if ((mem = malloc(hlen + 1 + tlen + 1 + klen / 4 * 3 + 1)) == NULL)
		return -2;
	e->mem = mem;
	if (!e->hashed) {
		e->patterns = mem;
		for (size_t i = 0; i < hlen; i++)
			mem[i] = (char)tolower((unsigned char)hosts[i]);
		mem[hlen] = '\0';
	}
	e->type = mem + hlen + 1;
	memcpy(e->type, type, tlen);
	e->type[tlen] = '\0';
	e->blob = (unsigned char *)e->type + tlen + 1;
	if ((n = dx_base64_decode(key, klen, e->blob)) < 0 ||
	    !kh_blob_has_type(e->blob, (size_t)n, e->type)) {
		free(mem);
		e->mem = NULL;
		return -1;
	}
	e->bloblen = (size_t)n;
	return 1;
}

static struct dx_known_hosts *
kh_new(const char *name, struct dx_err *err)
{
	struct dx_known_hosts *kh;

	if ((kh = calloc(1, sizeof(*kh))) == NULL ||
	    (kh->name = strdup(name)) == NULL) {
		free(kh);
		dx_err_set(err, DX_INTERNAL, "out of memory reading known_hosts '%s'",
		    name);
		return NULL;
	}
	return kh;
}

struct dx_known_hosts *
dx_known_hosts_parse(const char *text, size_t len, const char *name,
    struct dx_err *err)
{
	struct dx_known_hosts *kh;
	const char *p = text, *end = text + len, *eol, *le;
	struct kh_entry e;

	if ((kh = kh_new(name, err)) == NULL)
		return NULL;
	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		le = eol;
		if (le > p && le[-1] == '\r')
			le--;
		kh->nlines++;
		switch (kh_parse_line(p, le, &e)) {
		case 1:
			e.line = kh->nlines;
			if (kh_push(kh, &e) == 0)
				break;
			free(e.mem);
			/* FALLTHROUGH */
		case -2:
			dx_known_hosts_free(kh);
			dx_err_set(err, DX_INTERNAL,
			    "out of memory reading known_hosts '%s'", name);
			return NULL;
		case -1:
			kh->skipped++;
			break;
		default:
			break;
		}
		p = eol < end ? eol + 1 : end;
	}
	return kh;
}

/* Reads the open file fd (a regular file, at most DX_KH_MAX_BYTES). */
struct dx_known_hosts *
dx_known_hosts_load_fd(int fd, const char *path, struct dx_err *err)
{
	struct dx_known_hosts *kh;
	char why[DX_FILE_WHY];
	struct dx_file f;
	int code;

	if (dx_file_read_fd(fd, DX_KH_MAX_BYTES, &f, &code, why, sizeof(why)) == -1) {
		dx_err_set(err, code == ENOMEM ? DX_INTERNAL : DX_HOSTKEY_UNKNOWN,
		    "cannot read known_hosts '%s': %s", path, why);
		return NULL;
	}
	kh = dx_known_hosts_parse(f.data, f.len, path, err);
	dx_file_wipe(&f);
	return kh;
}

struct dx_known_hosts *
dx_known_hosts_load(const char *path, struct dx_err *err)
{
	struct dx_known_hosts *kh;
	char why[DX_FILE_WHY];
	struct stat st;
	int fd, code;

	if ((fd = dx_file_open(path, O_RDONLY, &st, &code, why, sizeof(why))) == -1) {
		if (code == ENOENT || code == ENOTDIR)
			return kh_new(path, err);
		dx_err_set(err, DX_HOSTKEY_UNKNOWN, "cannot read known_hosts '%s': %s",
		    path, why);
		return NULL;
	}
	kh = dx_known_hosts_load_fd(fd, path, err);
	close(fd);
	return kh;
}

void
dx_known_hosts_free(struct dx_known_hosts *kh)
{
	if (kh == NULL)
		return;
	for (size_t i = 0; i < kh->n; i++)
		free(kh->v[i].mem);
	free(kh->v);
	free(kh->name);
	free(kh);
}

size_t
dx_known_hosts_skipped(const struct dx_known_hosts *kh)
{
	return kh->skipped;
}

enum dx_hk_verdict
dx_known_hosts_check(const struct dx_known_hosts *kh, const char *host,
    int port, const unsigned char *blob, size_t len, size_t *line)
{
	char name[KH_NAME_MAX];
	size_t match = 0, other = 0, same_type = 0;
	const char *btype = NULL;
	size_t btlen = 0;

	*line = 0;
	kh_lookup_name(name, sizeof(name), host, port);
	/* The presented key's own type, to report the line it replaced. */
	if (len >= 4) {
		btlen = (size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
		    (size_t)blob[2] << 8 | blob[3];
		if (btlen <= len - 4)
			btype = (const char *)blob + 4;
	}
	for (size_t i = 0; i < kh->n; i++) {
		const struct kh_entry *e = &kh->v[i];
		bool same = e->bloblen == len && memcmp(e->blob, blob, len) == 0;

		/* Cheap test first: most lines are for other hosts' keys. */
		if (e->revoked && !same)
			continue;
		if (!kh_entry_matches(e, name))
			continue;
		if (e->revoked) {
			*line = e->line;
			return DX_HK_REVOKED;
		}
		if (same) {
			if (match == 0)
				match = e->line;
			continue;
		}
		if (other == 0)
			other = e->line;
		if (same_type == 0 && btype != NULL &&
		    strlen(e->type) == btlen && memcmp(e->type, btype, btlen) == 0)
			same_type = e->line;
	}
	if (match != 0) {
		*line = match;
		return DX_HK_MATCH;
	}
	if (other != 0) {
		*line = same_type != 0 ? same_type : other;
		return DX_HK_MISMATCH;
	}
	return DX_HK_UNKNOWN;
}

size_t
dx_known_hosts_types(const struct dx_known_hosts *kh, const char *host,
    int port, const char **types, size_t max)
{
	char name[KH_NAME_MAX];
	size_t n = 0;

	kh_lookup_name(name, sizeof(name), host, port);
	for (size_t i = 0; i < kh->n && n < max; i++) {
		const struct kh_entry *e = &kh->v[i];
		bool seen = false;

		if (e->revoked)
			continue;
		for (size_t k = 0; k < n && !seen; k++)
			seen = strcmp(types[k], e->type) == 0;
		if (!seen && kh_entry_matches(e, name))
			types[n++] = e->type;
	}
	return n;
}

/* Makes the directories above path (mode 0700) that are missing. */
static int
kh_mkdirs(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/*
 * The name a new line is written under: name itself, or, hashed as
 * OpenSSH's HashKnownHosts writes it, "|1|" base64(salt) "|"
 * base64(HMAC-SHA1(salt, name)) with a fresh random 20-byte salt.  Fills
 * e's salt and hash when hashed.  0, or -1 (OOM or no randomness).
 */
static int
kh_hashed_name(char *out, size_t size, const char *name, struct kh_entry *e)
{
	char salt64[DX_BASE64_LEN(KH_SHA1_LEN) + 1], hash64[sizeof(salt64)];
	unsigned int mdlen = 0;

	if (RAND_bytes(e->salt, KH_SHA1_LEN) != 1 ||
	    HMAC(EVP_sha1(), e->salt, KH_SHA1_LEN, (const unsigned char *)name,
	    strlen(name), e->hash, &mdlen) == NULL || mdlen != KH_SHA1_LEN)
		return -1;
	dx_base64_encode_buf(salt64, e->salt, KH_SHA1_LEN);
	dx_base64_encode_buf(hash64, e->hash, KH_SHA1_LEN);
	snprintf(out, size, "|1|%s|%s", salt64, hash64);
	e->hashed = true;
	return 0;
}

int
dx_known_hosts_add_fd(struct dx_known_hosts *kh, int fd, const char *path,
    const char *host, int port, const unsigned char *blob, size_t len,
    bool hash, struct dx_err *err)
{
	char name[KH_NAME_MAX], written[KH_NAME_MAX], *b64 = NULL, *text = NULL;
	char *mem = NULL;
	struct kh_entry e;
	struct stat st;
	size_t tlen, n;
	uint32_t bt;
	int rc = -1, saved;
	char last = '\n';

	memset(&e, 0, sizeof(e));
	if (len < 4 || (bt = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
	    (uint32_t)blob[2] << 8 | blob[3]) == 0 || bt > len - 4 || bt > 64)
		return dx_err_set(err, DX_HOSTKEY_UNKNOWN,
		    "cannot add a malformed host key to known_hosts '%s'", path);
	tlen = bt;
	kh_lookup_name(name, sizeof(name), host, port);
	if (!hash)
		snprintf(written, sizeof(written), "%s", name);
	else if (kh_hashed_name(written, sizeof(written), name, &e) == -1) {
		dx_err_set(err, DX_INTERNAL, "cannot hash the host name for "
		    "known_hosts '%s'", path);
		goto out;
	}
	if ((b64 = dx_base64_encode(blob, len)) == NULL ||
	    (mem = malloc(strlen(name) + 1 + tlen + 1 + len)) == NULL ||
	    asprintf(&text, "\n%s %.*s %s\n", written, (int)tlen,
	    (const char *)blob + 4, b64) == -1) {
		text = NULL;
		dx_err_set(err, DX_INTERNAL, "out of memory adding to known_hosts '%s'",
		    path);
		goto out;
	}
	/* Never glue the new line onto an unterminated last line. */
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	n = strlen(text) - (last == '\n');
	if (write(fd, text + (last == '\n'), n) != (ssize_t)n) {
		saved = errno;
		dx_err_set(err, DX_HOSTKEY_UNKNOWN, "cannot add to known_hosts '%s': %s",
		    path, saved ? strerror(saved) : "short write");
		goto out;
	}
	/* The set learns the key too, so the next drone finds it. */
	e.line = ++kh->nlines;
	e.mem = mem;
	/* A hashed entry has no patterns: its salt and hash match it. */
	strcpy(mem, name);
	e.patterns = e.hashed ? NULL : mem;
	e.type = mem + strlen(name) + 1;
	memcpy(e.type, blob + 4, tlen);
	e.type[tlen] = '\0';
	e.blob = (unsigned char *)e.type + tlen + 1;
	memcpy(e.blob, blob, len);
	e.bloblen = len;
	if (kh_push(kh, &e) == -1) {
		dx_err_set(err, DX_INTERNAL, "out of memory adding to known_hosts '%s'",
		    path);
		goto out;
	}
	mem = NULL;
	rc = 0;
out:
	free(mem);
	free(text);
	free(b64);
	return rc;
}

int
dx_known_hosts_open_append(const char *path, struct dx_err *err)
{
	char why[DX_FILE_WHY];
	struct stat st;
	int fd, code;

	fd = dx_file_open(path, O_RDWR | O_APPEND | O_CREAT, &st, &code, why,
	    sizeof(why));
	if (fd == -1 && code == ENOENT && kh_mkdirs(path) == 0)
		fd = dx_file_open(path, O_RDWR | O_APPEND | O_CREAT, &st, &code,
		    why, sizeof(why));
	if (fd == -1)
		dx_err_set(err, DX_HOSTKEY_UNKNOWN, "cannot add to known_hosts "
		    "'%s': %s", path, why);
	return fd;
}

int
dx_known_hosts_add(struct dx_known_hosts *kh, const char *path,
    const char *host, int port, const unsigned char *blob, size_t len,
    struct dx_err *err)
{
	int fd, rc;

	if ((fd = dx_known_hosts_open_append(path, err)) == -1)
		return -1;
	rc = dx_known_hosts_add_fd(kh, fd, path, host, port, blob, len, false,
	    err);
	if (close(fd) == -1 && rc == 0)
		rc = dx_err_set(err, DX_HOSTKEY_UNKNOWN, "cannot add to known_hosts "
		    "'%s': %s", path, strerror(errno));
	return rc;
}
