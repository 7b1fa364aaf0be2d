/*
 * call.c - one call on an open connection (call.h): a channel, its stdin,
 * its output, its exit status, and the kill script for a cut call.
 *
 * Theory of operation.  A call is one session channel on a connection
 * that passed authentication (conn.c), driven on the connection's owner
 * thread through dx_conn_wait(), the connection's one bounded wait.  The
 * call's timeout is its phase budget; the run's deadline and abort pipe
 * come from the call's ctl.
 *
 * A call cut by its timeout, the deadline or an abort still has a command
 * running on the drone, and libssh2 1.10 cannot send a "signal" request.
 * So a second channel on the same session runs dx_kill_script()
 * (killscript.c), which signals the process groups of its sibling
 * processes under the connection's sshd: the cut command's, since calls
 * run one at a time.  That cleanup runs on a short budget of its own that
 * ignores the abort pipe (the abort is why it runs) and never goes past
 * the deadline by more than CALL_KILL_SLACK_MS.
 *
 * libssh2 1.10 cannot tell a missing exit status from a real 0; the
 * channel's field is marked before the exec so that it can
 * (call_status_mark()), and a channel that closes with neither an exit
 * status nor a signal is ended as a cut call.
 */
#include "config.h"

#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "conn_int.h"
#include "killscript.h"
#include "signame.h"
#include "utf8.h"

#define CALL_READ_BUF		32768	/* per read; on the drone's stack */
#define CALL_KILL_BUDGET_MS	1500	/* kill when the drone is done (hurry) */
#define CALL_KILL_CALL_MS	5000	/* kill when a next call may follow */
#define CALL_KILL_SLACK_MS	500	/* how far the kill may pass the deadline */

/*
 * "call 2 'cmd'" with the command cut at 60 bytes (on a character
 * boundary, so a message never ends in half a character) or its first
 * newline.
 */
static void
call_label(char *buf, size_t size, size_t idx, const char *cmd)
{
	size_t n = strcspn(cmd, "\r\n");
	bool cut = n > 60 || cmd[n] != '\0';

	if (n > 60)
		n = dx_utf8_cut(cmd, n, 60);
	snprintf(buf, size, "call %zu '%.*s%s'", idx + 1, (int)n, cmd,
	    cut ? "..." : "");
}

/*
 * A call's standard input on its way out: the --stdin bytes (or none),
 * then EOF.  done once EOF went out, or once the command stopped taking
 * input (its side closed: the rest is not sent).
 */
struct call_input {
	const char	*data;
	size_t		 len;
	size_t		 pos;
	bool		 done;
};

/* What the last EAGAIN left half sent; libssh2 must resume it first. */
enum call_owe { CALL_OWE_NONE = 0, CALL_OWE_WRITE, CALL_OWE_READ };

static bool
call_sending(const struct dx_conn *c)
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
call_feed(struct dx_conn *c, LIBSSH2_CHANNEL *ch, struct call_input *in,
    enum call_owe *owe, struct dx_err *err)
{
	ssize_t w;

	if (in->pos < in->len)
		w = libssh2_channel_write(ch, in->data + in->pos, in->len - in->pos);
	else
		w = libssh2_channel_send_eof(ch);
	*owe = CALL_OWE_NONE;
	if (w == LIBSSH2_ERROR_EAGAIN) {
		if (call_sending(c))
			*owe = CALL_OWE_WRITE;
		return 0;
	}
	if (w < 0) {
		if (w == LIBSSH2_ERROR_CHANNEL_CLOSED ||
		    w == LIBSSH2_ERROR_CHANNEL_EOF_SENT || !dx_conn_rc_fatal((int)w)) {
			/* The command's side is closing: it takes no more. */
			in->done = true;
			return 1;
		}
		return dx_conn_lost(c, err);
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
 * Returns 0, DX_CONN_EXPIRED, or -1 with err set (connection lost, channel
 * error, output, deadline, abort).
 */
static int
call_drain(struct dx_conn *c, LIBSSH2_CHANNEL *ch, struct dx_call_result *call,
    struct call_input *in, int64_t until, struct dx_err *err)
{
	char buf[CALL_READ_BUF];
	enum call_owe owe = CALL_OWE_NONE;
	ssize_t n[2];
	int r;

	for (;;) {
		bool got = false;

		if (in != NULL && !in->done && owe != CALL_OWE_READ) {
			if ((r = call_feed(c, ch, in, &owe, err)) == -1)
				return -1;
			got = r == 1;
			if (owe == CALL_OWE_WRITE) {
				if ((r = dx_conn_wait(c, 0, until, err)) != 0)
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
				if (dx_conn_rc_fatal((int)n[k]))
					return dx_conn_lost(c, err);
				return dx_err_set(err, DX_CHANNEL, "channel failed%s: %s",
				    c->what, dx_conn_errmsg(c));
			}
		}
		owe = !got && n[1] == LIBSSH2_ERROR_EAGAIN && call_sending(c) ?
		    CALL_OWE_READ : CALL_OWE_NONE;
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
				if (dx_conn_rc_fatal(r))
					return dx_conn_lost(c, err);
				break;
			}
		} else if (n[0] == 0 && n[1] == 0)
			/* Both at 0 without EOF: closed without EOF. */
			return 0;
		if ((r = dx_conn_wait(c, 0, until, err)) != 0)
			return r;
	}
	while ((r = libssh2_channel_wait_closed(ch)) == LIBSSH2_ERROR_EAGAIN) {
		if ((r = dx_conn_wait(c, 0, until, err)) != 0)
			return r;
	}
	if (r < 0 && dx_conn_rc_fatal(r))
		return dx_conn_lost(c, err);
	return 0;
}

