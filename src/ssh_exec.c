/*
 * ssh_exec.c - the SSH executor: one drone's calls over one libssh2 session.
 *
 * Theory of operation.  dx_ssh_exec() runs on the drone's own thread and
 * owns everything it opens: a non-blocking TCP socket and a non-blocking
 * libssh2 session that no other thread ever sees.  The drone goes through
 * fixed phases: TCP connect and the server's banner (these two share the
 * connect budget, as with OpenSSH's ConnectTimeout), key exchange, host
 * key check and authentication (these share SSH_KEX_FACTOR times that
 * budget: they cost CPU on both ends and wait behind other sessions on a
 * busy server), then one channel per call, in order.
 *
 * Every libssh2 call that says LIBSSH2_ERROR_EAGAIN is followed by one
 * helper, ssh_wait(), which polls the socket in the directions libssh2 is
 * blocked on, together with the queue's abort pipe, for no longer than the
 * nearest of: the phase budget (connect budget or call timeout), the run
 * deadline and the next SSH keepalive.  Nothing sleeps, nothing spins and
 * no wait outlives an abort.
 *
 * A call cut by its timeout, the deadline or an abort still has a command
 * running on the drone, and libssh2 1.10 cannot send a "signal" request.
 * So a second channel on the same session runs dx_kill_script() (killscript.c),
 * which signals the process groups of its sibling processes under the
 * connection's sshd: the cut command's, since calls run one at a time.
 * That cleanup runs on a short budget of its own that ignores the abort
 * pipe (the abort is why it runs) and never goes past the deadline by
 * more than SSH_KILL_SLACK_MS.
 *
 * Teardown never waits on the peer without a bound: a healthy session
 * gets one disconnect message (not waited for); then the socket is shut
 * down, so that libssh2's frees can only fail fast, and closed only after
 * the session is freed, so that no other thread's new socket can reuse
 * the descriptor while libssh2 may still write to it.
 *
 * Shared state (struct dx_ssh) is read-mostly: options, the known_hosts
 * store (khstore.c: every file parsed once per run, its own locks, the
 * user's and the global files checked as one set), and identity files
 * read once per path (identity.c): an unencrypted ed25519 key is then
 * signed with there, which halves a drone's client CPU compared with
 * libssh2 re-reading the file for every drone.  The waits before the SSH
 * socket exists or beside it, name resolution (resolve.c) and the
 * ssh-agent (agent.c), are bounded by the same budget, deadline and abort
 * pipe as every other wait.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>

#include "agent.h"
#include "fdwait.h"
#include "identity.h"
#include "killscript.h"
#include "knownhosts.h"
#include "resolve.h"
#include "signame.h"
#include "ssh_exec.h"
#include "utf8.h"

#define SSH_EXPIRED		1	/* ssh_wait(): the phase budget is spent */
#define SSH_READ_BUF		32768	/* per read; on the drone's stack */
#define SSH_KILL_BUDGET_MS	1500	/* kill when the drone is done (hurry) */
#define SSH_KILL_CALL_MS	5000	/* kill when a next call may follow */
#define SSH_KILL_SLACK_MS	500	/* how far the kill may pass the deadline */
#define SSH_POLL_MAX_MS		60000	/* longest single poll, for sanity */
#define SSH_KA_MAX		3	/* unanswered keepalives before "lost" */
#define SSH_KEX_FACTOR		4	/* key exchange + auth: x connect timeout */
#define SSH_DEFAULT_CONNECT_MS	10000

struct dx_ssh {
	struct dx_ssh_opts	 opts;
	char			*home;		/* for ~/.ssh/id_*; NULL if unknown */
	char			*agent;		/* SSH_AUTH_SOCK, or NULL */
	char			*hk_algs;	/* ",alg,alg," libssh2 supports */
	struct dx_kh_store	*kh;		/* known_hosts files, read once */
	struct dx_identities	 ids;		/* identity files read once */
};

/* One drone's connection; lives on the drone thread's stack. */
struct ssh_conn {
	struct dx_ssh		*ssh;
	const struct dx_drone	*drone;
	const struct dx_ctl	*ctl;
	struct dx_result	*res;
	int			 fd;
	LIBSSH2_SESSION		*s;
	bool			 healthy;	/* the session can carry more */
	bool			 cleanup;	/* waits ignore abort and deadline */
	int64_t			 ka_next;	/* next keepalive; 0 = none */
	int			 ka_unanswered;	/* keepalives sent since the peer
						   last sent anything */
	int64_t			 budget;	/* budget of the phase, ms (messages) */
	char			 hp[280];	/* "[h]:p" (or "h" on 22), messages */
	char			 what[360];	/* " during ...": the phase, messages */
};

/* "1 s", "1.5 s", "0.25 s" for messages. */
static const char *
ssh_fmt_ms(char *buf, size_t size, int64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%lld s", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%g s", (double)ms / 1000.0);
	return buf;
}

/*
 * "call 2 'cmd'" with the command cut at 60 bytes (on a character
 * boundary, so a message never ends in half a character) or its first
 * newline.
 */
static void
ssh_call_label(char *buf, size_t size, size_t idx, const char *cmd)
{
	size_t n = strcspn(cmd, "\r\n");
	bool cut = n > 60 || cmd[n] != '\0';

	if (n > 60)
		n = dx_utf8_cut(cmd, n, 60);
	snprintf(buf, size, "call %zu '%.*s%s'", idx + 1, (int)n, cmd,
	    cut ? "..." : "");
}

/* libssh2's last error message, for "failed: ..." messages. */
static const char *
ssh_errmsg(LIBSSH2_SESSION *s)
{
	char *msg = NULL;

	if (s == NULL || libssh2_session_last_error(s, &msg, NULL, 0) == 0 ||
	    msg == NULL || *msg == '\0')
		return "unknown error";
	return msg;
}

/* True if rc means the session (not only one channel) is gone. */
static bool
ssh_rc_fatal(int rc)
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

/* The session is dead: make every later libssh2 call fail fast. */
static void
ssh_mark_dead(struct ssh_conn *c)
{
	c->healthy = false;
	if (c->fd != -1)
		shutdown(c->fd, SHUT_RDWR);
}

static int
ssh_lost(struct ssh_conn *c, struct dx_err *err)
{
	ssh_mark_dead(c);
	return dx_err_set(err, DX_CONNECTION_LOST, "connection to %s lost%s",
	    c->hp, c->what);
}

/*
 * Sends a keepalive when one is due.  A peer that is frozen or behind a
 * dead link may still have its kernel ack our bytes, so TCP alone cannot
 * tell; like OpenSSH's ServerAliveCountMax, SSH_KA_MAX keepalives in a row
 * with nothing at all heard back from the server end the connection.
 */
