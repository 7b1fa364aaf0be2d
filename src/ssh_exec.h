/*
 * ssh_exec.h - the SSH executor: runs one drone's calls over one
 * connection (conn.h), on the drone's own thread.
 *
 * The executor is public: struct dx_ssh_opts, dx_ssh_new(), dx_ssh_free()
 * and dx_ssh_exec() are declared in dronex.h, with who owns what and the
 * thread rules.  dx_ssh_new() makes the state that drone threads share
 * read-mostly: the options and the connections' shared state (conn.h: the
 * known_hosts store, the identity files read once, the agent, HOME).
 * dx_ssh_exec() is a dx_exec_fn: pass it to dx_queue_new() with the
 * dx_ssh as its argument; every job's drone is a const struct dx_target *
 * (target.h), resolved once per drone.  Each drone's connection is made,
 * used and freed on the drone's thread.
 */
#ifndef DX_SSH_EXEC_H
#define DX_SSH_EXEC_H

#include "dronex.h"
#include "inventory.h"
#include "target.h"

#endif
