/*
 * conn_auth.c - authentication of a connection that has passed its host
 * key check (conn.h): public keys only, in SPEC section 6's order.
 *
 * The target's identity files come first (read once per run and signed
 * with here when they are unencrypted ed25519 keys: identity.c), then the
 * ssh-agent's keys (agent.c, every wait bounded by the same budget,
 * deadline and abort pipe as the socket's; with IdentitiesOnly only those
 * of the identity files named, as OpenSSH), then, when the target names no file (as OpenSSH does),
 * ~/.ssh/id_ed25519, id_ecdsa and id_rsa.  A failure names every key
 * tried and why each was not used; a server that hangs up after too many
 * refused keys (sshd's MaxAuthTries) is told apart, with the number of
 * keys offered.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "base64.h"
#include "conn_int.h"
#include "fdwait.h"
#include "fileio.h"

/* Appends ", item" (or "item") to a bounded list for messages. */
static void
auth_note(char *buf, size_t size, const char *item, const char *extra)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s%s", len ? ", " : "", item, extra);
}

/*
 * One wait of authentication: 0 when libssh2 may go on, -1 with err set
 * when the budget ran out (DX_CONNECT_TIMEOUT) or the wait was cut.
 */
static int
auth_wait(struct dx_conn *c, int64_t until, struct dx_err *err)
{
	char tbuf[32];
	int r;

	if ((r = dx_conn_wait(c, 0, until, err)) == DX_CONN_EXPIRED)
		return dx_err_set(err, DX_CONNECT_TIMEOUT,
		    "authentication to %s timed out after %s", c->hp,
		    dx_fmt_secs(tbuf, sizeof(tbuf), c->budget));
	return r;
}

/* The problem with an identity, kept for the final message (first wins). */
struct auth_log {
	char	 tried[200];
	char	 problem[200];
	size_t	 offered;	/* public keys offered to the server */
	int	 disc_reason;	/* SSH_MSG_DISCONNECT's reason; 0: none came */
	char	 disc_msg[128];	/* and its description */
};

/* Identity files whose keys an IdentitiesOnly target takes from the agent. */
#define CONN_AUTH_MAX_ALLOW	32

/* SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE (RFC 4253 11.1). */
#define AUTH_DISC_NO_MORE_AUTH	14

/*
 * libssh2's disconnect callback: the session's abstract points at the
 * auth_log while dx_conn_auth() runs (set and cleared there).
 */
static void
auth_disconnected(LIBSSH2_SESSION *s, int reason, const char *msg, int msglen,
    const char *lang, int langlen, void **abstract)
{
	struct auth_log *log = *abstract;

	(void)s;
	(void)lang;
	(void)langlen;
	if (log == NULL)
		return;
	log->disc_reason = reason;
	snprintf(log->disc_msg, sizeof(log->disc_msg), "%.*s",
	    msglen > 0 && msg != NULL ? msglen : 0, msg != NULL ? msg : "");
	for (char *p = log->disc_msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/*
 * One public key offer, signed by sign with abstract.  Returns 0 when the
 * key was accepted, 1 when it was not, -1 with err set when the wait was
 * cut or the session died.
 */
static int
auth_offer(struct dx_conn *c, const char *label, const unsigned char *pub,
    size_t publen, LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*sign)),
    void **abstract, const struct dx_identity *id, int64_t until,
    struct auth_log *log, struct dx_err *err)
{
	const char *user = c->target->user;
	int r;

