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

void	dx_target_release(struct dx_target *);

#endif