static int
ssh_keepalive(struct ssh_conn *c, int64_t now, struct dx_err *err)
{
	int next = 0, rc;

	if (c->ka_unanswered >= SSH_KA_MAX) {
		ssh_mark_dead(c);
		return dx_err_set(err, DX_CONNECTION_LOST, "connection to %s lost%s: "
		    "no answer to %d keepalives", c->hp, c->what, SSH_KA_MAX);
	}
	c->ka_unanswered++;
	rc = libssh2_keepalive_send(c->s, &next);
	/*
	 * BAD_USE: a packet of ours (stdin data, a window adjust) is half
	 * sent and libssh2 sends nothing else until it is; the keepalive is
	 * skipped, and still counts as unanswered.
	 */
	if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN && rc != LIBSSH2_ERROR_BAD_USE)
		return ssh_lost(c, err);
	if (next <= 0)
		next = c->ssh->opts.keepalive_s;
	c->ka_next = now + (int64_t)next * 1000;
	return 0;
}

/*
 * The one wait.  Polls the socket for events (0: the directions libssh2
 * is blocked on) and the abort pipe, until until (0: none), the deadline or
 * the next keepalive, whichever is nearest.  Returns 0 when the socket is
 * ready (or a keepalive went out: the caller simply tries again),
 * SSH_EXPIRED when until has passed, and -1 with err set on the deadline
 * (DX_DEADLINE), an abort (DX_DEADLINE or DX_INTERRUPTED), a failed
 * keepalive (DX_CONNECTION_LOST) or a failed poll.  In cleanup mode the
 * abort pipe and the deadline are not watched; until then bounds the wait.
 */
static int
ssh_wait(struct ssh_conn *c, int events, int64_t until, struct dx_err *err)
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
	pfd[0].fd = c->fd;
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
			return SSH_EXPIRED;
		if (c->ka_next != 0 && now >= c->ka_next) {
			if (ssh_keepalive(c, now, err) == -1)
				return -1;
			return 0;
		}
		t = now + SSH_POLL_MAX_MS;
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

/*
 * The host key algorithms this libssh2 build supports, as ",a,b,"; NULL if
 * unknown (then no preference is set).  libssh2_session_method_pref()
 * must only see supported names: 1.10 drops the others with an
 * overlapping memcpy.
 */
static char *
ssh_supported_hostkey_algs(void)
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

struct dx_ssh *
dx_ssh_new(const struct dx_ssh_opts *opts, struct dx_err *err)
{
	struct dx_ssh *ssh;
	const char *home, *sock;

	if ((ssh = calloc(1, sizeof(*ssh))) == NULL)
		goto oom;
	ssh->opts = *opts;
	if (ssh->opts.connect_timeout_ms <= 0)
		ssh->opts.connect_timeout_ms = SSH_DEFAULT_CONNECT_MS;
	if ((home = getenv("HOME")) != NULL && *home != '\0' &&
	    (ssh->home = strdup(home)) == NULL) {
		free(ssh);
		goto oom;
	}
	if ((sock = getenv("SSH_AUTH_SOCK")) != NULL && *sock != '\0' &&
	    (ssh->agent = strdup(sock)) == NULL) {
		free(ssh->home);
		free(ssh);
		goto oom;
	}
	ssh->hk_algs = ssh_supported_hostkey_algs();
	if ((ssh->kh = dx_kh_store_new(err)) == NULL) {
		free(ssh->hk_algs);
		free(ssh->agent);
		free(ssh->home);
		free(ssh);
		return NULL;
	}
	if (dx_identities_init(&ssh->ids) != 0) {
		dx_kh_store_free(ssh->kh);
		free(ssh->hk_algs);
		free(ssh->agent);
		free(ssh->home);
		free(ssh);
		goto oom;
	}
	return ssh;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory starting the ssh executor");
	return NULL;
}

void
dx_ssh_free(struct dx_ssh *ssh)
{
	if (ssh == NULL)
		return;
	dx_identities_release(&ssh->ids);
	dx_kh_store_free(ssh->kh);
	free(ssh->hk_algs);
	free(ssh->agent);
	free(ssh->home);
	free(ssh);
}

/* "host:port" for connect messages ("[v6]:port" for IPv6 literals). */
static void
ssh_addr_label(char *buf, size_t size, const char *host, int port)
{
	if (strchr(host, ':') != NULL)
		snprintf(buf, size, "[%s]:%d", host, port);
	else
		snprintf(buf, size, "%s:%d", host, port);
}