	log->offered++;
	while ((r = pub != NULL ?
	    libssh2_userauth_publickey(c->s, user, pub, publen, sign, abstract) :
	    libssh2_userauth_publickey_frommemory(c->s, user, strlen(user), NULL,
	    0, id->text, id->textlen, NULL)) == LIBSSH2_ERROR_EAGAIN) {
		if (auth_wait(c, until, err) == -1)
			return -1;
	}
	if (r == 0)
		return 0;
	/*
	 * A server that hangs up mid-offer makes libssh2 1.10 report the key
	 * as unverified: the disconnect message (auth_disconnected()) tells.
	 */
	if (log->disc_reason != 0)
		r = LIBSSH2_ERROR_SOCKET_DISCONNECT;
	switch (r) {
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_DECRYPT:
	case LIBSSH2_ERROR_PROTO:
		auth_note(log->tried, sizeof(log->tried), label, "");
		dx_conn_mark_dead(c);
		/*
		 * sshd counts every key offered against MaxAuthTries (6 by
		 * default) and then hangs up: say so, and how many keys it took.
		 */
		if (log->disc_reason == AUTH_DISC_NO_MORE_AUTH ||
		    strcasestr(log->disc_msg, "too many authentication") != NULL)
			return dx_err_set(err, DX_AUTH, "%s closed the connection "
			    "after %zu key%s offered for user '%s': too many "
			    "authentication failures (the server's MaxAuthTries; "
			    "name fewer identity files, or IdentitiesOnly yes) "
			    "(tried: %s)", c->hp, log->offered,
			    log->offered == 1 ? "" : "s", user, log->tried);
		return dx_err_set(err, DX_AUTH, "connection to %s closed during "
		    "authentication as '%s' after %zu key%s offered%s%s%s "
		    "(tried: %s)", c->hp, user, log->offered,
		    log->offered == 1 ? "" : "s", log->disc_msg[0] ? " ('" : "",
		    log->disc_msg, log->disc_msg[0] ? "')" : "", log->tried);
	default:
		return 1;
	}
}

/*
 * Tries the agent's keys (agent.c: every wait bounded).  Returns 0 when
 * one was accepted, 1 when none was, -1 with err set when the wait was cut
 * or the session died.
 */
/*
 * The public keys an IdentitiesOnly target lets the agent sign with: those
 * of its identity files, as OpenSSH uses the agent for an IdentityFile
 * whose key the agent holds (an encrypted key added with ssh-add).  Each
 * blob comes from the parsed file, else from FILE.pub.
 */
struct auth_allow {
	unsigned char	*blob[CONN_AUTH_MAX_ALLOW];
	size_t		 len[CONN_AUTH_MAX_ALLOW];
	size_t		 n;
};

/* FILE.pub's key blob into a->blob[a->n] (nothing if unreadable). */
static void
auth_allow_pub(struct auth_allow *a, const char *path)
{
	char pub[PATH_MAX], why[DX_FILE_WHY], *p, *e;
	struct dx_file f = { 0 };
	unsigned char *blob;
	long n;
	int code;

	if (snprintf(pub, sizeof(pub), "%s.pub", path) >= (int)sizeof(pub) ||
	    dx_file_read(pub, 64 * 1024, &f, &code, why, sizeof(why)) == -1)
		return;
	/* "type base64 [comment]" */
	if ((p = strchr(f.data, ' ')) != NULL) {
		p++;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\n' && *e != '\r'; e++)
			;
		if ((blob = malloc((size_t)(e - p) / 4 * 3 + 3)) != NULL) {
			if ((n = dx_base64_decode(p, (size_t)(e - p), blob)) > 4) {
				a->blob[a->n] = blob;
				a->len[a->n++] = (size_t)n;
			} else
				free(blob);
		}
	}
	dx_file_wipe(&f);
}

static void
auth_allow_init(struct auth_allow *a, struct dx_conn *c)
{
	const struct dx_target *t = c->target;
	const struct dx_identity *id;

	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < t->nidentities && a->n < CONN_AUTH_MAX_ALLOW; i++) {
		id = dx_identities_get(&c->shared->ids, t->identities[i]);
		if (id != NULL && id->pub != NULL &&
		    (a->blob[a->n] = malloc(id->publen)) != NULL) {
			memcpy(a->blob[a->n], id->pub, id->publen);
			a->len[a->n++] = id->publen;
		} else
			auth_allow_pub(a, t->identities[i]);
	}
}

static void
auth_allow_release(struct auth_allow *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blob[i]);
	a->n = 0;
}

static bool
auth_allowed(const struct auth_allow *a, const unsigned char *blob, size_t len)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->len[i] == len && memcmp(a->blob[i], blob, len) == 0)
			return true;
	return false;
}

