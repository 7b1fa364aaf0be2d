/*
 * agent.c - the ssh-agent protocol over a non-blocking socket, every wait
 * bounded (see agent.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "fdwait.h"

#define AG_REQUEST_IDENTITIES	11
#define AG_IDENTITIES_ANSWER	12
#define AG_SIGN_REQUEST		13
#define AG_SIGN_RESPONSE	14
#define AG_RSA_SHA2_256		2
#define AG_RSA_SHA2_512		4
#define AG_MAX_MSG		(256 * 1024)	/* an answer longer is refused */
#define AG_MAX_KEYS		256
#define AG_UNUSABLE		(-2)

struct ag_key {
	unsigned char	*blob;
	size_t		 len;
};

struct dx_agent {
	int		 fd;
	struct ag_key	*keys;
	size_t		 nkeys;
};

static void
ag_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
ag_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Bounded reader over a message. */
struct ag_rd {
	const unsigned char	*p;
	size_t			 left;
};

static bool
ag_str(struct ag_rd *r, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (r->left < 4 || (n = ag_get32(r->p)) > r->left - 4)
		return false;
	*s = r->p + 4;
	*len = n;
	r->p += 4 + n;
	r->left -= 4 + n;
	return true;
}

static int
ag_wait(int fd, short events, int64_t until, const struct dx_ctl *ctl,
    struct dx_err *err)
{
	return dx_fd_wait(fd, events, until, ctl, " waiting for the ssh-agent",
	    err);
}

/* Sends all of buf: 0, DX_WAIT_EXPIRED, AG_UNUSABLE or -1. */
static int
ag_send(int fd, const unsigned char *buf, size_t len, int64_t until,
    const struct dx_ctl *ctl, struct dx_err *err)
{
	ssize_t n;
	int r;

	while (len > 0) {
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
			dx_err_set(err, DX_AUTH, "cannot write to the ssh-agent: %s",
			    strerror(errno));
			return AG_UNUSABLE;
		}
		if ((r = ag_wait(fd, POLLOUT, until, ctl, err)) != 0)
			return r;
	}
	return 0;
}

/* Reads exactly len bytes: 0, DX_WAIT_EXPIRED, AG_UNUSABLE or -1. */
static int
ag_recv(int fd, unsigned char *buf, size_t len, int64_t until,
    const struct dx_ctl *ctl, struct dx_err *err)
{
	ssize_t n;
	int r;

	while (len > 0) {
		if ((n = recv(fd, buf, len, 0)) > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0) {
			dx_err_set(err, DX_AUTH, "the ssh-agent closed the connection");
			return AG_UNUSABLE;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			dx_err_set(err, DX_AUTH, "cannot read from the ssh-agent: %s",
			    strerror(errno));
			return AG_UNUSABLE;
		}
		if ((r = ag_wait(fd, POLLIN, until, ctl, err)) != 0)
			return r;
	}
	return 0;
}

/*
 * One request and its answer: *ans (malloc'd, *alen bytes, the type byte
 * first).  0, DX_WAIT_EXPIRED, AG_UNUSABLE or -1.
 */
static int
ag_call(struct dx_agent *a, const unsigned char *req, size_t len,
    unsigned char **ans, size_t *alen, int64_t until, const struct dx_ctl *ctl,
    struct dx_err *err)
{
	unsigned char hdr[4];
	uint32_t n;
	int r;

	*ans = NULL;
	if ((r = ag_send(a->fd, req, len, until, ctl, err)) != 0 ||
	    (r = ag_recv(a->fd, hdr, 4, until, ctl, err)) != 0)
		return r;
	if ((n = ag_get32(hdr)) == 0 || n > AG_MAX_MSG) {
		dx_err_set(err, DX_AUTH, "the ssh-agent sent a %u-byte message",
		    (unsigned)n);
		return AG_UNUSABLE;
	}
	if ((*ans = malloc(n)) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory talking to "
		    "the ssh-agent");
	if ((r = ag_recv(a->fd, *ans, n, until, ctl, err)) != 0) {
		free(*ans);
		*ans = NULL;
		return r;
	}
	*alen = n;
	return 0;
}

void
dx_agent_close(struct dx_agent *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	for (size_t i = 0; i < a->nkeys; i++)
		free(a->keys[i].blob);
	free(a->keys);
	free(a);
}

size_t
dx_agent_nkeys(const struct dx_agent *a)
{
	return a->nkeys;
}

const unsigned char *
dx_agent_key(const struct dx_agent *a, size_t i, size_t *len)
{
	*len = a->keys[i].len;
	return a->keys[i].blob;
}