static void
ssh_sockopts(struct ssh_conn *c)
{
	int one = 1, idle, intvl, cnt = 3;
	unsigned int uto;

	/*
	 * A dead link must end the drone rather than hang it: TCP keepalive
	 * notices a silent peer, TCP_USER_TIMEOUT data that is never acked
	 * (the SSH keepalives make sure there is some).
	 */
	idle = c->ssh->opts.keepalive_s > 0 ? c->ssh->opts.keepalive_s : 60;
	intvl = idle / 3 > 0 ? idle / 3 : 1;
	uto = (unsigned int)(idle + intvl * cnt) * 1000;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(c->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

static int
ssh_connect(struct ssh_conn *c, int64_t until, struct dx_err *err)
{
	const struct dx_drone *d = c->drone;
	struct addrinfo hints, *ai = NULL, *a;
	char port[16], label[280], tbuf[32];
	socklen_t len;
	int rc = -1, gai, gerr, fd, soerr, r;

	ssh_addr_label(label, sizeof(label), d->host, d->port);
	snprintf(c->what, sizeof(c->what), " while connecting to '%s'", label);
	snprintf(port, sizeof(port), "%d", d->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* Literals first, so that an address never goes near DNS. */
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	gai = getaddrinfo(d->host, port, &hints, &ai);
	gerr = errno;
	if (gai == EAI_NONAME) {
		/* A name: resolved off this thread, within the budget. */
		hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
		if ((r = dx_resolve(d->host, port, &hints, until, c->ctl, &ai, &gai,
		    &gerr, err)) == DX_WAIT_EXPIRED)
			return dx_err_set(err, DX_RESOLVE, "resolving host '%s' timed "
			    "out after %s", d->host,
			    ssh_fmt_ms(tbuf, sizeof(tbuf), c->budget));
		if (r == -1)
			return -1;
	}
	if (gai != 0)
		return dx_err_set(err, DX_RESOLVE, "cannot resolve host '%s': %s",
		    d->host, gai == EAI_SYSTEM ? strerror(gerr) :
		    gai_strerror(gai));
	dx_err_set(err, DX_NETWORK, "cannot connect to '%s': no address", label);
	for (a = ai; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, a->ai_protocol);
		if (fd == -1) {
			dx_err_set(err, DX_NETWORK, "cannot connect to '%s': %s",
			    label, strerror(errno));
			continue;
		}
		c->fd = fd;
		soerr = 0;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == -1 &&
		    (soerr = errno) == EINPROGRESS) {
			if ((r = ssh_wait(c, POLLOUT, until, err)) == SSH_EXPIRED) {
				dx_err_set(err, DX_CONNECT_TIMEOUT,
				    "connect to '%s' timed out after %s", label,
				    ssh_fmt_ms(tbuf, sizeof(tbuf), c->budget));
				goto out;
			}
			if (r == -1)
				goto out;
			len = sizeof(soerr);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
				soerr = errno;
		}
		if (soerr == 0) {
			ssh_sockopts(c);
			dx_err_clear(err);
			rc = 0;
			goto out;
		}
		close(fd);
		c->fd = -1;
		if (soerr == ECONNREFUSED)
			dx_err_set(err, DX_CONNECT_REFUSED,
			    "connection refused by '%s'", label);
		else if (soerr == ETIMEDOUT)
			dx_err_set(err, DX_CONNECT_TIMEOUT,
			    "cannot connect to '%s': %s", label, strerror(soerr));
		else
			dx_err_set(err, DX_NETWORK, "cannot connect to '%s': %s",
			    label, strerror(soerr));
	}
out:
	if (rc == -1 && c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(ai);
	return rc;
}

/* Appends alg to the comma list pref if libssh2 supports it and it is new. */
static void
ssh_pref_add(const char *supported, char *pref, size_t size, const char *alg,
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
ssh_hostkey_prefs(struct ssh_conn *c, const struct dx_kh_files *files,
    struct dx_err *err)
{
	const char *sup = c->ssh->hk_algs, *p, *e;
	char pref[1024], types[8][DX_KH_TYPE_MAX];
	int n;

	if ((n = dx_kh_types(c->ssh->kh, files, c->drone->host, c->drone->port,
	    types, 8, err)) == -1)
		return -1;
	if (sup == NULL)
		return 0;
	pref[0] = '\0';
	for (int i = 0; i < n; i++) {
		/* An RSA key signs with SHA-2 where both sides can. */
		if (strcmp(types[i], "ssh-rsa") == 0) {
			ssh_pref_add(sup, pref, sizeof(pref), "rsa-sha2-512", 12);
			ssh_pref_add(sup, pref, sizeof(pref), "rsa-sha2-256", 12);
		}
		ssh_pref_add(sup, pref, sizeof(pref), types[i], strlen(types[i]));
	}
	if (pref[0] == '\0')
		return 0;
	/* Then everything else, in libssh2's own order. */
	for (p = sup + 1; *p != '\0'; p = e + 1) {
		e = strchr(p, ',');
		ssh_pref_add(sup, pref, sizeof(pref), p, (size_t)(e - p));
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
 * connect and the banner.  The key exchange and authentication that follow
 * cost CPU on both ends and queue behind other sessions on a busy server,
 * so they get a budget of their own (SSH_KEX_FACTOR x connect timeout).
 */
static int
ssh_banner(struct ssh_conn *c, int64_t until, struct dx_err *err)
{
	char b, tbuf[32];
	ssize_t n;
	int r;

	snprintf(c->what, sizeof(c->what), " waiting for the ssh banner of %s",
	    c->hp);
	for (;;) {
		if ((n = recv(c->fd, &b, 1, MSG_PEEK)) == 1)
			return 0;
		if (n == 0)
			return dx_err_set(err, DX_HANDSHAKE, "%s closed the "
			    "connection before its ssh banner", c->hp);
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return dx_err_set(err, DX_HANDSHAKE, "ssh handshake with "
			    "%s failed: %s", c->hp, strerror(errno));
		if ((r = ssh_wait(c, POLLIN, until, err)) == -1)
			return -1;
		if (r == SSH_EXPIRED)
			return dx_err_set(err, DX_HANDSHAKE, "ssh handshake with "
			    "%s timed out after %s: no ssh banner", c->hp,
			    ssh_fmt_ms(tbuf, sizeof(tbuf), c->budget));
	}
}

static int
ssh_handshake(struct ssh_conn *c, const struct dx_kh_files *files,
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
	if (files != NULL && ssh_hostkey_prefs(c, files, err) == -1)
		return -1;
	while ((rc = libssh2_session_handshake(c->s, c->fd)) ==
	    LIBSSH2_ERROR_EAGAIN) {
		if ((r = ssh_wait(c, 0, until, err)) == -1)
			return -1;
		if (r == SSH_EXPIRED)
			return dx_err_set(err, DX_HANDSHAKE,
			    "ssh handshake with %s timed out after %s", c->hp,
			    ssh_fmt_ms(tbuf, sizeof(tbuf), c->budget));
	}
	if (rc != 0) {
		dx_err_set(err, DX_HANDSHAKE, "ssh handshake with %s failed: %s",
		    c->hp, ssh_errmsg(c->s));
		ssh_mark_dead(c);
		return -1;
	}
	c->healthy = true;
	/* A retried drone records its last attempt's methods. */
	if ((m = libssh2_session_methods(c->s, LIBSSH2_METHOD_KEX)) != NULL) {
		free(c->res->kex);
		c->res->kex = strdup(m);
	}
	if ((m = libssh2_session_methods(c->s, LIBSSH2_METHOD_HOSTKEY)) != NULL) {
		free(c->res->hostkey_type);
		c->res->hostkey_type = strdup(m);
	}
	return 0;
}

/* A drone's known_hosts files, on the drone thread's stack. */
struct ssh_khset {
	struct dx_kh_files	 files;
	const char		*user[2];
	char			 ubuf[2][PATH_MAX];
};

static const char *const ssh_global_kh[] = {
	"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"
};

/*
 * The files OpenSSH would read: the inventory's known_hosts (else
 * ~/.ssh/known_hosts and ~/.ssh/known_hosts2), then the global ones.
 */
static void
ssh_kh_files(struct dx_ssh *ssh, const struct dx_drone *d, struct ssh_khset *k)
{
	const char *home = ssh->home ? ssh->home : "";

	if (d->known_hosts != NULL) {
		k->user[0] = d->known_hosts;
		k->files.nuser = 1;
	} else {
		snprintf(k->ubuf[0], PATH_MAX, "%s/.ssh/known_hosts", home);
		snprintf(k->ubuf[1], PATH_MAX, "%s/.ssh/known_hosts2", home);
		k->user[0] = k->ubuf[0];
		k->user[1] = k->ubuf[1];
		k->files.nuser = 2;
	}
	k->files.user = k->user;
	k->files.global = ssh_global_kh;
	k->files.nglobal = 2;
}

/*
 * Records the key's fingerprint (every drone, whatever the policy) and
 * checks the key against the known_hosts set (khstore.c).
 */
static int
ssh_hostkey(struct ssh_conn *c, const struct dx_kh_files *files,
    struct dx_err *err)
{
	const struct dx_drone *d = c->drone;
	enum dx_hostkey_policy pol = c->ssh->opts.hostkey_policy;
	const unsigned char *blob;
	size_t len;
	int type;

	blob = (const unsigned char *)libssh2_session_hostkey(c->s, &len, &type);
	if (blob == NULL)
		return dx_err_set(err, DX_HANDSHAKE, "no host key from %s", c->hp);
	free(c->res->hostkey_fingerprint);
	if ((c->res->hostkey_fingerprint = dx_kh_fingerprint(blob, len)) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory checking the "
		    "host key of %s", c->hp);
	if (pol == DX_HKC_OFF || files == NULL) {
		c->res->hostkey_checked = false;
		return 0;
	}
	if (dx_kh_verify(c->ssh->kh, files, d->host, d->port, blob, len,
	    pol == DX_HKC_ACCEPT_NEW, c->res->hostkey_fingerprint, err) == -1)
		return -1;
	c->res->hostkey_checked = true;
	return 0;
}

/* Appends ", item" (or "item") to a bounded list for messages. */
static void
ssh_note(char *buf, size_t size, const char *item, const char *extra)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s%s", len ? ", " : "", item, extra);
}

/* The problem with an identity, kept for the final message (first wins). */
struct ssh_authlog {
	char	 tried[200];
	char	 problem[200];
};

/*
 * One public key offer, signed by sign with abstract.  Returns 0 when the
 * key was accepted, 1 when it was not, -1 with err set when the wait was
 * cut or the session died.
 */
static int
ssh_auth_offer(struct ssh_conn *c, const char *label, const unsigned char *pub,
    size_t publen, LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*sign)),
    void **abstract, const struct dx_identity *id, int64_t until,
    struct ssh_authlog *log, struct dx_err *err)
{
	const char *user = c->drone->user;
	char tbuf[32];
	int r;

	while ((r = pub != NULL ?
	    libssh2_userauth_publickey(c->s, user, pub, publen, sign, abstract) :
	    libssh2_userauth_publickey_frommemory(c->s, user, strlen(user), NULL,
	    0, id->text, id->textlen, NULL)) == LIBSSH2_ERROR_EAGAIN) {
		if ((r = ssh_wait(c, 0, until, err)) == SSH_EXPIRED)
			return dx_err_set(err, DX_CONNECT_TIMEOUT,
			    "authentication to %s timed out after %s", c->hp,
			    ssh_fmt_ms(tbuf, sizeof(tbuf), c->budget));
		if (r == -1)
			return -1;
	}
	if (r == 0)
		return 0;
	switch (r) {
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_DECRYPT:
	case LIBSSH2_ERROR_PROTO:
		ssh_note(log->tried, sizeof(log->tried), label, "");
		ssh_mark_dead(c);
		return dx_err_set(err, DX_AUTH, "connection to %s closed during "
		    "authentication as '%s' (tried: %s)", c->hp, user, log->tried);
	default:
		return 1;
	}
}

/*
 * Tries the agent's keys (agent.c: every wait bounded).  Returns 0 when
 * one was accepted, 1 when none was, -1 with err set when the wait was cut
 * or the session died.
 */
static int
ssh_auth_agent(struct ssh_conn *c, int64_t until, struct ssh_authlog *log,
    struct dx_err *err)
{
	struct dx_agent_signer sg;
	struct dx_agent *ag = NULL;
	const unsigned char *blob;
	char extra[32], tbuf[32];
	void *abstract = &sg;
	size_t n, len;
	int r, rc = 1;

	snprintf(c->what, sizeof(c->what), " asking the ssh-agent for keys to "
	    "authenticate to %s", c->hp);
	if ((r = dx_agent_open(c->ssh->agent, until, c->ctl, &ag, err)) ==
	    DX_WAIT_EXPIRED)
		return dx_err_set(err, DX_CONNECT_TIMEOUT, "authentication to %s "
		    "timed out after %s: the ssh-agent at '%s' did not answer",
		    c->hp, ssh_fmt_ms(tbuf, sizeof(tbuf), c->budget), c->ssh->agent);
	if (r == -1)
		return -1;
	if (r != 0) {
		ssh_note(log->tried, sizeof(log->tried), "agent", " (unreachable)");
		dx_err_clear(err);
		return 1;
	}
	snprintf(c->what, sizeof(c->what), " during authentication to %s",
	    c->hp);
	n = dx_agent_nkeys(ag);
	for (size_t i = 0; i < n && rc == 1; i++) {
		memset(&sg, 0, sizeof(sg));
		sg.agent = ag;
		sg.key = i;
		sg.until = until;
		sg.ctl = c->ctl;
		blob = dx_agent_key(ag, i, &len);
		rc = ssh_auth_offer(c, "agent", blob, len, dx_agent_sign, &abstract,
		    NULL, until, log, err);
		/* The agent, not the server, ran out of time or was cut. */
		if (rc == 1 && sg.rc == DX_WAIT_EXPIRED)
			rc = dx_err_set(err, DX_CONNECT_TIMEOUT, "authentication to "
			    "%s timed out after %s: the ssh-agent at '%s' did not "
			    "sign", c->hp, ssh_fmt_ms(tbuf, sizeof(tbuf), c->budget),
			    c->ssh->agent);
		else if (rc == 1 && sg.rc == -1) {
			*err = sg.err;
			rc = -1;
		}
	}
	if (rc == 1) {
		snprintf(extra, sizeof(extra), " (%zu key%s)", n, n == 1 ? "" : "s");
		ssh_note(log->tried, sizeof(log->tried), "agent", extra);
	}
	dx_agent_close(ag);
	return rc;
}

/*
 * Like ssh_auth_agent() for one private key file.  A file that cannot be
 * used (identity.c says why) is not offered; quiet is for the default
 * ~/.ssh/id_* files, which need not exist.
 */
static int
ssh_auth_file(struct ssh_conn *c, const char *path, bool quiet, int64_t until,
    struct ssh_authlog *log, struct dx_err *err)
{
	const struct dx_identity *id;
	void *abstract;
	int r;

	if ((id = dx_identities_get(&c->ssh->ids, path)) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory reading "
		    "identity file '%s'", path);
	if (id->problem != NULL) {
		if (quiet && id->missing)
			return 1;
		ssh_note(log->tried, sizeof(log->tried), path, " (unusable)");
		if (log->problem[0] == '\0')
			snprintf(log->problem, sizeof(log->problem), "%s", id->problem);
		return 1;
	}
	if (id->encrypted && id->pkey == NULL) {
		/* A passphrase is never asked for: the key is skipped. */
		ssh_note(log->tried, sizeof(log->tried), path, " (encrypted, skipped)");
		return 1;
	}
	abstract = id->pkey;
	if ((r = ssh_auth_offer(c, path, id->pkey ? id->pub : NULL, id->publen,
	    dx_identity_sign, &abstract, id, until, log, err)) != 1)
		return r;
	/*
	 * libssh2 1.10 signs with SHA-2 only when the server lists it in
	 * server-sig-algs; ssh-rsa (SHA-1) is refused by OpenSSH 8.8 and later.
	 */
	ssh_note(log->tried, sizeof(log->tried), path, id->rsa ?
	    " (rsa: refused; libssh2 1.10 may have signed with ssh-rsa SHA-1, "
	    "which OpenSSH 8.8+ refuses by default)" : "");
	return 1;
}

/*
 * SPEC section 6's order: the identity files named for the drone
 * (--identity, else the inventory's), then the agent's keys, then (when
 * no file is named, as OpenSSH does) ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
 */
static int
ssh_auth(struct ssh_conn *c, int64_t until, struct dx_err *err)
{
	static const char *const defaults[] = { "id_ed25519", "id_ecdsa",
	    "id_rsa" };
	const struct dx_drone *d = c->drone;
	const struct dx_ssh_opts *o = &c->ssh->opts;
	const char *const *named = o->identities;
	size_t nnamed = o->nidentities;
	struct ssh_authlog log;
	char path[PATH_MAX], tbuf[32];
	const char *list;
	int r, rc;

	snprintf(c->what, sizeof(c->what), " during authentication to %s",
	    c->hp);
	log.tried[0] = log.problem[0] = '\0';
	if (nnamed == 0 && d->identity != NULL) {
		named = (const char *const *)&d->identity;
		nnamed = 1;
	}
	while ((list = libssh2_userauth_list(c->s, d->user,
	    (unsigned int)strlen(d->user))) == NULL) {
		if (libssh2_userauth_authenticated(c->s))
			return 0;
		if ((rc = libssh2_session_last_errno(c->s)) !=
		    LIBSSH2_ERROR_EAGAIN) {
			ssh_mark_dead(c);
			return dx_err_set(err, DX_NETWORK,
			    "connection to %s lost during authentication: %s",
			    c->hp, ssh_errmsg(c->s));
		}
		if ((r = ssh_wait(c, 0, until, err)) == SSH_EXPIRED)
			return dx_err_set(err, DX_CONNECT_TIMEOUT,
			    "authentication to %s timed out after %s", c->hp,
			    ssh_fmt_ms(tbuf, sizeof(tbuf), c->budget));
		if (r == -1)
			return -1;
	}
	if (strstr(list, "publickey") == NULL)
		return dx_err_set(err, DX_AUTH, "%s offers user '%s' no public key "
		    "authentication (offers: %s)", c->hp, d->user, list);
	for (size_t i = 0; i < nnamed; i++)
		if ((r = ssh_auth_file(c, named[i], false, until, &log, err)) != 1)
			return r;
	if (c->ssh->agent != NULL &&
	    (r = ssh_auth_agent(c, until, &log, err)) != 1)
		return r;
	for (size_t i = 0; nnamed == 0 && c->ssh->home != NULL && i < 3; i++) {
		snprintf(path, sizeof(path), "%s/.ssh/%s", c->ssh->home,
		    defaults[i]);
		if ((r = ssh_auth_file(c, path, true, until, &log, err)) != 1)
			return r;
	}
	if (log.problem[0] != '\0')
		return dx_err_set(err, DX_AUTH, "%s; no key accepted for user '%s' "
		    "(tried: %s)", log.problem, d->user, log.tried);
	return dx_err_set(err, DX_AUTH, "no key accepted for user '%s' (tried: %s)",
	    d->user, log.tried[0] ? log.tried :
	    "nothing: no agent, no identity file");
}

/*
 * A call's standard input on its way out: the --stdin bytes (or none),
 * then EOF.  done once EOF went out, or once the command stopped taking
 * input (its side closed: the rest is not sent).
 */
struct ssh_input {
	const char	*data;
	size_t		 len;
	size_t		 pos;
	bool		 done;
};

/* What the last EAGAIN left half sent; libssh2 must resume it first. */
enum ssh_owe { SSH_OWE_NONE = 0, SSH_OWE_WRITE, SSH_OWE_READ };

static bool
ssh_sending(const struct ssh_conn *c)
{
	return (libssh2_session_block_directions(c->s) &
	    LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0;
}

/*
 * One step of sending in to ch: a chunk of data, or EOF after the last.
 * Returns 1 on progress, 0 when blocked (*owe says whether a packet is
 * half sent), -1 with err set when the session is gone.
 */
static int
ssh_feed(struct ssh_conn *c, LIBSSH2_CHANNEL *ch, struct ssh_input *in,
    enum ssh_owe *owe, struct dx_err *err)
{
	ssize_t w;

	if (in->pos < in->len)
		w = libssh2_channel_write(ch, in->data + in->pos, in->len - in->pos);
	else
		w = libssh2_channel_send_eof(ch);
	*owe = SSH_OWE_NONE;
	if (w == LIBSSH2_ERROR_EAGAIN) {
		if (ssh_sending(c))
			*owe = SSH_OWE_WRITE;
		return 0;
	}
	if (w < 0) {
		if (w == LIBSSH2_ERROR_CHANNEL_CLOSED ||
		    w == LIBSSH2_ERROR_CHANNEL_EOF_SENT || !ssh_rc_fatal((int)w)) {
			/* The command's side is closing: it takes no more. */
			in->done = true;
			return 1;
		}
		return ssh_lost(c, err);
	}
	if (in->pos < in->len) {
		/* 0: the window is full until the command reads more. */
		in->pos += (size_t)w;
		return w > 0;
	}
	in->done = true;
	return 1;
}

/*
 * Reads stdout and stderr of ch into call (NULL: discard) until the remote
 * side has sent EOF and closed the channel, meanwhile sending in (NULL:
 * nothing to send) so that a command that echoes its input cannot stall
 * on a full window in either direction.  libssh2 must finish a half-sent
 * packet before it sends another (a write, a read's window adjust), so
 * after an EAGAIN that left one the same operation is resumed first.
 * Returns 0, SSH_EXPIRED, or -1 with err set (connection lost, channel
 * error, output, deadline, abort).
 */
static int
ssh_drain(struct ssh_conn *c, LIBSSH2_CHANNEL *ch, struct dx_call_result *call,
    struct ssh_input *in, int64_t until, struct dx_err *err)
{
	char buf[SSH_READ_BUF];
	enum ssh_owe owe = SSH_OWE_NONE;
	ssize_t n[2];
	int r;

	for (;;) {
		bool got = false;

		if (in != NULL && !in->done && owe != SSH_OWE_READ) {
			if ((r = ssh_feed(c, ch, in, &owe, err)) == -1)
				return -1;
			got = r == 1;
			if (owe == SSH_OWE_WRITE) {
				if ((r = ssh_wait(c, 0, until, err)) != 0)
					return r;
				continue;
			}
		}
		n[0] = n[1] = LIBSSH2_ERROR_EAGAIN;
		for (int k = 0; k < 2; k++) {
			n[k] = libssh2_channel_read_ex(ch, k == 0 ? 0 :
			    SSH_EXTENDED_DATA_STDERR, buf, sizeof(buf));
			if (n[k] > 0) {
				got = true;
				if (call != NULL && dx_buf_append(k == 0 ?
				    &call->out : &call->err, buf, (size_t)n[k]) == -1)
					return dx_err_set(err, DX_OUTPUT,
					    "out of memory capturing the output%s",
					    c->what);
			} else if (n[k] < 0 && n[k] != LIBSSH2_ERROR_EAGAIN) {
				if (ssh_rc_fatal((int)n[k]))
					return ssh_lost(c, err);
				return dx_err_set(err, DX_CHANNEL, "channel failed%s: %s",
				    c->what, ssh_errmsg(c->s));
			}
		}
		owe = !got && n[1] == LIBSSH2_ERROR_EAGAIN && ssh_sending(c) ?
		    SSH_OWE_READ : SSH_OWE_NONE;
		if (got)
			continue;
		if (libssh2_channel_eof(ch) == 1) {
			if (in == NULL || in->done)
				break;
			/*
			 * Its output ended, but the command may still read
			 * its input: feed it until it closes the channel.
			 */
			if ((r = libssh2_channel_wait_closed(ch)) == 0)
				return 0;
			if (r != LIBSSH2_ERROR_EAGAIN) {
				if (ssh_rc_fatal(r))
					return ssh_lost(c, err);
				break;
			}
		} else if (n[0] == 0 && n[1] == 0)
			/* Both at 0 without EOF: closed without EOF. */
			return 0;
		if ((r = ssh_wait(c, 0, until, err)) != 0)
			return r;
	}
	while ((r = libssh2_channel_wait_closed(ch)) == LIBSSH2_ERROR_EAGAIN) {
		if ((r = ssh_wait(c, 0, until, err)) != 0)
			return r;
	}
	if (r < 0 && ssh_rc_fatal(r))
		return ssh_lost(c, err);
	return 0;
}

/* Closes and frees ch, waiting for the close no later than until. */
static void
ssh_channel_end(struct ssh_conn *c, LIBSSH2_CHANNEL *ch, int64_t until)
{
	struct dx_err ignored;
	bool was = c->cleanup;
	int r, i;

	c->cleanup = true;
	if (c->healthy) {
		while ((r = libssh2_channel_close(ch)) == LIBSSH2_ERROR_EAGAIN)
			if (ssh_wait(c, 0, until, &ignored) != 0)
				break;
		if (r < 0 && r != LIBSSH2_ERROR_EAGAIN && ssh_rc_fatal(r))
			ssh_mark_dead(c);
	}
	/*
	 * Free sends a close if none went out yet, which may say EAGAIN; after
	 * a shutdown it can only fail fast.  A channel that still will not go
	 * is left to libssh2_session_free() rather than waited for.
	 */
	for (i = 0; (r = libssh2_channel_free(ch)) == LIBSSH2_ERROR_EAGAIN &&
	    i < 6; i++)
		if (i >= 2 || ssh_wait(c, 0, until, &ignored) != 0)
			ssh_mark_dead(c);
	c->cleanup = was;
}

/*
 * Reads the kill script's stdout until its first marker (killscript.h), a
 * line of its own, so that what a login shell's start-up files print
 * ("ok") is never taken for one; within until.  Returns the marker, or 0
 * when none came: the script ended without one, the channel failed or the
 * budget ran out.
 */
static char
ssh_kill_marker(struct ssh_conn *c, LIBSSH2_CHANNEL *ch, int64_t until)
{
	struct dx_err ignored;
	char buf[64], line = 0;
	size_t len = 0;		/* bytes of the current line */
	ssize_t n;

	for (;;) {
		n = libssh2_channel_read(ch, buf, sizeof(buf));
		if (n > 0) {
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] != '\n') {
					line = len++ == 0 ? buf[i] : 0;
					continue;
				}
				if (len == 1 && (line == DX_KILL_TERM ||
				    line == DX_KILL_NONE || line == DX_KILL_GUARD ||
				    line == DX_KILL_ERROR))
					return line;
				len = 0;
			}
			continue;
		}
		/* End of file with no marker proves nothing. */
		if (n == 0 && libssh2_channel_eof(ch))
			return 0;
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			if (ssh_rc_fatal((int)n))
				ssh_mark_dead(c);
			return 0;
		}
		if (ssh_wait(c, 0, until, &ignored) != 0)
			return 0;
	}
}

