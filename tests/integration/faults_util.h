/*
 * faults_util.h - faults made for real for the integration tests, beside
 * harness.h (whose runner runs dronex while a test acts on it): a port
 * whose accept queue is full (SYNs go unanswered), a TCP relay to the test
 * sshd that drops or cuts connections, and the processes of a run found
 * on the drone (a session's sshd to freeze or kill, a cut command that
 * must be gone).
 *
 * Everything asserts with criterion.  Ownership: a struct fu_proxy is
 * freed by fu_proxy_stop(); every "char *" returned is the caller's.
 */
#ifndef FU_FAULTS_UTIL_H
#define FU_FAULTS_UTIL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

/* drones.NAME.attempts, or -1. */
long long	fu_attempts(const struct dxh_run *r, const char *name);
/* A drone name on its own: "<prefix>-NNN". */
void		fu_name(char *buf, size_t len, const char *prefix, int i);

/* n drones d-001..d-n, each with the one call; the inventory path. */
char	*fu_inventory(int n, const char *call, json_t **inv);
/*
 * Every one of n drones is in the results of a run that was cut (deadline
 * or interrupt): running ones failed with kind (their first call too,
 * when in_call) and confirmed the end of the cut command, the others
 * skipped with kind and no calls; the document's error is a string.
 * Returns how many ran.
 */
int	fu_check_cut(const struct dxh_run *r, int n, int running, const char *kind,
	    bool in_call);

/*
 * Processes.  fu_session_of() finds a process other than this one whose
 * command line contains needle and whose parent is a session process of
 * the test sshd: a child of $DX_TEST_SSHD_PID whose command line starts
 * with "sshd: ".  It polls until timeout seconds pass; it returns the
 * matching process (or -1) and fills *sshd with its parent.
 */
pid_t	fu_session_of(const char *needle, double timeout, pid_t *sshd);
pid_t	fu_ppid(pid_t pid);
/*
 * "pid ppid (parent's command line) command line" of each process whose
 * command line contains needle, one per line, for failure messages.
 * The caller frees it.
 */
char	*fu_describe(const char *needle);
/*
 * SIGKILLs every process whose whole command line is exactly cmdline
 * ("sleep 30.11"): the leftovers of a failed test, so that the tests after
 * it start clean.  Tests use values no one else runs.  Returns how many.
 */
int	fu_kill_exact(const char *cmdline);
/*
 * Whether drone name's error says that its cut command may still run on
 * the drone (its kill was not confirmed).
 */
bool	fu_maybe_running(const struct dxh_run *r, const char *name);
/* Polls until dxh_count_procs(needle) == want or timeout; the last count. */
int	fu_wait_count(const char *needle, int want, double timeout);
/*
 * Sends sig to pid only if its command line still contains needle (so a
 * recycled pid is never hit); 0, or -1 if it did not.
 */
int	fu_signal_if(pid_t pid, const char *needle, int sig);

/*
 * A listening socket on 127.0.0.1 whose accept queue is full: listen(fd, 0)
 * and non-blocking connects that are never accepted, added until one no
 * longer completes.  A new SYN to it is dropped by the kernel, so a
 * client's connect() hangs until its own timeout.
 */
struct fu_backlog {
	int	 listen_fd;
	int	 port;
	int	 fds[32];	/* the connections that fill the queue */
	int	 nfds;
};

void	fu_backlog_open(struct fu_backlog *b);
void	fu_backlog_close(struct fu_backlog *b);
/* True if a fresh connect to port completes within ms. */
bool	fu_connect_completes(int port, int ms);

/*
 * A TCP relay on 127.0.0.1 to 127.0.0.1:target_port, run by its own thread.
 * The first drop_first connections are closed as soon as they are
 * accepted.  When cut_after_ms > 0, the first relayed connection is closed
 * (both sides) that long after it was accepted; later ones are relayed to
 * their end.
 */
struct fu_proxy;

struct fu_proxy	*fu_proxy_start(int target_port, int drop_first, int cut_after_ms);
int		 fu_proxy_port(const struct fu_proxy *px);
/* Connections accepted so far (dropped ones included). */
int		 fu_proxy_accepted(struct fu_proxy *px);
void		 fu_proxy_stop(struct fu_proxy *px);
/*
 * Points drone name of inv at the relay: its port, and a known_hosts file
 * that lists the test host key under the relay's port.
 */
void		 fu_proxy_drone(struct fu_proxy *px, json_t *inv, const char *name);

/*
 * A real ssh-agent on socket path sock (foreground, so its pid is the
 * test's), ready and holding key (ssh-add); stop it with fu_agent_stop().
 */
#include <sys/types.h>
pid_t		 fu_agent_start(const char *sock, const char *key);
void		 fu_agent_stop(pid_t pid);

#endif
