/*
 * conn.c - one SSH connection as an object (conn.h): its life cycle, its
 * owner hand-over, and the one wait every step of its session goes
 * through.
 *
 * Theory of operation.  A connection is made from a target (target.h: the
 * drone's effective settings) and the run's shared state, and owned by one
 * thread at a time (dx_conn_attach()/dx_conn_detach() under its mutex).
 * Opening it goes through fixed phases over a transport (transport.h: a
 * TCP socket, or a descriptor a pump relays): TCP connect and the server's
 * banner (these two share the connect budget, as with OpenSSH's
 * ConnectTimeout), key exchange, host key check and authentication
 * (conn_auth.c; these share DX_CONN_KEX_FACTOR times that budget: they
 * cost CPU on both ends and wait behind other sessions on a busy server).
 * Then the connection carries calls (call.c), one channel each, until it
 * is closed.
 *
 * Every libssh2 call that says LIBSSH2_ERROR_EAGAIN is followed by one
 * helper, dx_conn_wait(), which polls the transport in the directions
 * libssh2 is blocked on, together with the queue's abort pipe, for no
 * longer than the nearest of: the phase budget (connect budget or call
 * timeout), the run deadline and the next SSH keepalive.  Nothing sleeps,
 * nothing spins and no wait outlives an abort.
 *
 * Teardown never waits on the peer without a bound: a healthy session
 * gets one disconnect message (not waited for); then the transport is
 * shut down, so that libssh2's frees can only fail fast, and closed only
 * after the session is freed, so that no other thread's new socket can
 * reuse the descriptor while libssh2 may still write to it.
 *
 * The shared state is read-mostly: the known_hosts store (khstore.c: every
 * file parsed once per run, its own locks, the user's and the global
 * files checked as one set), identity files read once per path
 * (identity.c), $HOME and $SSH_AUTH_SOCK, and the host key algorithms
 * libssh2 supports.  This file only calls those modules; it knows nothing
 * of their caches or locks.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_int.h"
#include "home.h"

#define CONN_POLL_MAX_MS	60000	/* longest single poll, for sanity */
#define CONN_KA_MAX		3	/* unanswered keepalives before "lost" */

/*
 * The host key algorithms this libssh2 build supports, as ",a,b,"; NULL if
 * unknown (then no preference is set).  libssh2_session_method_pref()
 * must only see supported names: 1.10 drops the others with an
 * overlapping memcpy.
 */
static char *
conn_supported_hostkey_algs(void)
{
	LIBSSH2_SESSION *s;
	const char **algs = NULL;
	char *list = NULL;
	size_t len = 2;
	int n;

	if ((s = libssh2_session_init()) == NULL)
		return NULL;
	if ((n = libssh2_session_supported_algs(s, LIBSSH2_METHOD_HOSTKEY,
	    &algs)) > 0) {
		for (int i = 0; i < n; i++)
			len += strlen(algs[i]) + 1;
		if ((list = malloc(len)) != NULL) {
			strcpy(list, ",");
			for (int i = 0; i < n; i++) {
				strcat(list, algs[i]);
				strcat(list, ",");
			}
		}
		libssh2_free(s, algs);
	}
	libssh2_session_free(s);
	return list;
}

struct dx_conn_shared *
dx_conn_shared_new(struct dx_err *err)
{
	struct dx_conn_shared *sh;
	const char *sock;
	struct dx_err kerr;

	if ((sh = calloc(1, sizeof(*sh))) == NULL)
		goto oom;
	if (dx_identities_init(&sh->ids) != 0) {
		free(sh);
		goto oom;
	}
	/* HOME, else the passwd entry (home.h); none known: no ~/.ssh/id_*. */
	sh->home = dx_home_dir(NULL);
	if ((sock = getenv("SSH_AUTH_SOCK")) != NULL && *sock != '\0' &&
	    (sh->agent = strdup(sock)) == NULL)
		goto oom;
	sh->hk_algs = conn_supported_hostkey_algs();
	if ((sh->kh = dx_kh_store_new(&kerr)) == NULL ||
	    (sh->jumps = dx_jump_reg_new(sh, &kerr)) == NULL) {
		dx_conn_shared_free(sh);
		*err = kerr;
		return NULL;
	}
	return sh;
oom:
	dx_conn_shared_free(sh);
	dx_err_set(err, DX_INTERNAL, "out of memory starting the ssh executor");
	return NULL;
}