/*
 * Ends the cut call's command on the drone: a second channel runs
 * dx_kill_script().  Bounded by until; never watches the abort pipe.
 * hurry: the drone is done (deadline, interrupt), so stop once TERM went
 * out and drop the connection instead of waiting out the script's grace.
 * Returns the script's marker (DX_KILL_TERM or DX_KILL_NONE: the end is
 * confirmed), or 0 when the script could not be run or said nothing in
 * time: then the command may still run on the drone.
 */
static char
ssh_kill(struct ssh_conn *c, int64_t until, bool hurry)
{
	LIBSSH2_CHANNEL *ch;
	struct dx_err ignored;
	char saved[sizeof(c->what)];
	char mark = 0;
	int r;

	if (!c->healthy)
		return 0;
	memcpy(saved, c->what, sizeof(saved));
	c->cleanup = true;
	while ((ch = libssh2_channel_open_session(c->s)) == NULL) {
		r = libssh2_session_last_errno(c->s);
		if (r != LIBSSH2_ERROR_EAGAIN) {
			if (ssh_rc_fatal(r))
				ssh_mark_dead(c);
			goto out;
		}
		if (ssh_wait(c, 0, until, &ignored) != 0) {
			/* A half-open channel leaves the session unusable. */
			ssh_mark_dead(c);
			goto out;
		}
	}
	while ((r = libssh2_channel_exec(ch, dx_kill_script())) ==
	    LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait(c, 0, until, &ignored) != 0)
			break;
	if (r == 0) {
		mark = ssh_kill_marker(c, ch, until);
		if (hurry)
			ssh_mark_dead(c);
		else if (mark == DX_KILL_TERM)
			/* Its grace and KILL, before the next call starts. */
			ssh_drain(c, ch, NULL, NULL, until, &ignored);
	} else if (r != LIBSSH2_ERROR_EAGAIN && ssh_rc_fatal(r))
		ssh_mark_dead(c);
	ssh_channel_end(c, ch, until);
out:
	c->cleanup = false;
	memcpy(c->what, saved, sizeof(saved));
	return mark;
}

