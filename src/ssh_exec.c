/*
 * ssh_exec.c - the SSH executor: a dx_exec_fn that runs one job's calls
 * over one connection.
 *
 * Theory of operation.  The path of a drone is: target -> connection over
 * a transport -> calls -> result.  dx_ssh_exec() runs on the drone's own
 * thread.  It takes the drone's target (its effective settings; until
 * target.c resolves targets, ssh_target_adapt() below builds it from the
 * drone and the run's options), makes a connection from it (conn.c),
 * attaches this thread to it, opens it (TCP transport, banner, key
 * exchange, host key check, authentication), then runs the job's calls
 * one after the other (call.c: one channel each), and closes, detaches
 * and frees it.  What the connection learnt (kex, host key type and
 * fingerprint, whether the key was checked) and what each call did go
 * into the drone's result; the first failure is the drone's error.
 *
 * A drone with no calls is still connected and authenticated: "ok" means
 * the drone was reached.  The calls stop at the first one the connection
 * cannot carry past (lost, cut by the deadline or an abort), and at the
 * first failure under fail-fast.
 *
 * Shared state (struct dx_ssh) is read-mostly: the run's options and the
 * connections' shared state (conn.h: known_hosts store, identity files,
 * agent, HOME), made once by dx_ssh_new().
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "conn.h"
#include "ssh_exec.h"

#define SSH_DEFAULT_CONNECT_MS	10000

struct dx_ssh {
	struct dx_ssh_opts	 opts;
	struct dx_conn_shared	*shared;
};

struct dx_ssh *
dx_ssh_new(const struct dx_ssh_opts *opts, struct dx_err *err)
{
	struct dx_ssh *ssh;

	if ((ssh = calloc(1, sizeof(*ssh))) == NULL) {
		dx_err_set(err, DX_INTERNAL,
		    "out of memory starting the ssh executor");
		return NULL;
	}
	ssh->opts = *opts;
	if (ssh->opts.connect_timeout_ms <= 0)
		ssh->opts.connect_timeout_ms = SSH_DEFAULT_CONNECT_MS;
	if ((ssh->shared = dx_conn_shared_new(err)) == NULL) {
		free(ssh);
		return NULL;
	}
	return ssh;
}

void
dx_ssh_free(struct dx_ssh *ssh)
{
	if (ssh == NULL)
		return;
	dx_conn_shared_free(ssh->shared);
	free(ssh);
}

/* A target on the drone thread's stack, its strings borrowed. */
struct ssh_target {
	struct dx_target	 t;
	char			*ids[1];
	char			*user_kh[2];
	char			 kh_buf[2][PATH_MAX];
};

static const char *const ssh_global_kh[] = {
	"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"
};

/*
 * THE ONE PLACE THAT GOES AWAY when target.c resolves targets and the CLI
 * hands them to the executor: the drone's effective settings, decided
 * here from the drone (inventory.c already applied its defaults and the
 * command line's overrides to it) and the run's options.  Every string is
 * borrowed from the drone, the options or this struct, so the target is
 * never released (the casts drop const: the connection only reads them).
 *
 * identities: --identity, else the drone's own, else none (the agent,
 * then ~/.ssh/id_*).  known_hosts, the files OpenSSH would read: the
 * inventory's known_hosts, else ~/.ssh/known_hosts and known_hosts2; then
 * the global /etc/ssh/ssh_known_hosts and ssh_known_hosts2.  The connect
 * timeout: the drone's, else the run's (default 10 s).
 */
static void
ssh_target_adapt(const struct dx_ssh *ssh, const struct dx_drone *d,
    struct ssh_target *st)
{
	struct dx_target *t = &st->t;
	const char *home = dx_conn_shared_home(ssh->shared);

	memset(t, 0, sizeof(*t));
	t->name = (char *)d->name;
	t->host = (char *)d->host;
	t->port = d->port;
	t->user = (char *)d->user;
	if (ssh->opts.nidentities > 0) {
		t->identities = (char **)ssh->opts.identities;
		t->nidentities = ssh->opts.nidentities;
	} else if (d->identity != NULL) {
		st->ids[0] = d->identity;
		t->identities = st->ids;
		t->nidentities = 1;
	}
	t->hostkey_policy = ssh->opts.hostkey_policy;
	if (t->hostkey_policy != DX_HKC_OFF) {
		if (d->known_hosts != NULL) {
			st->user_kh[0] = d->known_hosts;
			t->nknown_hosts = 1;
		} else {
			if (home == NULL)
				home = "";
			snprintf(st->kh_buf[0], PATH_MAX, "%s/.ssh/known_hosts", home);
			snprintf(st->kh_buf[1], PATH_MAX, "%s/.ssh/known_hosts2",
			    home);
			st->user_kh[0] = st->kh_buf[0];
			st->user_kh[1] = st->kh_buf[1];
			t->nknown_hosts = 2;
		}
		t->known_hosts = st->user_kh;
		t->global_known_hosts = (char **)ssh_global_kh;
		t->nglobal_known_hosts = 2;
	}
	t->connect_timeout_ms = d->connect_timeout_ms > 0 ?
	    d->connect_timeout_ms : ssh->opts.connect_timeout_ms;
	t->keepalive_s = ssh->opts.keepalive_s;
	t->jump = d->jump;
}

/* What the connection learnt, into the result (an earlier attempt's stays). */
static void
ssh_record(const struct dx_conn *c, struct dx_result *res)
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

void
dx_ssh_exec(void *arg, const struct dx_job *job, const struct dx_ctl *ctl,
    struct dx_result *res)
{
	struct dx_ssh *ssh = arg;
	const struct dx_call_opts co = {
		.timeout_ms = ssh->opts.call_timeout_ms,
		.stdin_data = ssh->opts.stdin_data,
		.stdin_len = ssh->opts.stdin_len,
	};
	struct ssh_target st;
	struct dx_call_result *call;
	struct dx_conn *c = NULL;
	struct dx_err err;
	bool attached = false;
	int rc;

	dx_err_clear(&err);
	res->hostkey_checked = false;
	ssh_target_adapt(ssh, job->drone, &st);
	if ((c = dx_conn_new(&st.t, ssh->shared, &err)) == NULL ||
	    dx_conn_attach(c, &err) == -1)
		goto out;
	attached = true;
	rc = dx_conn_open(c, ctl, &err);
	ssh_record(c, res);
	if (rc == -1)
		goto out;
	for (size_t i = 0; i < job->ncalls; i++) {
		if ((call = dx_result_add_call(res, job->calls[i],
		    ssh->opts.max_output, &err)) == NULL)
			goto out;
		rc = dx_call_run(c, ctl, i, job->calls[i], &co, call,
		    &res->calls_sent);
		if (call->error.kind != DX_OK && res->error.kind == DX_OK)
			res->error = call->error;
		if (rc == -1 || (call->error.kind != DX_OK && ctl->fail_fast))
			break;
	}
out:
	if (attached) {
		dx_conn_close(c, NULL);
		dx_conn_detach(c, NULL);
	}
	dx_conn_free(c);
	if (err.kind != DX_OK && res->error.kind == DX_OK)
		res->error = err;
}