void
dx_conn_shared_free(struct dx_conn_shared *sh)
{
	if (sh == NULL)
		return;
	/* The pumps' sessions use the rest: they go first. */
	dx_jump_reg_free(sh->jumps);
	dx_identities_release(&sh->ids);
	dx_kh_store_free(sh->kh);
	free(sh->hk_algs);
	free(sh->agent);
	free(sh->home);
	free(sh);
}

const char *
dx_conn_shared_home(const struct dx_conn_shared *sh)
{
	return sh->home;
}

struct dx_conn *
dx_conn_new(const struct dx_target *t, struct dx_conn_shared *sh,
    struct dx_err *err)
{
	struct dx_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto oom;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		goto oom;
	}
	if (pthread_cond_init(&c->cond, NULL) != 0) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		goto oom;
	}
	c->target = t;
	c->shared = sh;
	dx_transport_init(&c->tr);
	dx_fmt_hostport(c->hp, sizeof(c->hp), t->host, t->port, DX_HP_SSH);
	return c;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory connecting to '%s'", t->host);
	return NULL;
}

/* Closes what is open; the owner's (or nobody's) business. */
static void
conn_teardown(struct dx_conn *c)
{
	int i;

	if (c->s != NULL && c->healthy) {
		/* One try: a full send buffer is no reason to wait. */
		libssh2_session_disconnect_ex(c->s, SSH_DISCONNECT_BY_APPLICATION,
		    "dronex done", "");
	}
	dx_transport_shutdown(&c->tr);
	if (c->s != NULL)
		for (i = 0; libssh2_session_free(c->s) == LIBSSH2_ERROR_EAGAIN &&
		    i < 8; i++)
			;
	c->s = NULL;
	c->healthy = false;
	c->ka_next = 0;
	dx_transport_close(&c->tr);
}

void
dx_conn_free(struct dx_conn *c)
{
	if (c == NULL)
		return;
	conn_teardown(c);
	free(c->fingerprint);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int
dx_conn_attach(struct dx_conn *c, struct dx_err *err)
{
	pthread_t self = pthread_self();
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (c->attached && pthread_equal(c->owner, self)) {
		rc = dx_err_set(err, DX_INTERNAL, "connection to %s: this thread "
		    "is attached already", c->hp);
		goto out;
	}
	c->waiting++;
	while (c->attached)
		pthread_cond_wait(&c->cond, &c->lock);
	c->waiting--;
	c->attached = true;
	c->owner = self;
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
dx_conn_detach(struct dx_conn *c, struct dx_err *err)
{
	bool wake;

	pthread_mutex_lock(&c->lock);
	if (!c->attached || !pthread_equal(c->owner, pthread_self())) {
		pthread_mutex_unlock(&c->lock);
		return dx_err_set(err, DX_INTERNAL, "connection to %s: detach by "
		    "a thread that is not attached", c->hp);
	}
	c->attached = false;
	wake = c->waiting > 0;
	pthread_mutex_unlock(&c->lock);
	if (wake)
		pthread_cond_signal(&c->cond);
	return 0;
}

int
dx_conn_owned(struct dx_conn *c, const char *op, struct dx_err *err)
{
	bool mine;

	pthread_mutex_lock(&c->lock);
	mine = c->attached && pthread_equal(c->owner, pthread_self());
	pthread_mutex_unlock(&c->lock);
	if (!mine)
		return dx_err_set(err, DX_INTERNAL, "%s on the connection to %s "
		    "by a thread that is not attached to it", op, c->hp);
	return 0;
}

const char *
dx_conn_errmsg(struct dx_conn *c)
{
	char *msg = NULL;

	if (c->s == NULL || libssh2_session_last_error(c->s, &msg, NULL, 0) == 0 ||
	    msg == NULL || *msg == '\0')
		return "unknown error";
	return msg;
}

bool
dx_conn_rc_fatal(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED:
	case LIBSSH2_ERROR_CHANNEL_UNKNOWN:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_CHANNEL_OUTOFORDER:
	case LIBSSH2_ERROR_BAD_USE:
	case LIBSSH2_ERROR_INVAL:
	case LIBSSH2_ERROR_ALLOC:
		return false;
	default:
		return true;
	}
}

void
dx_conn_mark_dead(struct dx_conn *c)
{
	c->healthy = false;
	dx_transport_shutdown(&c->tr);
}

int
dx_conn_lost(struct dx_conn *c, struct dx_err *err)
{
	dx_conn_mark_dead(c);
	return dx_err_set(err, DX_CONNECTION_LOST, "connection to %s lost%s",
	    c->hp, c->what);
}

/*
 * Sends a keepalive when one is due.  A peer that is frozen or behind a
 * dead link may still have its kernel ack our bytes, so TCP alone cannot
 * tell; as OpenSSH's ServerAliveCountMax, the target's
 * server_alive_count_max (default CONN_KA_MAX) keepalives in a row with
 * nothing at all heard back from the server end the connection.
 */
static int
conn_keepalive(struct dx_conn *c, int64_t now, struct dx_err *err)
{
	int next = 0, rc;

	if (c->ka_unanswered >= c->target->server_alive_count_max) {
		dx_conn_mark_dead(c);
		return dx_err_set(err, DX_CONNECTION_LOST, "connection to %s lost%s: "
		    "no answer to %d keepalive%s", c->hp, c->what,
		    c->target->server_alive_count_max,
		    c->target->server_alive_count_max == 1 ? "" : "s");
	}
	c->ka_unanswered++;
	rc = libssh2_keepalive_send(c->s, &next);
	/*
	 * BAD_USE: a packet of ours (stdin data, a window adjust) is half
	 * sent and libssh2 sends nothing else until it is; the keepalive is
	 * skipped, and still counts as unanswered.
	 */
	if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN && rc != LIBSSH2_ERROR_BAD_USE)
		return dx_conn_lost(c, err);
	if (next <= 0)
		next = c->target->keepalive_s;
	c->ka_next = now + (int64_t)next * 1000;
	return 0;
}

