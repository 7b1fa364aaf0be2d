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
#include <sys/stat.h>
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
 * Runs argv as a child of this process, its stdout into out
 * (NUL-terminated); returns its wait status.
 */
static int
ks_run_argv(const char *const *argv, char *out, size_t outsz)
{
	int fds[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	cr_assert(pipe(fds) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], (char *const *)argv);
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

/*
 * Runs "/bin/sh -c prefix+script" as a child of this process, its stdout
 * into out (NUL-terminated); returns its wait status.  shell, when not
 * NULL, replaces the "/bin/sh" that the script execs (a BusyBox drone's
 * sh is ash).
 */
static int
ks_run_shell(const char *prefix, const char *shell, char *out, size_t outsz)
{
	const char *script = dx_kill_script(), *sh = "exec /bin/sh ";
	char cmd[8192];

	cr_assert(strncmp(script, sh, strlen(sh)) == 0);
	if (shell != NULL)
		snprintf(cmd, sizeof(cmd), "%sexec %s %s", prefix, shell,
		    script + strlen(sh));
	else
		snprintf(cmd, sizeof(cmd), "%s%s", prefix, script);
	cr_assert_lt(strlen(cmd) + 1, sizeof(cmd));
	{
		const char *av[] = { "/bin/sh", "-c", cmd, NULL };

		return ks_run_argv(av, out, outsz);
	}
}

static int
ks_run_script(const char *prefix, char *out, size_t outsz)
{
	return ks_run_shell(prefix, NULL, out, outsz);
}

/* A command in this process's own group (no setsid), as Dropbear starts it. */
static pid_t
ks_spawn_plain(const char *cmd)
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Reaps what ended; true once no process's command line contains needle. */
static bool
ks_none_left(const char *needle)
{
	char cmd[256];

	while (waitpid(-1, NULL, WNOHANG) > 0)
		continue;
	snprintf(cmd, sizeof(cmd), "pgrep -f '%s' >/dev/null", needle);
	return system(cmd) != 0;
}

static bool
ks_wait_none_left(const char *needle, double seconds)
{
	double end = ks_now() + seconds;

	while (!ks_none_left(needle)) {
		if (ks_now() > end)
			return false;
		usleep(20 * 1000);
	}
	return true;
}

/*
 * A directory with a "ps" in it, for PATH: target NULL makes one that
 * fails like a ps without the options the script needs; else a symlink.
 */
static char *
ks_fake_ps(const char *target)
{
	char tmpl[] = "/tmp/dx-ks-ps.XXXXXX", path[64], *dir;
	FILE *f;

	cr_assert_not_null(dir = mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/ps", dir);
	if (target != NULL)
		cr_assert(symlink(target, path) == 0);
	else {
		cr_assert_not_null(f = fopen(path, "w"));
		fputs("#!/bin/sh\necho \"ps: invalid option\" >&2\nexit 1\n", f);
		fclose(f);
		cr_assert(chmod(path, 0755) == 0);
	}
	return strdup(dir);
}

static void
ks_fake_ps_free(char *dir)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/ps", dir);
	unlink(path);
	rmdir(dir);
	free(dir);
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
	cr_expect_str_eq(out, "k\n", "no 'k' after TERM");
	cr_expect(ks_wait_gone(pipeline, 2), "the pipeline's group is still alive");
	cr_expect(ks_wait_gone(stubborn, 2), "the group that ignores TERM is still alive");
	/* TERM, then at most 0.5 s of grace before KILL. */
	cr_expect_lt(ks_now() - t0, 2.0);
	kill(-pipeline, SIGKILL);
	kill(-stubborn, SIGKILL);
}

Test(killscript, with_nothing_running_it_says_n)
{
	char out[256];
	int status;

	cr_assert(prctl(PR_SET_NAME, "sshd") == 0);
	status = ks_run_script("", out, sizeof(out));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect_str_eq(out, "n\n", "nothing to kill must say so, not pass as done");
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

Test(killscript, a_parent_that_is_not_sshd_is_left_alone_and_it_says_g)
{
	pid_t bystander;
	char out[256];
	int status;

	cr_assert(prctl(PR_SET_NAME, "worker") == 0);
	bystander = ks_spawn_session("sleep 41.35");
	status = ks_run_script("", out, sizeof(out));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect_str_eq(out, "g\n", "a refusal must say so, not pass as done");
	usleep(700 * 1000);
	cr_expect_eq(waitpid(bystander, &status, WNOHANG), 0,
	    "a sibling was ended although the parent is not sshd");
	kill(-bystander, SIGKILL);
	waitpid(bystander, NULL, 0);
}

/* What BusyBox's ps lacks (no -p, or no -o at all): /proc is read instead. */
static void
ks_check_ps(const char *ps_target, const char *shell, const char *tag)
{
	char prefix[200], out[256], n1[32], n2[32];
	char *dir = ks_fake_ps(ps_target);
	pid_t group, stubborn;
	int status;

	snprintf(n1, sizeof(n1), "sleep 42.%s1", tag);
	snprintf(n2, sizeof(n2), "sleep 42.%s2", tag);
	cr_assert(prctl(PR_SET_NAME, "sshd") == 0);
	snprintf(prefix, sizeof(prefix), "PATH=%s:$PATH; export PATH; ", dir);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "%s & wait", n1);
		group = ks_spawn_session(cmd);
		snprintf(cmd, sizeof(cmd), "trap '' TERM; %s & wait", n2);
		stubborn = ks_spawn_session(cmd);
	}
	usleep(200 * 1000);
	status = ks_run_shell(prefix, shell, out, sizeof(out));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	cr_expect_str_eq(out, "k\n", "ps %s: the script did not say TERM went out",
	    ps_target ? ps_target : "(failing)");
	cr_expect(ks_wait_gone(group, 2), "ps %s: a sibling's group is still alive",
	    ps_target ? ps_target : "(failing)");
	cr_expect(ks_wait_gone(stubborn, 2), "ps %s: the group ignoring TERM is alive",
	    ps_target ? ps_target : "(failing)");
	kill(-group, SIGKILL);
	kill(-stubborn, SIGKILL);
	ks_fake_ps_free(dir);
}