static int
auth_agent(struct dx_conn *c, int64_t until, const struct auth_allow *allow,
    struct auth_log *log, struct dx_err *err)
{
	struct dx_agent_signer sg;
	struct dx_agent *ag = NULL;
	const unsigned char *blob;
	char extra[32], tbuf[32];
	void *abstract = &sg;
	size_t n, len, nskipped = 0;
	int r, rc = 1;

	snprintf(c->what, sizeof(c->what), " asking the ssh-agent for keys to "
	    "authenticate to %s", c->hp);
	if ((r = dx_agent_open(c->shared->agent, until, c->ctl, &ag, err)) ==
	    DX_WAIT_EXPIRED)
		return dx_err_set(err, DX_CONNECT_TIMEOUT, "authentication to %s "
		    "timed out after %s: the ssh-agent at '%s' did not answer",
		    c->hp, dx_fmt_secs(tbuf, sizeof(tbuf), c->budget), c->shared->agent);
	if (r == -1)
		return -1;
	if (r != 0) {
		auth_note(log->tried, sizeof(log->tried), "agent", " (unreachable)");
		dx_err_clear(err);
		return 1;
	}
	snprintf(c->what, sizeof(c->what), " during authentication to %s",
	    c->hp);
	n = dx_agent_nkeys(ag);
	for (size_t i = 0; i < n && rc == 1; i++) {
		blob = dx_agent_key(ag, i, &len);
		if (allow != NULL && !auth_allowed(allow, blob, len)) {
			nskipped++;
			continue;
		}
		memset(&sg, 0, sizeof(sg));
		sg.agent = ag;
		sg.key = i;
		sg.until = until;
		sg.ctl = c->ctl;
		rc = auth_offer(c, "agent", blob, len, dx_agent_sign, &abstract,
		    NULL, until, log, err);
		/* The agent, not the server, ran out of time or was cut. */
		if (rc == 1 && sg.rc == DX_WAIT_EXPIRED)
			rc = dx_err_set(err, DX_CONNECT_TIMEOUT, "authentication to "
			    "%s timed out after %s: the ssh-agent at '%s' did not "
			    "sign", c->hp, dx_fmt_secs(tbuf, sizeof(tbuf), c->budget),
			    c->shared->agent);
		else if (rc == 1 && sg.rc == -1) {
			*err = sg.err;
			rc = -1;
		}
	}
	if (rc == 1 && n - nskipped > 0) {
		n -= nskipped;
		snprintf(extra, sizeof(extra), " (%zu key%s)", n, n == 1 ? "" : "s");
		auth_note(log->tried, sizeof(log->tried), "agent", extra);
	}
	dx_agent_close(ag);
	return rc;
}

/*
 * Like auth_agent() for one private key file.  A file that cannot be
 * used (identity.c says why) is not offered; quiet is for the default
 * ~/.ssh/id_* files, which need not exist.
 */
static int
auth_file(struct dx_conn *c, const char *path, bool quiet, int64_t until,
    struct auth_log *log, struct dx_err *err)
{
	const struct dx_identity *id;
	void *abstract;
	int r;

	if ((id = dx_identities_get(&c->shared->ids, path)) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory reading "
		    "identity file '%s'", path);
	if (id->problem != NULL) {
		if (quiet && id->missing)
			return 1;
		auth_note(log->tried, sizeof(log->tried), path, " (unusable)");
		if (log->problem[0] == '\0')
			snprintf(log->problem, sizeof(log->problem), "%s", id->problem);
		return 1;
	}
	if (id->encrypted && id->pkey == NULL) {
		/* A passphrase is never asked for: the key is skipped. */
		auth_note(log->tried, sizeof(log->tried), path, " (encrypted, skipped)");
		return 1;
	}
	abstract = id->pkey;
	if ((r = auth_offer(c, path, id->pkey ? id->pub : NULL, id->publen,
	    dx_identity_sign, &abstract, id, until, log, err)) != 1)
		return r;
	/*
	 * libssh2 1.10 signs with SHA-2 only when the server lists it in
	 * server-sig-algs; ssh-rsa (SHA-1) is refused by OpenSSH 8.8 and later.
	 */
	auth_note(log->tried, sizeof(log->tried), path, id->rsa ?
	    " (rsa: refused; libssh2 1.10 may have signed with ssh-rsa SHA-1, "
	    "which OpenSSH 8.8+ refuses by default)" : "");
	return 1;
}

