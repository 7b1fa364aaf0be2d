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
#include "ssh_exec.h"

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

/* "call 2 'cmd'" with the command cut at 60 bytes or its first newline. */
static void
ssh_call_label(char *buf, size_t size, size_t idx, const char *cmd)
{
	size_t n = strcspn(cmd, "\r\n");
	bool cut = n > 60 || cmd[n] != '\0';

	if (n > 60)
		n = 60;
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
	if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN)
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
 * Reads stdout and stderr of ch into call (NULL: discard) until the remote
 * side has sent EOF and closed the channel.  Returns 0, SSH_EXPIRED, or -1
 * with err set (connection lost, channel error, output, deadline, abort).
 */
static int
ssh_drain(struct ssh_conn *c, LIBSSH2_CHANNEL *ch, struct dx_call_result *call,
    int64_t until, struct dx_err *err)
{
	char buf[SSH_READ_BUF];
	ssize_t n[2];
	int r;

	for (;;) {
		bool got = false;

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
		if (got)
			continue;
		if (libssh2_channel_eof(ch) == 1)
			break;
		/* Both at 0 without EOF: closed without EOF; stop reading. */
		if (n[0] == 0 && n[1] == 0)
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
 * Reads the kill script's stdout until its "k" (TERM went out) or its end
 * (nothing was left to signal), within until.  True if either came.
 */
static bool
ssh_kill_started(struct ssh_conn *c, LIBSSH2_CHANNEL *ch, int64_t until)
{
	struct dx_err ignored;
	char buf[64];
	ssize_t n;

	for (;;) {
		n = libssh2_channel_read(ch, buf, sizeof(buf));
		if (n > 0) {
			if (memchr(buf, 'k', (size_t)n) != NULL)
				return true;
			continue;
		}
		if (n == 0 && libssh2_channel_eof(ch))
			return true;
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			if (ssh_rc_fatal((int)n))
				ssh_mark_dead(c);
			return false;
		}
		if (ssh_wait(c, 0, until, &ignored) != 0)
			return false;
	}
}

/*
 * Ends the cut call's command on the drone: a second channel runs
 * dx_kill_script().  Bounded by until; never watches the abort pipe.
 * hurry: the drone is done (deadline, interrupt), so stop once TERM went
 * out and drop the connection instead of waiting out the script's grace.
 * True if the script confirmed within until that TERM went out (or that
 * nothing was left); false if the command may still run on the drone.
 */
static bool
ssh_kill(struct ssh_conn *c, int64_t until, bool hurry)
{
	LIBSSH2_CHANNEL *ch;
	struct dx_err ignored;
	char saved[sizeof(c->what)];
	bool done = false;
	int r;

	if (!c->healthy)
		return false;
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
		done = ssh_kill_started(c, ch, until);
		if (hurry)
			ssh_mark_dead(c);
		else if (done)
			/* Its grace and KILL, before the next call starts. */
			ssh_drain(c, ch, NULL, until, &ignored);
	} else if (r != LIBSSH2_ERROR_EAGAIN && ssh_rc_fatal(r))
		ssh_mark_dead(c);
	ssh_channel_end(c, ch, until);
out:
	c->cleanup = false;
	memcpy(c->what, saved, sizeof(saved));
	return done;
}

/*
 * Says in err that a cut command was not confirmed ended: the kill did not
 * get through in its budget (an overloaded drone, a dying link).
 */
static void
ssh_kill_unconfirmed(struct dx_err *err)
{
	static const char note[] = "; it may still be running on the drone";
	size_t len = strlen(err->msg);

	if (len + sizeof(note) <= sizeof(err->msg))
		memcpy(err->msg + len, note, sizeof(note));
}

/* Exit status and signal of a finished channel into call. */
static void
ssh_exit_info(struct ssh_conn *c, LIBSSH2_CHANNEL *ch,
    struct dx_call_result *call)
{
	char *sig = NULL;
	size_t siglen = 0;

	if (libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL,
	    NULL) == 0 && sig != NULL && siglen > 0) {
		const char *p = sig;

		if (siglen > 3 && strncmp(p, "SIG", 3) == 0) {
			p += 3;
			siglen -= 3;
		}
		free(call->signal);
		call->signal = strndup(p, siglen);
		call->exit_status = -1;
	} else {
#ifdef HAVE_LIBSSH2_CHANNEL_HAS_EXIT_STATUS
		if (libssh2_channel_has_exit_status(ch))
			call->exit_status = libssh2_channel_get_exit_status(ch);
#else
		/* 1.10 cannot tell "no exit status" from 0 (LIBSSH2-NOTES). */
		call->exit_status = libssh2_channel_get_exit_status(ch);
#endif
	}
	if (sig != NULL)
		libssh2_free(c->s, sig);
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
	char label[100], tbuf[32];
	int64_t start, until = 0, kill_until, dl = c->ctl->deadline;
	int64_t tmo = c->ssh->opts.call_timeout_ms;
	bool hurry;
	int r, rc = 0;

	start = dx_now_ms();
	if (tmo > 0)
		until = start + tmo;
	ssh_call_label(label, sizeof(label), idx, cmd);
	snprintf(c->what, sizeof(c->what), " during %s", label);

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
	/* From here on the command may run: a retry must never send it again. */
	c->res->calls_sent++;
	while ((r = libssh2_channel_process_startup(ch, "exec", 4, cmd,
	    (unsigned int)strlen(cmd))) == LIBSSH2_ERROR_EAGAIN) {
		if ((r = ssh_wait(c, 0, until, err)) != 0)
			goto cut;
	}
	if (r != 0) {
		if (ssh_rc_fatal(r)) {
			ssh_lost(c, err);
			rc = -1;
		} else
			dx_err_set(err, DX_CHANNEL, "%s was refused by %s: %s", label,
			    c->hp, ssh_errmsg(c->s));
		goto out;
	}
	if ((r = ssh_drain(c, ch, call, until, err)) != 0)
		goto cut;
	ssh_exit_info(c, ch, call);
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
		if (err->kind != DX_CONNECTION_LOST)
			ssh_kill_unconfirmed(err);
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
	if (!ssh_kill(c, kill_until, hurry))
		ssh_kill_unconfirmed(err);
	if (c->healthy) {
		struct dx_err ignored;

		/* Whatever the command wrote before it ended is kept. */
		c->cleanup = true;
		if (ssh_drain(c, ch, call, kill_until, &ignored) == 0)
			ssh_exit_info(c, ch, call);
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