static int
ag_connect(struct dx_agent *a, const char *sock, int64_t until,
    const struct dx_ctl *ctl, struct dx_err *err)
{
	struct sockaddr_un sa;
	socklen_t slen = sizeof(int);
	int soerr = 0, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		dx_err_set(err, DX_AUTH, "ssh-agent socket path '%s' is too long",
		    sock);
		return AG_UNUSABLE;
	}
	strcpy(sa.sun_path, sock);
	if ((a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return dx_err_set(err, DX_INTERNAL, "cannot make a socket for the "
		    "ssh-agent: %s", strerror(errno));
	if (connect(a->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		dx_err_set(err, DX_AUTH, "cannot connect to the ssh-agent at '%s': %s",
		    sock, strerror(errno));
		return AG_UNUSABLE;
	}
	if ((r = ag_wait(a->fd, POLLOUT, until, ctl, err)) != 0)
		return r;
	if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == -1)
		soerr = errno;
	if (soerr != 0) {
		dx_err_set(err, DX_AUTH, "cannot connect to the ssh-agent at '%s': %s",
		    sock, strerror(soerr));
		return AG_UNUSABLE;
	}
	return 0;
}

/* Parses IDENTITIES_ANSWER into a->keys: 0 or AG_UNUSABLE / -1. */
static int
ag_parse_keys(struct dx_agent *a, const unsigned char *ans, size_t len,
    struct dx_err *err)
{
	struct ag_rd r = { ans + 5, len - 5 };
	const unsigned char *blob, *comment;
	size_t blen, clen;
	uint32_t n;

	if (len < 5 || ans[0] != AG_IDENTITIES_ANSWER) {
		dx_err_set(err, DX_AUTH, "the ssh-agent refused to list its keys");
		return AG_UNUSABLE;
	}
	if ((n = ag_get32(ans + 1)) > AG_MAX_KEYS)
		n = AG_MAX_KEYS;
	if (n > 0 && (a->keys = calloc(n, sizeof(*a->keys))) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory listing the "
		    "ssh-agent's keys");
	for (uint32_t i = 0; i < n; i++) {
		if (!ag_str(&r, &blob, &blen) || !ag_str(&r, &comment, &clen)) {
			dx_err_set(err, DX_AUTH, "the ssh-agent sent a malformed "
			    "key list");
			return AG_UNUSABLE;
		}
		if ((a->keys[i].blob = malloc(blen ? blen : 1)) == NULL)
			return dx_err_set(err, DX_INTERNAL, "out of memory listing "
			    "the ssh-agent's keys");
		memcpy(a->keys[i].blob, blob, blen);
		a->keys[i].len = blen;
		a->nkeys++;
	}
	return 0;
}

int
dx_agent_open(const char *sock, int64_t until, const struct dx_ctl *ctl,
    struct dx_agent **out, struct dx_err *err)
{
	static const unsigned char req[5] = { 0, 0, 0, 1, AG_REQUEST_IDENTITIES };
	struct dx_agent *a;
	unsigned char *ans = NULL;
	size_t alen = 0;
	int r;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory starting the "
		    "ssh-agent client");
	a->fd = -1;
	if ((r = ag_connect(a, sock, until, ctl, err)) == 0 &&
	    (r = ag_call(a, req, sizeof(req), &ans, &alen, until, ctl, err)) == 0)
		r = ag_parse_keys(a, ans, alen, err);
	free(ans);
	if (r != 0) {
		dx_agent_close(a);
		return r;
	}
	*out = a;
	return 0;
}

/*
 * The signature algorithm libssh2 chose, from the data it asks to sign
 * (RFC 4252 section 7: session id, 50, user, service, "publickey", TRUE,
 * algorithm, key): an RSA key signs with SHA-2 when libssh2 says so.
 */
static uint32_t
ag_flags(const unsigned char *data, size_t len)
{
	struct ag_rd r = { data, len };
	const unsigned char *s;
	size_t n;

	if (!ag_str(&r, &s, &n) || r.left < 1)
		return 0;
	r.p++;
	r.left--;
	if (!ag_str(&r, &s, &n) || !ag_str(&r, &s, &n) || !ag_str(&r, &s, &n) ||
	    r.left < 1)
		return 0;
	r.p++;
	r.left--;
	if (!ag_str(&r, &s, &n))
		return 0;
	if (n == 12 && memcmp(s, "rsa-sha2-256", 12) == 0)
		return AG_RSA_SHA2_256;
	if (n == 12 && memcmp(s, "rsa-sha2-512", 12) == 0)
		return AG_RSA_SHA2_512;
	return 0;
}

int
dx_agent_sign(LIBSSH2_SESSION *session, unsigned char **sig, size_t *sig_len,
    const unsigned char *data, size_t data_len, void **abstract)
{
	struct dx_agent_signer *sg = *abstract;
	struct ag_key *k = &sg->agent->keys[sg->key];
	struct ag_rd r;
	unsigned char *req, *ans = NULL, *out;
	const unsigned char *blob, *type, *raw;
	size_t len, alen = 0, blen, tlen, rlen;
	int rc;

	(void)session;
	len = 4 + 1 + 4 + k->len + 4 + data_len + 4;
	if (data_len > AG_MAX_MSG || (req = malloc(len)) == NULL) {
		sg->rc = dx_err_set(&sg->err, DX_INTERNAL, "out of memory asking "
		    "the ssh-agent to sign");
		return -1;
	}
	ag_put32(req, (uint32_t)(len - 4));
	req[4] = AG_SIGN_REQUEST;
	ag_put32(req + 5, (uint32_t)k->len);
	memcpy(req + 9, k->blob, k->len);
	ag_put32(req + 9 + k->len, (uint32_t)data_len);
	memcpy(req + 13 + k->len, data, data_len);
	ag_put32(req + 13 + k->len + data_len, ag_flags(data, data_len));
	rc = ag_call(sg->agent, req, len, &ans, &alen, sg->until, sg->ctl,
	    &sg->err);
	free(req);
	if (rc != 0) {
		/* A key the agent cannot use is not the end of the drone. */
		sg->rc = rc == AG_UNUSABLE ? 0 : rc;
		free(ans);
		return -1;
	}
	/* SIGN_RESPONSE: string signature = string type, string raw bytes. */
	r.p = ans + 1;
	r.left = alen - 1;
	if (alen < 1 || ans[0] != AG_SIGN_RESPONSE || !ag_str(&r, &blob, &blen)) {
		free(ans);
		return -1;
	}
	r.p = blob;
	r.left = blen;
	if (!ag_str(&r, &type, &tlen) || !ag_str(&r, &raw, &rlen) ||
	    (out = malloc(rlen ? rlen : 1)) == NULL) {
		free(ans);
		return -1;
	}
	/* libssh2 adds the algorithm name itself and frees out. */
	memcpy(out, raw, rlen);
	free(ans);
	*sig = out;
	*sig_len = rlen;
	return 0;
}
