/*
 * test_knownhosts.c - known_hosts parsing and lookups, table-driven.
 *
 * Keys are real ed25519/ecdsa public keys; the hashed entry was made once
 * with "ssh-keygen -H" for "[127.0.0.1]:2222" and K1.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "knownhosts.h"

#define K1 "AAAAC3NzaC1lZDI1NTE5AAAAIL5GEd+K4rcJ0WG2BgmtUQqTL0QdRdw/KmkUAvs7ZDDo"
#define K2 "AAAAC3NzaC1lZDI1NTE5AAAAIPufzKeKanY28jna2sdAnHAkwuY2gUg4M2joxOeHkX7d"
#define K3 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHVT6uvdElL2ryOuTSY" \
	   "w22J055upNIHG0eDT4/JZWQdc0j+LMp1U3rjSGHnArNy9+s66k98pkTJIaXf9VtDtuXc="
#define ED "ssh-ed25519 "
#define EC "ecdsa-sha2-nistp256 "
/* ssh-keygen -H of "[127.0.0.1]:2222 ssh-ed25519 K1". */
#define HASHED "|1|an7ZsUXBCIQ15JqmrJibGhpvHuA=|ZHbFh/ne7t0aby6wYssJOvDWAjA= "

/* Decodes base64 (test helper; input is known good). */
static size_t
b64(const char *s, unsigned char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = 0;
	unsigned acc = 0;
	int bits = 0;

	for (; *s != '\0' && *s != '='; s++) {
		acc = acc << 6 | (unsigned)(strchr(tab, *s) - tab);
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

struct kh_case {
	const char	*name;
	const char	*text;
	const char	*host;
	int		 port;
	const char	*key;		/* base64 blob presented */
	enum dx_hk_verdict want;
	size_t		 line;
	size_t		 skipped;
};

static const struct kh_case kh_cases[] = {
	{ "plain match", "web1 " ED K1 "\n", "web1", 22, K1, DX_HK_MATCH, 1, 0 },
	{ "plain name is only for port 22", "web1 " ED K1 "\n", "web1", 2222, K1,
	    DX_HK_UNKNOWN, 0, 0 },
	{ "bracket form for another port", "[127.0.0.1]:2222 " ED K1 "\n",
	    "127.0.0.1", 2222, K1, DX_HK_MATCH, 1, 0 },
	{ "bracket form is not port 22", "[127.0.0.1]:2222 " ED K1 "\n",
	    "127.0.0.1", 22, K1, DX_HK_UNKNOWN, 0, 0 },
	{ "comma list", "a,b,web1,c " ED K1 " comment words\n", "web1", 22, K1,
	    DX_HK_MATCH, 1, 0 },
	{ "hashed match", HASHED ED K1 "\n", "127.0.0.1", 2222, K1,
	    DX_HK_MATCH, 1, 0 },
	{ "hashed other key", HASHED ED K1 "\n", "127.0.0.1", 2222, K2,
	    DX_HK_MISMATCH, 1, 0 },
	{ "hashed other host", HASHED ED K1 "\n", "127.0.0.2", 2222, K1,
	    DX_HK_UNKNOWN, 0, 0 },
	{ "hashed with bad salt is malformed", "|1|an7Z|ZHbF " ED K1 "\n",
	    "127.0.0.1", 2222, K1, DX_HK_UNKNOWN, 0, 1 },
	{ "star wildcard", "*.example.net " ED K1 "\n", "web1.example.net", 22,
	    K1, DX_HK_MATCH, 1, 0 },
	{ "question wildcard", "web?.example.net " ED K1 "\n", "web7.example.net",
	    22, K1, DX_HK_MATCH, 1, 0 },
	{ "wildcard in bracket form", "[*.example.net]:2222 " ED K1 "\n",
	    "db1.example.net", 2222, K1, DX_HK_MATCH, 1, 0 },
	{ "wildcard must cover the whole name", "web?.example.net " ED K1 "\n",
	    "web10.example.net", 22, K1, DX_HK_UNKNOWN, 0, 0 },
	{ "names are case-insensitive", "Web1.Example.NET " ED K1 "\n",
	    "WEB1.example.net", 22, K1, DX_HK_MATCH, 1, 0 },
	{ "negation excludes the line", "*.example.net,!db1.example.net " ED K1
	    "\n", "db1.example.net", 22, K1, DX_HK_UNKNOWN, 0, 0 },
	{ "negation leaves others", "*.example.net,!db1.example.net " ED K1 "\n",
	    "web1.example.net", 22, K1, DX_HK_MATCH, 1, 0 },
	{ "negated name alone matches nothing", "!db1 " ED K1 "\n", "web1", 22,
	    K1, DX_HK_UNKNOWN, 0, 0 },
	{ "malformed lines do not hide later ones",
	    "garbage\n"
	    "web1 " ED "!!!notbase64\n"
	    "web1 " ED K3 "\n"			/* blob type is ecdsa */
	    "web1 1024 35 12345\n"		/* RSA1 */
	    "@bogus web1 " ED K1 "\n"
	    "web1 " ED "\n"
	    "web1 " ED K1 "\n", "web1", 22, K1, DX_HK_MATCH, 7, 6 },
	{ "mismatch reports the line",
	    "# comment\n\n   \nother " ED K1 "\nweb1 " ED K2 "\n", "web1", 22, K1,
	    DX_HK_MISMATCH, 5, 0 },
	{ "mismatch names the line of the same type",
	    "web1 " EC K3 "\nweb1 " ED K2 "\n", "web1", 22, K1,
	    DX_HK_MISMATCH, 2, 0 },
	{ "match anywhere beats an older key", "web1 " ED K2 "\nweb1 " ED K1 "\n",
	    "web1", 22, K1, DX_HK_MATCH, 2, 0 },
	{ "revoked key is refused even after a match",
	    "web1 " ED K1 "\n@revoked web1 " ED K1 "\n", "web1", 22, K1,
	    DX_HK_REVOKED, 2, 0 },
	{ "revoked for every host", "@revoked * " ED K1 "\n",
	    "127.0.0.1", 2222, K1, DX_HK_REVOKED, 1, 0 },
	{ "revoked for another host does not apply",
	    "@revoked db1 " ED K1 "\nweb1 " ED K1 "\n", "web1", 22, K1,
	    DX_HK_MATCH, 2, 0 },
	{ "revoking another key does not refuse this one",
	    "@revoked web1 " ED K2 "\nweb1 " ED K1 "\n", "web1", 22, K1,
	    DX_HK_MATCH, 2, 0 },
	{ "revoked line alone is no known key", "@revoked web1 " ED K2 "\n",
	    "web1", 22, K1, DX_HK_UNKNOWN, 0, 0 },
	{ "cert-authority lines are ignored", "@cert-authority web1 " ED K1 "\n",
	    "web1", 22, K1, DX_HK_UNKNOWN, 0, 0 },
	{ "crlf line ends", "x " ED K2 "\r\nweb1 " ED K1 "\r\n", "web1", 22, K1,
	    DX_HK_MATCH, 2, 0 },
	{ "no newline at the end", "web1 " ED K1, "web1", 22, K1,
	    DX_HK_MATCH, 1, 0 },
	{ "tabs separate fields", "web1\t" "ssh-ed25519\t" K1 "\n", "web1", 22,
	    K1, DX_HK_MATCH, 1, 0 },
	{ "unknown host", "web2 " ED K1 "\n", "web1", 22, K1, DX_HK_UNKNOWN, 0, 0 },
	{ "empty file", "", "web1", 22, K1, DX_HK_UNKNOWN, 0, 0 },
};

Test(knownhosts, table_of_lookups)
{
	for (size_t i = 0; i < sizeof(kh_cases) / sizeof(kh_cases[0]); i++) {
		const struct kh_case *c = &kh_cases[i];
		unsigned char blob[256];
		size_t blen = b64(c->key, blob), line = 99;
		struct dx_err err = { 0 };
		struct dx_known_hosts *kh;
		enum dx_hk_verdict v;

		kh = dx_known_hosts_parse(c->text, strlen(c->text), "t", &err);
		cr_assert_not_null(kh, "%s: %s", c->name, err.msg);
		v = dx_known_hosts_check(kh, c->host, c->port, blob, blen, &line);
		cr_expect_eq(v, c->want, "%s: verdict %d, want %d", c->name, v,
		    c->want);
		cr_expect_eq(line, c->line, "%s: line %zu, want %zu", c->name, line,
		    c->line);
		cr_expect_eq(dx_known_hosts_skipped(kh), c->skipped,
		    "%s: skipped %zu, want %zu", c->name,
		    dx_known_hosts_skipped(kh), c->skipped);
		dx_known_hosts_free(kh);
	}
}

Test(knownhosts, types_lists_each_known_type_once_in_file_order)
{
	const char *text =
	    "web1 " ED K1 "\n"
	    "other " EC K3 "\n"
	    "web1 " EC K3 "\n"
	    "web1 " ED K2 "\n"
	    "@revoked web1 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7\n";
	struct dx_err err = { 0 };
	struct dx_known_hosts *kh;
	const char *types[8];
	size_t n;

	kh = dx_known_hosts_parse(text, strlen(text), "t", &err);
	cr_assert_not_null(kh);
	n = dx_known_hosts_types(kh, "web1", 22, types, 8);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(types[0], "ssh-ed25519");
	cr_expect_str_eq(types[1], "ecdsa-sha2-nistp256");
	cr_expect_eq(dx_known_hosts_types(kh, "web1", 22, types, 1), 1);
	cr_expect_eq(dx_known_hosts_types(kh, "nobody", 22, types, 8), 0);
	dx_known_hosts_free(kh);
}

Test(knownhosts, load_of_a_missing_file_is_an_empty_set)
{
	struct dx_err err = { 0 };
	struct dx_known_hosts *kh;
	unsigned char blob[256];
	size_t line, blen = b64(K1, blob);

	kh = dx_known_hosts_load("/nonexistent/dronex/known_hosts", &err);
	cr_assert_not_null(kh, "%s", err.msg);
	cr_expect_eq(dx_known_hosts_check(kh, "web1", 22, blob, blen, &line),
	    DX_HK_UNKNOWN);
	dx_known_hosts_free(kh);
}

Test(knownhosts, add_then_check_in_memory_and_in_the_file)
{
	char dir[] = "/tmp/dx-kh-XXXXXX", path[256], cmd[512], buf[512];
	struct dx_err err = { 0 };
	struct dx_known_hosts *kh, *again;
	unsigned char blob[256];
	size_t line, blen = b64(K1, blob);
	struct stat st;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/known_hosts", dir);
	kh = dx_known_hosts_load(path, &err);
	cr_assert_not_null(kh);
	cr_assert_eq(dx_known_hosts_add(kh, path, "127.0.0.1", 2222, blob, blen,
	    &err), 0, "%s", err.msg);
	cr_expect_eq(dx_known_hosts_check(kh, "127.0.0.1", 2222, blob, blen,
	    &line), DX_HK_MATCH);
	cr_expect_eq(line, 1);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	/* A second host on port 22 goes in plain form, on the next line. */
	cr_assert_eq(dx_known_hosts_add(kh, path, "Web1", 22, blob, blen, &err), 0);
	cr_expect_eq(dx_known_hosts_check(kh, "web1", 22, blob, blen, &line),
	    DX_HK_MATCH);
	cr_expect_eq(line, 2);

	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	cr_expect_str_eq(buf, "[127.0.0.1]:2222 " ED K1 "\n");
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	cr_expect_str_eq(buf, "web1 " ED K1 "\n");
	fclose(f);

	again = dx_known_hosts_load(path, &err);
	cr_assert_not_null(again);
	cr_expect_eq(dx_known_hosts_check(again, "127.0.0.1", 2222, blob, blen,
	    &line), DX_HK_MATCH);
	cr_expect_eq(line, 1);
	dx_known_hosts_free(again);
	dx_known_hosts_free(kh);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

Test(knownhosts, add_never_glues_onto_an_unterminated_last_line)
{
	char path[] = "/tmp/dx-kh-XXXXXX", buf[512];
	struct dx_err err = { 0 };
	struct dx_known_hosts *kh;
	unsigned char blob[256];
	size_t line, blen = b64(K1, blob);
	FILE *f;
	int fd;

	cr_assert((fd = mkstemp(path)) >= 0);
	cr_assert_eq(write(fd, "other " ED K2, strlen("other " ED K2)),
	    (ssize_t)strlen("other " ED K2));
	close(fd);
	kh = dx_known_hosts_load(path, &err);
	cr_assert_not_null(kh);
	cr_assert_eq(dx_known_hosts_add(kh, path, "web1", 22, blob, blen, &err), 0);
	cr_expect_eq(dx_known_hosts_check(kh, "web1", 22, blob, blen, &line),
	    DX_HK_MATCH);
	cr_expect_eq(line, 2);
	dx_known_hosts_free(kh);

	kh = dx_known_hosts_load(path, &err);
	cr_assert_not_null(kh);
	cr_expect_eq(dx_known_hosts_check(kh, "web1", 22, blob, blen, &line),
	    DX_HK_MATCH);
	cr_expect_eq(line, 2);
	cr_expect_eq(dx_known_hosts_check(kh, "other", 22, blob, blen, &line),
	    DX_HK_MISMATCH);
	cr_expect_eq(line, 1);
	dx_known_hosts_free(kh);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	cr_expect_str_eq(buf, "other " ED K2 "\n");
	fclose(f);
	unlink(path);
}

Test(knownhosts, unreadable_file_is_an_error_not_an_empty_set)
{
	struct dx_err err = { 0 };

	/* A directory cannot be read as a file. */
	cr_expect_null(dx_known_hosts_load("/tmp", &err));
	cr_expect_eq(err.kind, DX_HOSTKEY_UNKNOWN);
	cr_expect(strstr(err.msg, "'/tmp'") != NULL, "%s", err.msg);
}

Test(knownhosts, fingerprint_is_what_ssh_keygen_prints)
{
	unsigned char blob[256];
	size_t blen = b64(K1, blob);
	char *fp = dx_kh_fingerprint(blob, blen);

	/* ssh-keygen -lf of "web1 ssh-ed25519 K1". */
	cr_assert_not_null(fp);
	cr_expect_str_eq(fp, "SHA256:PXyv2SbNPYEPRxgDiaW8OBcU8XIw9td7GH4ADFz7k04");
	free(fp);
}

Test(knownhosts, devices_and_fifos_are_refused_without_blocking)
{
	char dir[] = "/tmp/dx-kh-XXXXXX", fifo[256];
	struct dx_err err = { 0 };

	cr_expect_null(dx_known_hosts_load("/dev/zero", &err));
	cr_expect(strstr(err.msg, "not a regular file") != NULL, "%s", err.msg);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert(mkfifo(fifo, 0600) == 0);
	cr_expect_null(dx_known_hosts_load(fifo, &err));
	cr_expect(strstr(err.msg, "FIFO") != NULL, "%s", err.msg);
	unlink(fifo);
	rmdir(dir);
}

/* The store: user and global files as one set (knownhosts.h). */
struct kh_set_case {
	const char	*name;
	const char	*user;
	const char	*global;
	const char	*key;
	enum dx_kind	 want;
	const char	*where;		/* in the message, or NULL */
};

static const struct kh_set_case kh_set_cases[] = {
	{ "user match", "web1 " ED K1 "\n", "", K1, DX_OK, NULL },
	{ "global match", "", "web1 " ED K1 "\n", K1, DX_OK, NULL },
	{ "unknown in both", "", "web2 " ED K1 "\n", K1, DX_HOSTKEY_UNKNOWN,
	    "is unknown: no line for the host in" },
	{ "global pins another key", "", "#\nweb1 " ED K2 "\n", K1,
	    DX_HOSTKEY_MISMATCH, "G:2" },
	{ "user pins another key", "web1 " ED K2 "\n", "", K1,
	    DX_HOSTKEY_MISMATCH, "U:1" },
	{ "a match in one file beats a pin in another (as OpenSSH)",
	    "web1 " ED K2 "\n", "web1 " ED K1 "\n", K1, DX_OK, NULL },
	{ "revoked in the global file beats a user match",
	    "web1 " ED K1 "\n", "@revoked * " ED K1 "\n", K1,
	    DX_HOSTKEY_MISMATCH, "revoked in G:1" },
	{ "revoked in the user file beats a global match",
	    "@revoked web1 " ED K1 "\n", "web1 " ED K1 "\n", K1,
	    DX_HOSTKEY_MISMATCH, "revoked in U:1" },
};

static void
kh_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert(fclose(f) == 0);
}

Test(knownhosts, store_reads_user_and_global_files_as_one_set)
{
	for (size_t i = 0; i < sizeof(kh_set_cases) / sizeof(kh_set_cases[0]); i++) {
		const struct kh_set_case *c = &kh_set_cases[i];
		char dir[] = "/tmp/dx-kh-XXXXXX", u[256], g[256], want[300];
		const char *user[1] = { u }, *global[1] = { g };
		struct dx_kh_files files = { user, 1, global, 1, false };
		struct dx_err err = { 0 };
		struct dx_kh_store *st;
		unsigned char blob[256];
		size_t blen = b64(c->key, blob);
		int rc;

		cr_assert_not_null(mkdtemp(dir));
		snprintf(u, sizeof(u), "%s/U", dir);
		snprintf(g, sizeof(g), "%s/G", dir);
		kh_write(u, c->user);
		kh_write(g, c->global);
		cr_assert_not_null(st = dx_kh_store_new(&err));
		rc = dx_kh_verify(st, &files, "web1", 22, blob, blen, false,
		    "SHA256:x", &err);
		cr_expect_eq(rc, c->want == DX_OK ? 0 : -1, "%s: rc %d", c->name, rc);
		cr_expect_eq(err.kind, c->want, "%s: kind %s (%s)", c->name,
		    dx_kind_name(err.kind), err.msg);
		if (c->where != NULL) {
			/* Paths are named in full: "DIR/G:2". */
			if (c->where[0] == 'U' || c->where[0] == 'G')
				snprintf(want, sizeof(want), "%s/%s", dir, c->where);
			else if (strncmp(c->where, "revoked in ", 11) == 0)
				snprintf(want, sizeof(want), "revoked in %s/%s", dir,
				    c->where + 11);
			else
				snprintf(want, sizeof(want), "%s", c->where);
			cr_expect(strstr(err.msg, want) != NULL, "%s: '%s' not in '%s'",
			    c->name, want, err.msg);
			cr_expect(strstr(err.msg, "ssh-ed25519 SHA256:x") != NULL,
			    "%s: %s", c->name, err.msg);
		}
		dx_kh_store_free(st);
		unlink(u);
		unlink(g);
		rmdir(dir);
	}
}

Test(knownhosts, accept_new_rereads_a_file_another_process_changed)
{
	char dir[] = "/tmp/dx-kh-XXXXXX", u[256], g[256], *text, *p;
	const char *user[1] = { u }, *global[1] = { g };
	struct dx_kh_files files = { user, 1, global, 1, false };
	struct dx_err err = { 0 };
	struct dx_kh_store *st;
	unsigned char blob[256];
	size_t blen = b64(K1, blob);
	char types[4][DX_KH_TYPE_MAX];
	FILE *f;
	long len;
	int n = 0;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(u, sizeof(u), "%s/U", dir);
	snprintf(g, sizeof(g), "%s/G", dir);
	kh_write(u, "");
	cr_assert_not_null(st = dx_kh_store_new(&err));
	/* Loaded (empty) now ... */
	cr_expect_eq(dx_kh_types(st, &files, "web1", 22, types, 4, &err), 0);
	/* ... then another run adds the host (as dronex would, under its lock). */
	kh_write(u, "# other run\nweb1 " ED K1 "\n");
	cr_expect_eq(dx_kh_verify(st, &files, "web1", 22, blob, blen, true,
	    "SHA256:x", &err), 0, "%s", err.msg);
	cr_assert_not_null(f = fopen(u, "r"));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	cr_assert_not_null(text = calloc(1, (size_t)len + 1));
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	for (p = text; (p = strstr(p, K1)) != NULL; p++)
		n++;
	cr_expect_eq(n, 1, "the key is in the file %d times:\n%s", n, text);
	/* A new host is appended once and then known. */
	cr_expect_eq(dx_kh_verify(st, &files, "web2", 22, blob, blen, true,
	    "SHA256:x", &err), 0, "%s", err.msg);
	cr_expect_eq(dx_kh_verify(st, &files, "web2", 22, blob, blen, false,
	    "SHA256:x", &err), 0, "%s", err.msg);
	dx_kh_store_free(st);
	free(text);
	unlink(u);
	rmdir(dir);
}

/* The whole file (the test fails if it cannot be read). */
static char *
kh_read_all(const char *path)
{
	char *text;
	FILE *f;
	long len;

	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	cr_assert_not_null(text = calloc(1, (size_t)len + 1));
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

/* HashKnownHosts yes: accept-new writes "|1|salt|hash", which matches after. */
Test(knownhosts, accept_new_writes_a_hashed_name_when_asked)
{
	char dir[] = "/tmp/dx-kh-XXXXXX", u[256], g[256], *text;
	const char *user[1] = { u }, *global[1] = { g };
	struct dx_kh_files files = { user, 1, global, 1, true };
	struct dx_err err = { 0 };
	struct dx_kh_store *st;
	struct dx_known_hosts *kh;
	unsigned char blob[256];
	size_t line, blen = b64(K1, blob);

	cr_assert_not_null(mkdtemp(dir));
	snprintf(u, sizeof(u), "%s/U", dir);
	snprintf(g, sizeof(g), "%s/G", dir);
	cr_assert_not_null(st = dx_kh_store_new(&err));
	cr_expect_eq(dx_kh_verify(st, &files, "127.0.0.1", 2222, blob, blen, true,
	    "SHA256:x", &err), 0, "%s", err.msg);
	/* Known at once to this run, without a second line. */
	cr_expect_eq(dx_kh_verify(st, &files, "127.0.0.1", 2222, blob, blen,
	    false, "SHA256:x", &err), 0, "%s", err.msg);
	dx_kh_store_free(st);
	cr_assert_not_null(text = kh_read_all(u));
	cr_expect(strncmp(text, "|1|", 3) == 0, "not hashed: %s", text);
	cr_expect(strstr(text, "127.0.0.1") == NULL, "the name is readable: %s", text);
	cr_expect(strchr(text, '\n') == strrchr(text, '\n'), "more than one line: %s",
	    text);
	cr_expect(strstr(text, " " ED K1 "\n") != NULL, "%s", text);
	/* A fresh read matches the hashed line, and only for that host. */
	cr_assert_not_null(kh = dx_known_hosts_load(u, &err), "%s", err.msg);
	cr_expect_eq(dx_known_hosts_check(kh, "127.0.0.1", 2222, blob, blen, &line),
	    DX_HK_MATCH);
	cr_expect_eq(dx_known_hosts_check(kh, "127.0.0.1", 2223, blob, blen, &line),
	    DX_HK_UNKNOWN);
	dx_known_hosts_free(kh);
	free(text);
	unlink(u);
	rmdir(dir);
}

Test(knownhosts, a_huge_file_is_refused_without_reading_it)
{
	char dir[] = "/tmp/dx-kh-XXXXXX", path[256];
	struct dx_err err = { 0 };
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/huge", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	/* Sparse: 65 MiB of size, no disk. */
	cr_assert(ftruncate(fileno(f), (off_t)DX_KH_MAX_BYTES + 1024 * 1024) == 0);
	fclose(f);
	cr_expect_null(dx_known_hosts_load(path, &err));
	cr_expect(strstr(err.msg, "larger than") != NULL, "%s", err.msg);
	unlink(path);
	rmdir(dir);
}
