/*
 * target.h - a drone's effective connection settings, each with its source.
 *
 * A target is resolved once per drone, before any connection, from five
 * sources in rising precedence: built-in defaults < ssh_config (an empty
 * source until ssh_config is read) < the inventory's "defaults" < the
 * drone's own fields < command-line options.  The executor reads only the
 * target; nothing writes back into the inventory.  `dronex list` prints
 * the effective values, `dronex list --explain NAME` each value's origin.
 *
 * A target owns every string in it; dx_target_release() frees them and is
 * a no-op on a zeroed or released target.
 */
#ifndef DX_TARGET_H
#define DX_TARGET_H

#include "dronex.h"
#include "inventory.h"

/* Where a setting's value came from, lowest precedence first. */
enum dx_source {
	DX_SRC_DEFAULT = 0,	/* built in */
	DX_SRC_SSH_CONFIG,	/* ssh_config */
	DX_SRC_INV_DEFAULTS,	/* the inventory's "defaults" */
	DX_SRC_DRONE,		/* the drone's own field */
	DX_SRC_CLI		/* a command-line option */
};

/* "default", "ssh_config", "inventory defaults", "drone", "command line". */
const char	*dx_source_name(enum dx_source);

/*
 * The settings a target holds, one table for the enum, the names that
 * `list --explain` prints, and the origin slots.
 */
#define DX_SETTING_MAP(X)					\
	X(HOST, "host")						\
	X(PORT, "port")						\
	X(USER, "user")						\
	X(IDENTITY, "identity")					\
	X(KNOWN_HOSTS, "known_hosts")				\
	X(GLOBAL_KNOWN_HOSTS, "global_known_hosts")		\
	X(HOST_KEY_CHECK, "host_key_check")			\
	X(CONNECT_TIMEOUT, "connect_timeout")			\
	X(KEEPALIVE, "keepalive")				\
	X(JUMP, "jump")

enum dx_setting {
#define DX_SETTING_ENUM(name, str) DX_SET_##name,
	DX_SETTING_MAP(DX_SETTING_ENUM)
#undef DX_SETTING_ENUM
	DX_SET_COUNT
};

/* The setting's name as `list --explain` and the results print it. */
const char	*dx_setting_name(enum dx_setting);

struct dx_origin {
	enum dx_source	 src;
	char		 where[160];	/* "drones.json:7:18", "--user", "" */
};

/* enum dx_hostkey_policy is public: dronex.h declares it. */

struct dx_target {
	char		*name;		/* the drone's name (the result key) */
	char		*host;		/* where to connect */
	int		 port;
	char		*user;
	char	       **identities;	/* expanded paths, tried in order */
	size_t		 nidentities;	/* 0: agent, then ~/.ssh/id_* */
	char	       **known_hosts;	/* the user's files, expanded */
	size_t		 nknown_hosts;
	char	       **global_known_hosts; /* the system's files */
	size_t		 nglobal_known_hosts;
	enum dx_hostkey_policy hostkey_policy;
	int64_t		 connect_timeout_ms;
	int		 keepalive_s;	/* 0 = off */
	char		*jump;		/* a drone name or user@host:port, or NULL */
	struct dx_origin from[DX_SET_COUNT];
};

/* "strict", "accept-new", "off" (as --host-key-check and the results spell it). */
const char	*dx_hostkey_policy_name(enum dx_hostkey_policy);

/*
 * ssh_config as a source of settings (sshconf.h, a later issue).  Until
 * it exists every caller passes NULL: the source is empty.
 */
struct dx_sshconf;

/*
 * The command line's settings, the highest source: what is not given
 * leaves the lower sources in force.  Origins name the dronex option
 * ("-l", "--port", "--identity", "--connect-timeout", "--host-key-check",
 * "--keepalive"); a C scheduler that sets these gets the same names.
 * Everything is borrowed for the call only.
 */
struct dx_target_cli {
	const char	*user;		/* -l; NULL: not given */
	int		 port;		/* --port; 0: not given */
	const char *const *identities;	/* --identity, expanded, in order */
	size_t		 nidentities;	/* 0: not given */
	int64_t		 connect_timeout_ms; /* --connect-timeout; 0: not given */
	bool		 hostkey_given;	/* --host-key-check */
	enum dx_hostkey_policy hostkey_policy;
	bool		 keepalive_given; /* --keepalive */
	int		 keepalive_s;
};

/*
 * Resolves drone d of inv into t: for each setting, the highest source
 * that gives it, from built-in defaults < sshconf (NULL: none) <
 * inv->defaults < d's own fields < cli (NULL: none), with its origin in
 * t->from[setting].  Built-in defaults: host the drone's name, port 22,
 * user the current user (home.h), no identity (the agent, then
 * ~/.ssh/id_*), known_hosts ~/.ssh/known_hosts and ~/.ssh/known_hosts2,
 * global /etc/ssh/ssh_known_hosts and ssh_known_hosts2, host-key check
 * strict, connect timeout 10 s, keepalive 15 s, no jump.  An inventory
 * value's origin is "FILE:LINE:COL" (just "FILE" for an ad-hoc drone, "-w").
 * Fills t (release it with dx_target_release()) and returns 0, or returns
 * -1 with err set (DX_USAGE: no user or home directory is known; OOM) and
 * t zeroed.  Reads inv and d only: nothing is written back.
 */
int	dx_target_resolve(struct dx_target *t, const struct dx_inventory *inv,
	    const struct dx_drone *d, const struct dx_sshconf *sshconf,
	    const struct dx_target_cli *cli, struct dx_err *err);
void	dx_target_release(struct dx_target *);

#endif
