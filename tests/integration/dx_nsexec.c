/*
 * dx_nsexec.c - runs a program in a private mount namespace (and, with
 * -n, a private network namespace), so that a test can show dronex its own
 * /etc/ssh/ssh_known_hosts, /etc/resolv.conf or /etc/hosts without touching
 * the machine's: only the program run here sees them; the suite's sshd and
 * everything else keep the real files.
 *
 *   dx_nsexec [-n] [-u] [-b SRC DST]... -- PROG ARG...
 *
 * -n  a new network namespace with loopback up (nothing else reachable)
 * -u  a UDP socket bound to 127.0.0.1:53 that is never read: a DNS server
 *     that hears every query and answers none (needs -n); the socket is
 *     kept open across the exec so it lives as long as PROG
 * -b  bind-mounts SRC over DST
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "dx_nsexec: %s: %s\n", what, strerror(errno));
	exit(126);
}

static void
lo_up(void)
{
	struct ifreq ifr;
	int fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		die("socket");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1)
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) == -1)
		die("SIOCSIFFLAGS lo");
	close(fd);
}

static void
silent_dns(void)
{
	struct sockaddr_in sa;
	int fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		die("socket");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(53);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		die("bind 127.0.0.1:53");
	/* Left open (no CLOEXEC) on purpose. */
}

int
main(int argc, char **argv)
{
	bool net = false, dns = false;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-n") == 0)
			net = true;
		else if (strcmp(argv[i], "-u") == 0)
			dns = true;
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: dx_nsexec [-n] [-u] [-b SRC DST]... -- PROG ARG...\n");
		return 2;
	}
	if (unshare(CLONE_NEWNS | (net ? CLONE_NEWNET : 0)) == -1)
		die("unshare");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		die("mount --make-rprivate /");
	for (int k = 1; k < i; k++)
		if (strcmp(argv[k], "-b") == 0 && k + 2 < i) {
			if (mount(argv[k + 1], argv[k + 2], NULL, MS_BIND, NULL) == -1)
				die(argv[k + 2]);
			k += 2;
		}
	if (net)
		lo_up();
	if (dns)
		silent_dns();
	execv(argv[i + 1], argv + i + 1);
	die(argv[i + 1]);
	return 126;
}