/*
 * SPEC section 6's order: the identity files the target names
 * (--identity, else the inventory's, else ssh_config's IdentityFile),
 * then the agent's keys (none with IdentitiesOnly), then (when no file is
 * named, as OpenSSH does) ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
 */
static int auth_keys(struct dx_conn *c, int64_t until, struct auth_log *log,
    struct dx_err *err);

int
dx_conn_auth(struct dx_conn *c, int64_t until, struct dx_err *err)
{
	struct auth_log log;
	void **abstract = libssh2_session_abstract(c->s);
	void *saved = *abstract;
	int rc;

	memset(&log, 0, sizeof(log));
	*abstract = &log;
	libssh2_session_callback_set(c->s, LIBSSH2_CALLBACK_DISCONNECT,
	    (void *)auth_disconnected);
	rc = auth_keys(c, until, &log, err);
	libssh2_session_callback_set(c->s, LIBSSH2_CALLBACK_DISCONNECT, NULL);
	*abstract = saved;
	return rc;
}

static int
auth_keys(struct dx_conn *c, int64_t until, struct auth_log *logp,
    struct dx_err *err)
{
	static const char *const defaults[] = { "id_ed25519", "id_ecdsa",
	    "id_rsa" };
	const struct dx_target *d = c->target;
	const char *const *named = (const char *const *)d->identities;
	size_t nnamed = d->nidentities;
	struct auth_log *log = logp;
	char path[PATH_MAX];
	const char *list;
	int r, rc;

	snprintf(c->what, sizeof(c->what), " during authentication to %s",
	    c->hp);
	while ((list = libssh2_userauth_list(c->s, d->user,
	    (unsigned int)strlen(d->user))) == NULL) {
		if (libssh2_userauth_authenticated(c->s))
			return 0;
		if ((rc = libssh2_session_last_errno(c->s)) !=
		    LIBSSH2_ERROR_EAGAIN) {
			dx_conn_mark_dead(c);
			return dx_err_set(err, DX_NETWORK,
			    "connection to %s lost during authentication: %s",
			    c->hp, dx_conn_errmsg(c));
		}
		if (auth_wait(c, until, err) == -1)
			return -1;
	}
	if (strstr(list, "publickey") == NULL)
		return dx_err_set(err, DX_AUTH, "%s offers user '%s' no public key "
		    "authentication (offers: %s)", c->hp, d->user, list);
	for (size_t i = 0; i < nnamed; i++)
		if ((r = auth_file(c, named[i], false, until, log, err)) != 1)
			return r;
	if (c->shared->agent != NULL && !d->identities_only &&
	    (r = auth_agent(c, until, NULL, log, err)) != 1)
		return r;
	/* IdentitiesOnly: only the agent's keys of the files named. */
	if (c->shared->agent != NULL && d->identities_only && nnamed > 0) {
		struct auth_allow allow;

		auth_allow_init(&allow, c);
		r = allow.n > 0 ? auth_agent(c, until, &allow, log, err) : 1;
		auth_allow_release(&allow);
		if (r != 1)
			return r;
	}
	for (size_t i = 0; nnamed == 0 && c->shared->home != NULL && i < 3; i++) {
		snprintf(path, sizeof(path), "%s/.ssh/%s", c->shared->home,
		    defaults[i]);
		if ((r = auth_file(c, path, true, until, log, err)) != 1)
			return r;
	}
	if (log->problem[0] != '\0')
		return dx_err_set(err, DX_AUTH, "%s; no key accepted for user '%s' "
		    "(tried: %s)", log->problem, d->user, log->tried);
	return dx_err_set(err, DX_AUTH, "no key accepted for user '%s' (tried: %s)",
	    d->user, log->tried[0] ? log->tried : d->identities_only &&
	    c->shared->agent != NULL ? "nothing: IdentitiesOnly yes skips the "
	    "agent, and no identity file" : "nothing: no agent, no identity file");
}
