/*
 * test_killscript.c - the command that ends a cut call on the drone
 * (killscript.c), run here by /bin/sh the way sshd runs it: as a child of
 * a process named "sshd", beside the commands it must end.
 *
 * The test process makes itself a child subreaper, so that processes
 * orphaned on the way are re-parented to it (as to init on a drone) and
 * it can see them end.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "killscript.h"

static double
ks_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A command in a session (and process group) of its own, as sshd starts it. */
static pid_t
ks_spawn_session(const char *cmd)
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		setsid();
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Reaps whatever ended; true once no process of group pgid is left. */
static bool
ks_group_gone(pid_t pgid)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		continue;
	return kill(-pgid, 0) == -1 && errno == ESRCH;
}

static bool
ks_wait_gone(pid_t pgid, double seconds)
{
	double end = ks_now() + seconds;

	while (!ks_group_gone(pgid)) {
		if (ks_now() > end)
			return false;
		usleep(20 * 1000);
	}
	return true;
}

/*
 * Runs "/bin/sh -c prefix+script" as a child of this process, its stdout
 * into out (NUL-terminated); returns its wait status.
 */
static int
ks_run_script(const char *prefix, char *out, size_t outsz)
{
	char cmd[4096];
	int fds[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "%s%s", prefix, dx_kill_script());
	cr_assert(pipe(fds) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (len + 1 < outsz && (n = read(fds[0], out + len, outsz - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	cr_assert(waitpid(pid, &status, 0) == pid);
	return status;
}

static void
ks_setup(void)
{
	cr_assert(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
}

TestSuite(killscript, .init = ks_setup, .timeout = 30);

Test(killscript, under_sshd_it_ends_each_sibling_command_and_its_children)
{
	pid_t pipeline, stubborn;
	char out[256];
	double t0;
	int status;

	cr_assert(prctl(PR_SET_NAME, "sshd") == 0);
	/* A command with children of its own, and one that ignores TERM. */
	pipeline = ks_spawn_session("sleep 41.31 & sleep 41.32 | cat; wait");
	stubborn = ks_spawn_session("trap '' TERM; sleep 41.33 & wait");
	usleep(200 * 1000);
	cr_assert(!ks_group_gone(pipeline) && !ks_group_gone(stubborn));

	t0 = ks_now();
	status = ks_run_script("", out, sizeof(out));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	cr_expect(strchr(out, 'k') != NULL, "no 'k' after TERM: \"%s\"", out);
	cr_expect(ks_wait_gone(pipeline, 2), "the pipeline's group is still alive");
	cr_expect(ks_wait_gone(stubborn, 2), "the group that ignores TERM is still alive");
	/* TERM, then at most 0.5 s of grace before KILL. */
	cr_expect_lt(ks_now() - t0, 2.0);
	kill(-pipeline, SIGKILL);
	kill(-stubborn, SIGKILL);
}

Test(killscript, with_nothing_running_it_prints_nothing_and_succeeds)
{
	char out[256];
	int status;

	cr_assert(prctl(PR_SET_NAME, "sshd") == 0);
	status = ks_run_script("", out, sizeof(out));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect_str_eq(out, "");
}

/*
 * The connection ended while the script's shell was starting: its sshd
 * parent is gone and it was re-parented (here to this subreaper; on a
 * drone to init).  It must then touch nothing: the children of its new
 * parent are not commands of its connection.
 */
Test(killscript, re_parented_away_from_sshd_it_touches_nothing)
{
	pid_t bystander, sshd;
	int status;

	cr_assert(prctl(PR_SET_NAME, "not-ssh") == 0);
	bystander = ks_spawn_session("sleep 41.34");
	sshd = fork();
	cr_assert(sshd >= 0);
	if (sshd == 0) {
		/* A short-lived "sshd" that starts the script and leaves at once. */
		prctl(PR_SET_NAME, "sshd");
		if (fork() == 0) {
			execl("/bin/sh", "sh", "-c", "sleep 0.3; exec sh -c \"$0\"",
			    dx_kill_script(), (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	cr_assert(waitpid(sshd, &status, 0) == sshd);
	/* The orphaned script is our child now; wait for it to end. */
	for (double end = ks_now() + 10; ks_now() < end; usleep(20 * 1000)) {
		pid_t p = waitpid(-1, &status, WNOHANG);

		if (p > 0 && p != bystander)
			break;
	}
	usleep(700 * 1000);
	cr_expect_eq(waitpid(bystander, &status, WNOHANG), 0,
	    "a process that is not under the script's sshd was ended");
	cr_expect_eq(kill(bystander, 0), 0);
	kill(-bystander, SIGKILL);
	waitpid(bystander, NULL, 0);
}

Test(killscript, a_parent_that_is_not_sshd_is_left_alone)
{
	pid_t bystander;
	char out[256];
	int status;

	cr_assert(prctl(PR_SET_NAME, "worker") == 0);
	bystander = ks_spawn_session("sleep 41.35");
	status = ks_run_script("", out, sizeof(out));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect_str_eq(out, "");
	usleep(700 * 1000);
	cr_expect_eq(waitpid(bystander, &status, WNOHANG), 0,
	    "a sibling was ended although the parent is not sshd");
	kill(-bystander, SIGKILL);
	waitpid(bystander, NULL, 0);
}
