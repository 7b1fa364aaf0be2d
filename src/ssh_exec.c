/*
 * ssh_exec.c - the SSH executor: a dx_exec_fn that runs one job's calls
 * over one connection.
 *
 * Theory of operation.  The path of a drone is: target -> connection over
 * a transport -> calls -> result.  dx_ssh_exec() runs on the drone's own
 * thread.  It takes the drone's target (its effective settings, resolved
 * once per drone by target.c and handed over as job->drone), makes a
 * connection from it (conn.c),
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
	const struct dx_target *t = job->drone;
	struct dx_call_result *call;
	struct dx_conn *c = NULL;
	struct dx_err err;
	bool attached = false;
	int rc;

	dx_err_clear(&err);
	res->hostkey_checked = false;
	if ((c = dx_conn_new(t, ssh->shared, &err)) == NULL ||
	    dx_conn_attach(c, &err) == -1)
		goto out;
	attached = true;
	rc = dx_conn_open(c, ctl, &err);
	dx_conn_record(c, res);
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
