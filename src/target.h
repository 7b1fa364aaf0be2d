/*
 * target.h - a drone's effective connection settings, each with its source.
 *
 * A target is resolved once per drone, before any connection, from five
 * sources in rising precedence: built-in defaults < ssh_config
 * (sshconf.h) < the inventory's "defaults" < the
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

/* Everything of targets is public: dronex.h declares it (the "Targets" block). */

#endif
