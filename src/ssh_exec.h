/*
 * ssh_exec.h - the SSH executor: runs one drone's calls over one libssh2
 * session, on the drone's own thread.
 *
 * The executor is public: struct dx_ssh_opts, dx_ssh_new(), dx_ssh_free()
 * and dx_ssh_exec() are declared in dronex.h, with who owns what and the
 * thread rules.  In short: dx_ssh_new() makes the state that drone threads
 * share read-mostly: the options, the known_hosts store (knownhosts.h:
 * files parsed once per run, accept-new appends under flock) and the
 * identity files read once.  dx_ssh_exec() is a dx_exec_fn: pass it to
 * dx_queue_new() with the dx_ssh as its argument; every job's drone must
 * be a const struct dx_drone * (inventory.h).  Nothing of a libssh2
 * session is ever shared between threads.
 */
#ifndef DX_SSH_EXEC_H
#define DX_SSH_EXEC_H

#include "dronex.h"
#include "inventory.h"
#include "target.h"

#endif