/*
 * Says in err that the end of a cut command is not confirmed, and why
 * when the kill script said (mark; 0: it did not run or said nothing).
 */
static void
ssh_kill_unconfirmed(struct dx_err *err, char mark)
{
	const char *why = mark == DX_KILL_GUARD ? " (the kill script's parent "
	    "is not sshd)" : mark == DX_KILL_ERROR ? " (the kill script could "
	    "not list processes)" : "";
	size_t len = strlen(err->msg);

	snprintf(err->msg + len, sizeof(err->msg) - len,
	    "; it may still be running on the drone%s", why);
}

static bool
ssh_kill_confirmed(char mark)
{
	return mark == DX_KILL_TERM || mark == DX_KILL_NONE;
}

#ifndef HAVE_LIBSSH2_CHANNEL_HAS_EXIT_STATUS
/*
 * libssh2 1.10 has no libssh2_channel_has_exit_status(): its channel's
 * exit_status starts at 0 and is written only when an "exit-status"
 * request arrives, so a channel the server closed without one (sshd's
 * ChannelTimeout, some appliances) reads as exit 0.  Nothing in its API
 * tells the two apart: the flags (EOF, close), the order they come in and
 * the exit signal are the same.  So the field itself is marked: right
 * after the channel opens, before any exec, SSH_NO_STATUS is written into
 * it, and a status that still reads SSH_NO_STATUS at the end never came.
 * The layout below is 1.10.0's own (libssh2_priv.h: struct
 * _LIBSSH2_CHANNEL begins with a list node, the channel type and its
 * length, then exit_status); the mark is used only when the library that
 * runs is 1.10.0 and libssh2_channel_get_exit_status() reads the value
 * written, else the field is restored at once and 0 is trusted as before.
 */