/* Closes and frees ch, waiting for the close no later than until. */
static void
call_channel_end(struct dx_conn *c, LIBSSH2_CHANNEL *ch, int64_t until)
{
	struct dx_err ignored;
	bool was = c->cleanup;
	int r, i;

	c->cleanup = true;
	if (c->healthy) {
		while ((r = libssh2_channel_close(ch)) == LIBSSH2_ERROR_EAGAIN)
			if (dx_conn_wait(c, 0, until, &ignored) != 0)
				break;
		if (r < 0 && r != LIBSSH2_ERROR_EAGAIN && dx_conn_rc_fatal(r))
			dx_conn_mark_dead(c);
	}
	/*
	 * Free sends a close if none went out yet, which may say EAGAIN; after
	 * a shutdown it can only fail fast.  A channel that still will not go
	 * is left to libssh2_session_free() rather than waited for.
	 */
	for (i = 0; (r = libssh2_channel_free(ch)) == LIBSSH2_ERROR_EAGAIN &&
	    i < 6; i++)
		if (i >= 2 || dx_conn_wait(c, 0, until, &ignored) != 0)
			dx_conn_mark_dead(c);
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
call_kill_marker(struct dx_conn *c, LIBSSH2_CHANNEL *ch, int64_t until)
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
			if (dx_conn_rc_fatal((int)n))
				dx_conn_mark_dead(c);
			return 0;
		}
		if (dx_conn_wait(c, 0, until, &ignored) != 0)
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
call_kill(struct dx_conn *c, int64_t until, bool hurry)
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
			if (dx_conn_rc_fatal(r))
				dx_conn_mark_dead(c);
			goto out;
		}
		if (dx_conn_wait(c, 0, until, &ignored) != 0) {
			/* A half-open channel leaves the session unusable. */
			dx_conn_mark_dead(c);
			goto out;
		}
	}
	while ((r = libssh2_channel_exec(ch, dx_kill_script())) ==
	    LIBSSH2_ERROR_EAGAIN)
		if (dx_conn_wait(c, 0, until, &ignored) != 0)
			break;
	if (r == 0) {
		mark = call_kill_marker(c, ch, until);
		if (hurry)
			dx_conn_mark_dead(c);
		else if (mark == DX_KILL_TERM)
			/* Its grace and KILL, before the next call starts. */
			call_drain(c, ch, NULL, NULL, until, &ignored);
	} else if (r != LIBSSH2_ERROR_EAGAIN && dx_conn_rc_fatal(r))
		dx_conn_mark_dead(c);
	call_channel_end(c, ch, until);
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
call_kill_unconfirmed(struct dx_err *err, char mark)
{
	const char *why = mark == DX_KILL_GUARD ? " (the kill script's parent "
	    "is not sshd)" : mark == DX_KILL_ERROR ? " (the kill script could "
	    "not list processes)" : "";
	size_t len = strlen(err->msg);

	snprintf(err->msg + len, sizeof(err->msg) - len,
	    "; it may still be running on the drone%s", why);
}

