/*
 * ssh_exec.h - the SSH executor: runs one drone's calls over one
 * connection (conn.h), on the drone's own thread.
 *
 * dx_ssh_new() makes the state that drone threads share read-mostly: the
 * options and the connections' shared state (conn.h: the known_hosts
 * store, the identity files read once, the agent, HOME).  dx_ssh_exec() is
 * a dx_exec_fn: pass it to dx_queue_new() with the dx_ssh as its argument;
 * every job's drone must be a const struct dx_drone * (inventory.h).
 * Each drone's connection is made, used and freed on the drone's thread.
 * dx_ssh_free() frees what dx_ssh_new() made (a no-op on NULL); the
 * options' borrowed pointers must outlive the dx_ssh.
 */
#ifndef DX_SSH_EXEC_H
#define DX_SSH_EXEC_H

#include "dronex.h"
#include "inventory.h"
#include "target.h"

struct dx_ssh_opts {
	int64_t		 connect_timeout_ms; /* TCP connect + SSH handshake + auth */
	int64_t		 call_timeout_ms;    /* per call; 0 = none */
	size_t		 max_output;	     /* per stream per call */
	enum dx_hostkey_policy hostkey_policy;
	int		 keepalive_s;	     /* SSH keepalive interval; 0 = off */
	/*
	 * Every call's standard input (--stdin), borrowed; with stdin_data
	 * NULL each call's stdin is closed (EOF sent) at once.
	 */
	const void	*stdin_data;
	size_t		 stdin_len;
	/*
	 * Identity files from the command line (--identity), borrowed,
	 * expanded; when nidentities > 0 they replace the drone's own.
	 */
	const char *const *identities;
	size_t		 nidentities;
};

struct dx_ssh;

struct dx_ssh	*dx_ssh_new(const struct dx_ssh_opts *, struct dx_err *);
void		 dx_ssh_free(struct dx_ssh *);
void		 dx_ssh_exec(void *ssh, const struct dx_job *job,
		    const struct dx_ctl *ctl, struct dx_result *res);

#endif