int
dx_conn_wait(struct dx_conn *c, int events, int64_t until, struct dx_err *err)
{
	struct pollfd pfd[2];
	int64_t now, t, dl;
	int n, dirs, nfds = 1, ms;
	enum dx_kind why;

	if (events == 0) {
		dirs = libssh2_session_block_directions(c->s);
		if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
			events |= POLLIN;
		if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			events |= POLLOUT;
		if (events == 0)
			events = POLLIN;
	}
	pfd[0].fd = c->tr.fd;
	pfd[0].events = (short)events;
	if (!c->cleanup && c->ctl->abort_fd >= 0) {
		pfd[1].fd = c->ctl->abort_fd;
		pfd[1].events = POLLIN;
		nfds = 2;
	}
	dl = c->cleanup ? 0 : c->ctl->deadline;
	for (;;) {
		now = dx_now_ms();
		if (dl != 0 && now >= dl)
			return dx_err_set(err, DX_DEADLINE, "deadline reached%s",
			    c->what);
		if (until != 0 && now >= until)
			return DX_CONN_EXPIRED;
		if (c->ka_next != 0 && now >= c->ka_next) {
			if (conn_keepalive(c, now, err) == -1)
				return -1;
			return 0;
		}
		t = now + CONN_POLL_MAX_MS;
		if (until != 0 && until < t)
			t = until;
		if (dl != 0 && dl < t)
			t = dl;
		if (c->ka_next != 0 && c->ka_next < t)
			t = c->ka_next;
		ms = (int)(t - now);
		n = poll(pfd, (nfds_t)nfds, ms);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return dx_err_set(err, DX_INTERNAL, "poll failed%s: %s",
			    c->what, strerror(errno));
		}
		if (nfds == 2 && pfd[1].revents != 0) {
			if ((why = dx_ctl_aborted(c->ctl)) == DX_OK)
				why = DX_INTERRUPTED;
			return dx_err_set(err, why, why == DX_DEADLINE ?
			    "deadline reached%s" : "interrupted%s", c->what);
		}
		if (n > 0) {
			if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
				c->ka_unanswered = 0;
			return 0;
		}
	}
}

/* Appends alg to the comma list pref if libssh2 supports it and it is new. */
static void
conn_pref_add(const char *supported, char *pref, size_t size, const char *alg,
    size_t alen)
{
	char key[128];
	size_t len = strlen(pref);

	if (alen + 3 > sizeof(key))
		return;
	snprintf(key, sizeof(key), ",%.*s,", (int)alen, alg);
	if (strstr(supported, key) == NULL)
		return;
	/* pref is kept as ",a,b," too while it is built. */
	if (strstr(pref, key) != NULL || len + alen + 2 > size)
		return;
	snprintf(pref + len, size - len, "%s%.*s,", len ? "" : ",", (int)alen, alg);
}

/*
 * Puts the host key types known_hosts has for this host first, as
 * OpenSSH does, so that the server shows a key we can check.
 */