Test(killscript, a_ps_that_fails_falls_back_to_proc)
{
	ks_check_ps(NULL, NULL, "1");
}

Test(killscript, busybox_ps_and_busybox_sh_end_the_siblings)
{
	cr_assert_eq(access("/bin/busybox", X_OK), 0,
	    "/bin/busybox missing (apt-get install busybox)");
	ks_check_ps("/bin/busybox", NULL, "2");
	ks_check_ps("/bin/busybox", "/bin/busybox sh", "3");
	ks_check_ps(NULL, "/bin/busybox sh", "4");
}

/*
 * Dropbear (or a wrapper that does not setsid) starts the command in the
 * sshd's own group: the script must signal the process and its children,
 * not a group that does not exist (nor the sshd's), and still KILL what
 * ignores TERM.
 */
Test(killscript, a_command_without_its_own_group_is_killed_with_its_children)
{
	pid_t plain, stubborn;
	char out[256];
	int status;

	cr_assert(prctl(PR_SET_NAME, "sshd") == 0);
	plain = ks_spawn_plain("sleep 43.11 & sleep 43.12; wait");
	stubborn = ks_spawn_plain("trap '' TERM; sleep 43.13");
	usleep(200 * 1000);
	cr_assert(!ks_none_left("^sleep 43.11") && !ks_none_left("^sleep 43.13"));
	status = ks_run_script("", out, sizeof(out));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	cr_expect_str_eq(out, "k\n");
	cr_expect(ks_wait_none_left("^sleep 43.11", 2), "a child of the command was left");
	cr_expect(ks_wait_none_left("^sleep 43.12", 2), "a child of the command was left");
	cr_expect(ks_wait_none_left("trap '' TERM; sleep 43.13", 2),
	    "the command that ignores TERM was not killed");
	/* The test process (the "sshd") is still here: its group was spared. */
	kill(plain, SIGKILL);
	kill(stubborn, SIGKILL);
	system("pkill -KILL -f '^sleep 43.1[123]'");
}

/*
 * No ps that can list, and no /proc (a mount namespace with an empty
 * /proc): the script cannot know what runs and must say "e".
 */
Test(killscript, with_no_ps_and_no_proc_it_says_e)
{
	char inner[300], out[256];
	char *dir = ks_fake_ps(NULL);
	int status;

	cr_assert(prctl(PR_SET_NAME, "sshd") == 0);
	cr_assert_eq(geteuid(), 0, "this test hides /proc in a mount namespace (root)");
	/* unshare execs in place: the script stays a child of this "sshd". */
	snprintf(inner, sizeof(inner), "mount -t tmpfs none /proc && "
	    "PATH=%s:$PATH && export PATH && exec /bin/sh -c \"$0\"", dir);
	{
		const char *av[] = { "unshare", "-m", "--propagation", "private",
		    "/bin/sh", "-c", inner, dx_kill_script(), NULL };

		status = ks_run_argv(av, out, sizeof(out));
	}
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	cr_expect_str_eq(out, "e\n", "with nothing to list processes by");
	ks_fake_ps_free(dir);
}