struct ssh_l2_channel_head {
	void		*node[3];
	unsigned char	*channel_type;
	unsigned	 channel_type_len;
	int		 exit_status;
};

#define SSH_NO_STATUS	(INT_MIN + 0x5e1f)	/* no server sends this */

static bool
ssh_status_mark(LIBSSH2_CHANNEL *ch)
{
	/* The library that runs, not only the one built against (no cache:
	   drone threads would race on it, and the check costs a strcmp). */
	const char *v = libssh2_version(0);
	int *p;

	if (LIBSSH2_VERSION_NUM != 0x010a00 || v == NULL || strcmp(v, "1.10.0") != 0)
		return false;
	p = &((struct ssh_l2_channel_head *)(void *)ch)->exit_status;
	if (*p != 0 || libssh2_channel_get_exit_status(ch) != 0)
		return false;
	*p = SSH_NO_STATUS;
	if (libssh2_channel_get_exit_status(ch) == SSH_NO_STATUS)
		return true;
	*p = 0;
	return false;
}
#endif

/*
 * Exit status and signal of a finished channel into call.  marked: the
 * exit status was marked at open (ssh_status_mark()).  Returns false when
 * the channel ended with neither an exit status nor a signal (call's
 * exit_status then stays -1).
 */
static bool
ssh_exit_info(struct ssh_conn *c, LIBSSH2_CHANNEL *ch,
    struct dx_call_result *call, bool marked)
{
	char *sig = NULL;
	size_t siglen = 0;
	bool got = true;