static int
conn_hostkey_prefs(struct dx_conn *c, const struct dx_kh_files *files,
    struct dx_err *err)
{
	const char *sup = c->shared->hk_algs, *p, *e;
	char pref[1024], types[8][DX_KH_TYPE_MAX];
	int n;

	if ((n = dx_kh_types(c->shared->kh, files, c->target->host,
	    c->target->port, types, 8, err)) == -1)
		return -1;
	if (sup == NULL)
		return 0;
	pref[0] = '\0';
	for (int i = 0; i < n; i++) {
		/* An RSA key signs with SHA-2 where both sides can. */
		if (strcmp(types[i], "ssh-rsa") == 0) {
			conn_pref_add(sup, pref, sizeof(pref), "rsa-sha2-512", 12);
			conn_pref_add(sup, pref, sizeof(pref), "rsa-sha2-256", 12);
		}
		conn_pref_add(sup, pref, sizeof(pref), types[i], strlen(types[i]));
	}
	if (pref[0] == '\0')
		return 0;
	/* Then everything else, in libssh2's own order. */
	for (p = sup + 1; *p != '\0'; p = e + 1) {
		e = strchr(p, ',');
		conn_pref_add(sup, pref, sizeof(pref), p, (size_t)(e - p));
	}
	pref[strlen(pref) - 1] = '\0';
	libssh2_session_method_pref(c->s, LIBSSH2_METHOD_HOSTKEY, pref + 1);
	return 0;
}

/*
 * Waits, within the connect budget, for the server's first bytes (its
 * identification line), without consuming them: libssh2 reads them next.
 * A listener that accepts and never speaks fails here, as "handshake",
 * within the connect timeout, as OpenSSH's ConnectTimeout covers the
 * connect and the banner.
 */
static int
conn_banner(struct dx_conn *c, int64_t until, struct dx_err *err)
{
	char b, tbuf[32];
	ssize_t n;
	int r;

	snprintf(c->what, sizeof(c->what), " waiting for the ssh banner of %s",
	    c->hp);
	for (;;) {
		if ((n = recv(c->tr.fd, &b, 1, MSG_PEEK)) == 1)
			return 0;
		if (n == 0)
			return dx_err_set(err, DX_HANDSHAKE, "%s closed the "
			    "connection before its ssh banner", c->hp);
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return dx_err_set(err, DX_HANDSHAKE, "ssh handshake with "
			    "%s failed: %s", c->hp, strerror(errno));
		if ((r = dx_conn_wait(c, POLLIN, until, err)) == -1)
			return -1;
		if (r == DX_CONN_EXPIRED)
			return dx_err_set(err, DX_HANDSHAKE, "ssh handshake with "
			    "%s timed out after %s: no ssh banner", c->hp,
			    dx_fmt_secs(tbuf, sizeof(tbuf), c->budget));
	}
}

static int
conn_handshake(struct dx_conn *c, const struct dx_kh_files *files,
    int64_t until, struct dx_err *err)
{
	const char *m;
	char tbuf[32];
	int rc, r;

	snprintf(c->what, sizeof(c->what), " during the ssh handshake with %s",
	    c->hp);
	if ((c->s = libssh2_session_init()) == NULL)
		return dx_err_set(err, DX_INTERNAL,
		    "out of memory starting an ssh session with %s", c->hp);
	libssh2_session_set_blocking(c->s, 0);
	if (files != NULL && conn_hostkey_prefs(c, files, err) == -1)
		return -1;
	while ((rc = libssh2_session_handshake(c->s, c->tr.fd)) ==
	    LIBSSH2_ERROR_EAGAIN) {
		if ((r = dx_conn_wait(c, 0, until, err)) == -1)
			return -1;
		if (r == DX_CONN_EXPIRED)
			return dx_err_set(err, DX_HANDSHAKE,
			    "ssh handshake with %s timed out after %s", c->hp,
			    dx_fmt_secs(tbuf, sizeof(tbuf), c->budget));
	}
	if (rc != 0) {
		dx_err_set(err, DX_HANDSHAKE, "ssh handshake with %s failed: %s",
		    c->hp, dx_conn_errmsg(c));
		dx_conn_mark_dead(c);
		return -1;
	}
	c->healthy = true;
	if ((m = libssh2_session_methods(c->s, LIBSSH2_METHOD_KEX)) != NULL)
		snprintf(c->kex, sizeof(c->kex), "%s", m);
	if ((m = libssh2_session_methods(c->s, LIBSSH2_METHOD_HOSTKEY)) != NULL)
		snprintf(c->hostkey_type, sizeof(c->hostkey_type), "%s", m);
	return 0;
}