static bool
call_kill_confirmed(char mark)
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
 * after the channel opens, before any exec, CALL_NO_STATUS is written into
 * it, and a status that still reads CALL_NO_STATUS at the end never came.
 * The layout below is 1.10.0's own (libssh2_priv.h: struct
 * _LIBSSH2_CHANNEL begins with a list node, the channel type and its
 * length, then exit_status); the mark is used only when the library that
 * runs is 1.10.0 and libssh2_channel_get_exit_status() reads the value
 * written, else the field is restored at once and 0 is trusted as before.
 */
struct call_l2_channel_head {
	void		*node[3];
	unsigned char	*channel_type;
	unsigned	 channel_type_len;
	int		 exit_status;
};

#define CALL_NO_STATUS	(INT_MIN + 0x5e1f)	/* no server sends this */

static bool
call_status_mark(LIBSSH2_CHANNEL *ch)
{
	/* The library that runs, not only the one built against (no cache:
	   drone threads would race on it, and the check costs a strcmp). */
	const char *v = libssh2_version(0);
	int *p;

	if (LIBSSH2_VERSION_NUM != 0x010a00 || v == NULL || strcmp(v, "1.10.0") != 0)
		return false;
	p = &((struct call_l2_channel_head *)(void *)ch)->exit_status;
	if (*p != 0 || libssh2_channel_get_exit_status(ch) != 0)
		return false;
	*p = CALL_NO_STATUS;
	if (libssh2_channel_get_exit_status(ch) == CALL_NO_STATUS)
		return true;
	*p = 0;
	return false;
}
#endif

/*
 * Exit status and signal of a finished channel into call.  marked: the
 * exit status was marked at open (call_status_mark()).  Returns false when
 * the channel ended with neither an exit status nor a signal (call's
 * exit_status then stays -1).
 */
