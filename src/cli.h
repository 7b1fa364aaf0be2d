/*
 * cli.h - the dronex command line: options, printing and exit codes.
 * This is the only place allowed to print or exit; libdronex reports
 * everything as values.
 */
#ifndef DX_CLI_H
#define DX_CLI_H

/* Exit statuses (SPEC section 5). */
#define DX_EXIT_OK		0
#define DX_EXIT_FAILED		1
#define DX_EXIT_USAGE		2
#define DX_EXIT_OUTPUT		3	/* the results could not be written */
#define DX_EXIT_INTERRUPTED	130

/* Runs the command line; returns the process exit status. */
int	dx_cli_main(int argc, char **argv);

#endif