/*
 * Records the key's fingerprint (every drone, whatever the policy) and
 * checks the key against the known_hosts set (khstore.c).
 */
static int
conn_hostkey(struct dx_conn *c, const struct dx_kh_files *files,
    struct dx_err *err)
{
	const struct dx_target *t = c->target;
	const unsigned char *blob;
	size_t len;
	int type;

	blob = (const unsigned char *)libssh2_session_hostkey(c->s, &len, &type);
	if (blob == NULL)
		return dx_err_set(err, DX_HANDSHAKE, "no host key from %s", c->hp);
	if ((c->fingerprint = dx_kh_fingerprint(blob, len)) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory checking the "
		    "host key of %s", c->hp);
	if (files == NULL)
		return 0;
	if (dx_kh_verify(c->shared->kh, files, t->host, t->port, blob, len,
	    t->hostkey_policy == DX_HKC_ACCEPT_NEW, c->fingerprint, err) == -1)
		return -1;
	c->hostkey_checked = true;
	return 0;
}

/*
 * The phases after the transport: banner (within the connect budget, which
 * started before the transport), then key exchange, host key check and
 * authentication within DX_CONN_KEX_FACTOR times it.
 */
static int
conn_start(struct dx_conn *c, int64_t until, struct dx_err *err)
{
	const struct dx_target *t = c->target;
	struct dx_kh_files khf, *files = NULL;

	if (t->hostkey_policy != DX_HKC_OFF) {
		khf.user = (const char *const *)t->known_hosts;
		khf.nuser = t->nknown_hosts;
		khf.global = (const char *const *)t->global_known_hosts;
		khf.nglobal = t->nglobal_known_hosts;
		khf.hash = t->hash_known_hosts;
		files = &khf;
	}
	if (conn_banner(c, until, err) == -1)
		return -1;
	c->budget *= DX_CONN_KEX_FACTOR;
	until = dx_now_ms() + c->budget;
	if (conn_handshake(c, files, until, err) == -1 ||
	    conn_hostkey(c, files, err) == -1 ||
	    dx_conn_auth(c, until, err) == -1)
		return -1;
	if (t->keepalive_s > 0) {
		libssh2_keepalive_config(c->s, 1, (unsigned)t->keepalive_s);
		c->ka_next = dx_now_ms() + (int64_t)t->keepalive_s * 1000;
	}
	return 0;
}

/* Forgets what an earlier open learnt; 0, or -1 + err when not allowed. */
static int
conn_begin(struct dx_conn *c, const struct dx_ctl *ctl, const char *op,
    struct dx_err *err)
{
	if (dx_conn_owned(c, op, err) == -1)
		return -1;
	if (c->s != NULL || c->tr.fd != -1)
		return dx_err_set(err, DX_INTERNAL, "%s: the connection to %s is "
		    "open already", op, c->hp);
	c->ctl = ctl;
	c->kex[0] = c->hostkey_type[0] = '\0';
	free(c->fingerprint);
	c->fingerprint = NULL;
	c->hostkey_checked = false;
	c->healthy = c->cleanup = false;
	c->ka_next = 0;
	c->ka_unanswered = 0;
	c->what[0] = '\0';
	c->budget = c->target->connect_timeout_ms;
	return 0;
}

/* DX_DEADLINE or DX_INTERRUPTED in err if the run is over already. */
static int
conn_not_aborted(struct dx_conn *c, struct dx_err *err)
{
	enum dx_kind why;

	if ((why = dx_ctl_aborted(c->ctl)) == DX_OK)
		return 0;
	return dx_err_set(err, why, why == DX_DEADLINE ? "deadline reached "
	    "before connecting to %s" : "interrupted before connecting to %s",
	    c->hp);
}

/* The phases after the transport, over tr (taken over); conn_begin() ran. */
static int
conn_over(struct dx_conn *c, struct dx_transport *tr, struct dx_err *err)
{
	int64_t until;

	c->tr = *tr;
	dx_transport_init(tr);
	until = dx_now_ms() + c->budget;
	if (conn_not_aborted(c, err) == -1 || conn_start(c, until, err) == -1) {
		conn_teardown(c);
		return -1;
	}
	return 0;
}

/*
 * Through the target's jump chain: a stream from the registry (jump.h;
 * drones behind the same chain share its sessions), then the usual
 * phases over it.  The hops' failures come back with their own kinds.
 */