	(void)marked;
	if (libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL,
	    NULL) == 0 && sig != NULL && siglen > 0) {
		free(call->signal);
		/* Printable ASCII only: the server chose these bytes. */
		call->signal = dx_signal_name(sig, siglen);
		call->exit_status = -1;
	} else {
#ifdef HAVE_LIBSSH2_CHANNEL_HAS_EXIT_STATUS
		if (libssh2_channel_has_exit_status(ch))
			call->exit_status = libssh2_channel_get_exit_status(ch);
		else
			got = false;
#else
		int st = libssh2_channel_get_exit_status(ch);

		if (marked && st == SSH_NO_STATUS)
			got = false;
		else
			call->exit_status = st;
#endif
	}
	if (sig != NULL)
		libssh2_free(c->s, sig);
	return got;
}

/*
 * Runs one call.  Fills call (output, status, error).  Returns 0 when the
 * session can carry the next call, -1 when it cannot (lost, cut by the
 * deadline or an abort, or no longer in a known state).
 */
static int
ssh_call(struct ssh_conn *c, size_t idx, const char *cmd,
    struct dx_call_result *call)
{
	LIBSSH2_CHANNEL *ch = NULL;
	struct dx_err *err = &call->error;
	struct ssh_input in;
	char label[100], tbuf[32], mark;
	int64_t start, until = 0, kill_until, dl = c->ctl->deadline;
	int64_t tmo = c->ssh->opts.call_timeout_ms;
	bool hurry, marked = false;
	int r, rc = 0;

	start = dx_now_ms();
	if (tmo > 0)
		until = start + tmo;
	ssh_call_label(label, sizeof(label), idx, cmd);
	snprintf(c->what, sizeof(c->what), " during %s", label);
	memset(&in, 0, sizeof(in));
	in.data = c->ssh->opts.stdin_data;
	in.len = in.data != NULL ? c->ssh->opts.stdin_len : 0;