static bool
call_exit_info(struct dx_conn *c, LIBSSH2_CHANNEL *ch,
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

		if (marked && st == CALL_NO_STATUS)
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
 * One call (call.h).  Its steps: open the channel, mark its exit status,
 * exec, drain with stdin, exit status; or, once cut, the kill script, the
 * output that still came, and the message.
 */
int
dx_call_run(struct dx_conn *c, const struct dx_ctl *ctl, size_t idx,
    const char *cmd, const struct dx_call_opts *opts,
    struct dx_call_result *call, size_t *sent)
{
	LIBSSH2_CHANNEL *ch = NULL;
	struct dx_err *err = &call->error;
	struct call_input in;
	char label[100], tbuf[32], mark;
	int64_t start, until = 0, kill_until, dl = ctl->deadline;
	int64_t tmo = opts->timeout_ms;
	bool hurry, marked = false;
	int r, rc = 0;

	start = dx_now_ms();
	if (dx_conn_owned(c, "a call", err) == -1 || !dx_conn_healthy(c)) {
		if (err->kind == DX_OK)
			dx_err_set(err, DX_INTERNAL, "a call on the connection to %s, "
			    "which is not open", c->hp);
		call->elapsed_ms = dx_now_ms() - start;
		return -1;
	}
	c->ctl = ctl;
	if (tmo > 0)
		until = start + tmo;
	call_label(label, sizeof(label), idx, cmd);
	snprintf(c->what, sizeof(c->what), " during %s", label);
	memset(&in, 0, sizeof(in));
	in.data = opts->stdin_data;
	in.len = in.data != NULL ? opts->stdin_len : 0;

	while ((ch = libssh2_channel_open_session(c->s)) == NULL) {
		r = libssh2_session_last_errno(c->s);
		if (r != LIBSSH2_ERROR_EAGAIN) {
			if (dx_conn_rc_fatal(r)) {
				dx_conn_lost(c, err);
				rc = -1;
			} else
				dx_err_set(err, DX_CHANNEL,
				    "cannot open a channel for %s: %s", label,
				    dx_conn_errmsg(c));
			goto out;
		}
		if ((r = dx_conn_wait(c, 0, until, err)) != 0) {
			if (r == DX_CONN_EXPIRED)
				dx_err_set(err, DX_CALL_TIMEOUT,
				    "%s timed out after %s", label,
				    dx_fmt_secs(tbuf, sizeof(tbuf), tmo));
			/* A half-open channel leaves the session unusable. */
			c->healthy = false;
			rc = -1;
			goto out;
		}
	}
#ifndef HAVE_LIBSSH2_CHANNEL_HAS_EXIT_STATUS
	marked = call_status_mark(ch);
#endif
	/* From here on the command may run: a retry must never send it again. */
	(*sent)++;
	while ((r = libssh2_channel_process_startup(ch, "exec", 4, cmd,
	    (unsigned int)strlen(cmd))) == LIBSSH2_ERROR_EAGAIN) {
		if ((r = dx_conn_wait(c, 0, until, err)) != 0)
			goto cut;
	}
	if (r != 0) {
		if (dx_conn_rc_fatal(r)) {
			/* The request may have reached the drone before the end. */
			dx_conn_lost(c, err);
			call_kill_unconfirmed(err, 0);
			rc = -1;
		} else
			dx_err_set(err, DX_CHANNEL, "%s was refused by %s: %s", label,
			    c->hp, dx_conn_errmsg(c));
		goto out;
	}
	/*
	 * stdin: the --stdin bytes then EOF, or EOF at once, so that a
	 * command that reads its input (cat, bash -s) never waits for a
	 * keyboard.  The EOF is one packet, sent with no round trip.
	 */
	if ((r = call_drain(c, ch, call, &in, until, err)) != 0)
		goto cut;
	if (!call_exit_info(c, ch, call, marked)) {
		/*
		 * Closed with no exit status (sshd's ChannelTimeout, an
		 * appliance): nothing says how the command ended, or that it
		 * did.  End it as a cut one; the kill script says whether
		 * anything was left.
		 */
		dx_err_set(err, DX_CHANNEL, "%s: the channel closed with no exit "
		    "status from %s", label, c->hp);
		call_channel_end(c, ch, dx_now_ms() + 1000);
		ch = NULL;
		kill_until = dx_now_ms() + CALL_KILL_CALL_MS;
		if (dl != 0 && dl + CALL_KILL_SLACK_MS < kill_until)
			kill_until = dl + CALL_KILL_SLACK_MS;
		if (!call_kill_confirmed(mark = call_kill(c, kill_until, false)))
			call_kill_unconfirmed(err, mark);
		if (!c->healthy)
			rc = -1;
		goto out;
	}
	call_channel_end(c, ch, dx_now_ms() + 1000);
	ch = NULL;
	if (!c->healthy)
		rc = -1;
	goto out;

cut:
	/* r is DX_CONN_EXPIRED (timeout) or -1 with err set. */
	if (r == DX_CONN_EXPIRED)
		dx_err_set(err, DX_CALL_TIMEOUT, "%s timed out after %s", label,
		    dx_fmt_secs(tbuf, sizeof(tbuf), tmo));
	if (err->kind == DX_CONNECTION_LOST || !c->healthy) {
		/*
		 * No way left to reach the drone (lost, unanswered keepalives,
		 * a frozen peer): the command's end is not known.
		 */
		call_kill_unconfirmed(err, 0);
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
	kill_until = dx_now_ms() + (hurry ? CALL_KILL_BUDGET_MS : CALL_KILL_CALL_MS);
	if (dl != 0 && dl + CALL_KILL_SLACK_MS < kill_until)
		kill_until = dl + CALL_KILL_SLACK_MS;
	if (!call_kill_confirmed(mark = call_kill(c, kill_until, hurry))) {
		call_kill_unconfirmed(err, mark);
		/* Nothing says it will end: take what came, wait no more. */
		kill_until = dx_now_ms();
	}
	if (c->healthy) {
		struct dx_err ignored;

		/* Whatever the command wrote before it ended is kept. */
		c->cleanup = true;
		if (call_drain(c, ch, call, NULL, kill_until, &ignored) == 0)
			call_exit_info(c, ch, call, marked);
		c->cleanup = false;
		call->exit_status = -1;
	}
	if (!c->healthy)
		rc = -1;
out:
	if (ch != NULL)
		call_channel_end(c, ch, dx_now_ms() + 200);
	call->elapsed_ms = dx_now_ms() - start;
	if (call->error.kind == DX_OK && call->signal != NULL)
		dx_err_set(err, DX_SIGNAL, "%s killed by signal %s", label,
		    call->signal);
	else if (call->error.kind == DX_OK && call->exit_status != 0)
		dx_err_set(err, DX_NONZERO_EXIT, "%s exited with status %d", label,
		    call->exit_status);
	return rc;
}