static int
conn_open_jump(struct dx_conn *c, struct dx_err *err)
{
	const struct dx_target *t = c->target;
	struct dx_transport tr;
	int fd;

	if (conn_not_aborted(c, err) == -1)
		return -1;
	if (dx_jump_open(c->shared->jumps, t->hops, t->nhops, t->host, t->port,
	    c->budget, c->ctl, &fd, err) == -1)
		return -1;
	if (dx_transport_adopt(&tr, fd, err) == -1) {
		close(fd);
		return -1;
	}
	return conn_over(c, &tr, err);
}

int
dx_conn_open(struct dx_conn *c, const struct dx_ctl *ctl, struct dx_err *err)
{
	const struct dx_target *t = c->target;
	int64_t until;

	if (conn_begin(c, ctl, "open", err) == -1)
		return -1;
	if (t->nhops > 0)
		return conn_open_jump(c, err);
	if (conn_not_aborted(c, err) == -1)
		return -1;
	until = dx_now_ms() + c->budget;
	if (dx_transport_tcp(&c->tr, t->host, t->port, t->keepalive_s, until,
	    c->budget, ctl, err) == -1 || conn_start(c, until, err) == -1) {
		conn_teardown(c);
		return -1;
	}
	return 0;
}

int
dx_conn_open_over(struct dx_conn *c, struct dx_transport *tr,
    const struct dx_ctl *ctl, struct dx_err *err)
{
	if (conn_begin(c, ctl, "open", err) == -1) {
		dx_transport_close(tr);
		return -1;
	}
	return conn_over(c, tr, err);
}

int
dx_conn_close(struct dx_conn *c, struct dx_err *err)
{
	if (dx_conn_owned(c, "close", err) == -1)
		return -1;
	conn_teardown(c);
	return 0;
}

bool
dx_conn_healthy(const struct dx_conn *c)
{
	return c->s != NULL && c->healthy;
}

const char *
dx_conn_kex(const struct dx_conn *c)
{
	return c->kex[0] != '\0' ? c->kex : NULL;
}

const char *
dx_conn_hostkey_type(const struct dx_conn *c)
{
	return c->hostkey_type[0] != '\0' ? c->hostkey_type : NULL;
}

const char *
dx_conn_hostkey_fingerprint(const struct dx_conn *c)
{
	return c->fingerprint;
}

bool
dx_conn_hostkey_checked(const struct dx_conn *c)
{
	return c->hostkey_checked;
}

const char *
dx_conn_label(const struct dx_conn *c)
{
	return c->hp;
}

int
dx_conn_fd(const struct dx_conn *c)
{
	return c->s != NULL ? c->tr.fd : -1;
}

const struct dx_target *
dx_conn_target(const struct dx_conn *c)
{
	return c->target;
}

int
dx_conn_keepalive(struct dx_conn *c, bool want_reply, struct dx_err *err)
{
	unsigned every = c->target->keepalive_s > 0 ?
	    (unsigned)c->target->keepalive_s : 15;
	int next = 0, rc;

	if (dx_conn_owned(c, "a keepalive", err) == -1)
		return -1;
	snprintf(c->what, sizeof(c->what), " while idle");
	if (!dx_conn_healthy(c))
		return dx_conn_lost(c, err);
	/*
	 * libssh2 sends at most one keepalive per interval (whole seconds of
	 * time()) and says when the next one is due; want_reply holds for
	 * this send only, the calls' own keepalives always ask for a reply.
	 */
	libssh2_keepalive_config(c->s, want_reply, every);
	rc = libssh2_keepalive_send(c->s, &next);
	libssh2_keepalive_config(c->s, 1, every);
	if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN && rc != LIBSSH2_ERROR_BAD_USE)
		return dx_conn_lost(c, err);
	if (next <= 0)
		next = 1;
	c->ka_next = dx_now_ms() + (int64_t)next * 1000;
	return 0;
}

void
dx_conn_record(const struct dx_conn *c, struct dx_result *res)
{
	const char *s;

	if ((s = dx_conn_kex(c)) != NULL) {
		free(res->kex);
		res->kex = strdup(s);
	}
	if ((s = dx_conn_hostkey_type(c)) != NULL) {
		free(res->hostkey_type);
		res->hostkey_type = strdup(s);
	}
	if ((s = dx_conn_hostkey_fingerprint(c)) != NULL) {
		free(res->hostkey_fingerprint);
		res->hostkey_fingerprint = strdup(s);
	}
	res->hostkey_checked = dx_conn_hostkey_checked(c);
}