	while ((ch = libssh2_channel_open_session(c->s)) == NULL) {
		r = libssh2_session_last_errno(c->s);
		if (r != LIBSSH2_ERROR_EAGAIN) {
			if (ssh_rc_fatal(r)) {
				ssh_lost(c, err);
				rc = -1;
			} else
				dx_err_set(err, DX_CHANNEL,
				    "cannot open a channel for %s: %s", label,
				    ssh_errmsg(c->s));
			goto out;
		}
		if ((r = ssh_wait(c, 0, until, err)) != 0) {
			if (r == SSH_EXPIRED)
				dx_err_set(err, DX_CALL_TIMEOUT,
				    "%s timed out after %s", label,
				    ssh_fmt_ms(tbuf, sizeof(tbuf), tmo));
			/* A half-open channel leaves the session unusable. */
			c->healthy = false;
			rc = -1;
			goto out;
		}
	}
#ifndef HAVE_LIBSSH2_CHANNEL_HAS_EXIT_STATUS
	marked = ssh_status_mark(ch);
#endif
	/* From here on the command may run: a retry must never send it again. */
	c->res->calls_sent++;
	while ((r = libssh2_channel_process_startup(ch, "exec", 4, cmd,
	    (unsigned int)strlen(cmd))) == LIBSSH2_ERROR_EAGAIN) {
		if ((r = ssh_wait(c, 0, until, err)) != 0)
			goto cut;
	}
	if (r != 0) {
		if (ssh_rc_fatal(r)) {
			/* The request may have reached the drone before the end. */
			ssh_lost(c, err);
			ssh_kill_unconfirmed(err, 0);
			rc = -1;
		} else
			dx_err_set(err, DX_CHANNEL, "%s was refused by %s: %s", label,
			    c->hp, ssh_errmsg(c->s));
		goto out;
	}
	/*
	 * stdin: the --stdin bytes then EOF, or EOF at once, so that a
	 * command that reads its input (cat, bash -s) never waits for a
	 * keyboard.  The EOF is one packet, sent with no round trip.
	 */
	if ((r = ssh_drain(c, ch, call, &in, until, err)) != 0)
		goto cut;
	if (!ssh_exit_info(c, ch, call, marked)) {
		/*
		 * Closed with no exit status (sshd's ChannelTimeout, an
		 * appliance): nothing says how the command ended, or that it
		 * did.  End it as a cut one; the kill script says whether
		 * anything was left.
		 */
		dx_err_set(err, DX_CHANNEL, "%s: the channel closed with no exit "
		    "status from %s", label, c->hp);
		ssh_channel_end(c, ch, dx_now_ms() + 1000);
		ch = NULL;
		kill_until = dx_now_ms() + SSH_KILL_CALL_MS;
		if (dl != 0 && dl + SSH_KILL_SLACK_MS < kill_until)
			kill_until = dl + SSH_KILL_SLACK_MS;
		if (!ssh_kill_confirmed(mark = ssh_kill(c, kill_until, false)))
			ssh_kill_unconfirmed(err, mark);
		if (!c->healthy)
			rc = -1;
		goto out;
	}
	ssh_channel_end(c, ch, dx_now_ms() + 1000);
	ch = NULL;
	if (!c->healthy)
		rc = -1;
	goto out;

cut:
	/* r is SSH_EXPIRED (timeout) or -1 with err set. */
	if (r == SSH_EXPIRED)
		dx_err_set(err, DX_CALL_TIMEOUT, "%s timed out after %s", label,
		    ssh_fmt_ms(tbuf, sizeof(tbuf), tmo));
	if (err->kind == DX_CONNECTION_LOST || !c->healthy) {
		/*
		 * No way left to reach the drone (lost, unanswered keepalives,
		 * a frozen peer): the command's end is not known.
		 */
		ssh_kill_unconfirmed(err, 0);
		rc = -1;
		goto out;
	}
	/* Deadline, abort: the drone is done, no next call. */
	hurry = err->kind != DX_CALL_TIMEOUT && err->kind != DX_OUTPUT &&
	    err->kind != DX_CHANNEL;
	if (hurry)
		rc = -1;
	/*
	 * A drone that goes on to its next call can afford to wait for a
	 * busy drone to start the script; an interrupted one cannot.
	 */
	kill_until = dx_now_ms() + (hurry ? SSH_KILL_BUDGET_MS : SSH_KILL_CALL_MS);
	if (dl != 0 && dl + SSH_KILL_SLACK_MS < kill_until)
		kill_until = dl + SSH_KILL_SLACK_MS;
	if (!ssh_kill_confirmed(mark = ssh_kill(c, kill_until, hurry))) {
		ssh_kill_unconfirmed(err, mark);
		/* Nothing says it will end: take what came, wait no more. */
		kill_until = dx_now_ms();
	}
	if (c->healthy) {
		struct dx_err ignored;

		/* Whatever the command wrote before it ended is kept. */
		c->cleanup = true;
		if (ssh_drain(c, ch, call, NULL, kill_until, &ignored) == 0)
			ssh_exit_info(c, ch, call, marked);
		c->cleanup = false;
		call->exit_status = -1;
	}
	if (!c->healthy)
		rc = -1;
out:
	if (ch != NULL)
		ssh_channel_end(c, ch, dx_now_ms() + 200);
	call->elapsed_ms = dx_now_ms() - start;
	if (call->error.kind == DX_OK && call->signal != NULL)
		dx_err_set(err, DX_SIGNAL, "%s killed by signal %s", label,
		    call->signal);
	else if (call->error.kind == DX_OK && call->exit_status != 0)
		dx_err_set(err, DX_NONZERO_EXIT, "%s exited with status %d", label,
		    call->exit_status);
	return rc;
}

static void
ssh_conn_close(struct ssh_conn *c)
{
	int i;

	if (c->s != NULL && c->healthy) {
		/* One try: a full send buffer is no reason to wait. */
		libssh2_session_disconnect_ex(c->s, SSH_DISCONNECT_BY_APPLICATION,
		    "dronex done", "");
	}
	if (c->fd != -1)
		shutdown(c->fd, SHUT_RDWR);
	if (c->s != NULL)
		for (i = 0; libssh2_session_free(c->s) == LIBSSH2_ERROR_EAGAIN &&
		    i < 8; i++)
			;
	c->s = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

void
dx_ssh_exec(void *arg, const struct dx_job *job, const struct dx_ctl *ctl,
    struct dx_result *res)
{
	struct dx_ssh *ssh = arg;
	const struct dx_drone *d = job->drone;
	struct ssh_khset khs, *kh = NULL;
	struct dx_call_result *call;
	struct ssh_conn c;
	struct dx_err err;
	enum dx_kind why;
	int64_t until;

	dx_err_clear(&err);
	memset(&c, 0, sizeof(c));
	c.ssh = ssh;
	c.drone = d;
	c.ctl = ctl;
	c.res = res;
	c.fd = -1;
	c.budget = d->connect_timeout_ms > 0 ? d->connect_timeout_ms :
	    ssh->opts.connect_timeout_ms;
	if (d->port == 22)
		snprintf(c.hp, sizeof(c.hp), "%s", d->host);
	else
		snprintf(c.hp, sizeof(c.hp), "[%s]:%d", d->host, d->port);
	res->hostkey_checked = false;

	if (d->jump != NULL) {
		dx_err_set(&err, DX_NETWORK, "jump hosts are not supported yet "
		    "(drone '%s' jump '%s')", d->name, d->jump);
		goto out;
	}
	if ((why = dx_ctl_aborted(ctl)) != DX_OK) {
		dx_err_set(&err, why, why == DX_DEADLINE ? "deadline reached "
		    "before connecting to %s" : "interrupted before connecting "
		    "to %s", c.hp);
		goto out;
	}
	if (ssh->opts.hostkey_policy != DX_HKC_OFF) {
		ssh_kh_files(ssh, d, &khs);
		kh = &khs;
	}
	until = dx_now_ms() + c.budget;
	if (ssh_connect(&c, until, &err) == -1 || ssh_banner(&c, until, &err) == -1)
		goto out;
	c.budget *= SSH_KEX_FACTOR;
	until = dx_now_ms() + c.budget;
	if (ssh_handshake(&c, kh ? &kh->files : NULL, until, &err) == -1 ||
	    ssh_hostkey(&c, kh ? &kh->files : NULL, &err) == -1 ||
	    ssh_auth(&c, until, &err) == -1)
		goto out;
	if (ssh->opts.keepalive_s > 0) {
		libssh2_keepalive_config(c.s, 1, (unsigned)ssh->opts.keepalive_s);
		c.ka_next = dx_now_ms() + (int64_t)ssh->opts.keepalive_s * 1000;
	}
	for (size_t i = 0; i < job->ncalls; i++) {
		int rc;

		if ((call = dx_result_add_call(res, job->calls[i],
		    ssh->opts.max_output, &err)) == NULL)
			goto out;
		rc = ssh_call(&c, i, job->calls[i], call);
		if (call->error.kind != DX_OK && res->error.kind == DX_OK)
			res->error = call->error;
		if (rc == -1 || (call->error.kind != DX_OK && ctl->fail_fast))
			break;
	}
out:
	ssh_conn_close(&c);
	if (err.kind != DX_OK && res->error.kind == DX_OK)
		res->error = err;
}
