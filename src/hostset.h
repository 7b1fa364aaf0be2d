/*
 * hostset.h - drone sets as pdsh and ClusterShell write them.
 *
 *   web-[01-20,25],db-1      ranges keep zero padding: web-01 ... web-20, web-25
 *   rack[1-2]-n[1-3]         several brackets multiply: rack1-n1 ... rack2-n3
 *   web-*                    an element holding '*' or '?' is a glob,
 *                            matched with fnmatch(3); brackets in it are
 *                            still ranges, never glob classes
 *
 *   n[1-10/2]                a step, as ClusterShell writes it: n1 n3 ... n9
 *   n[8-10] n[008-010]       padding comes from the low bound: 8 9 10,
 *                            008 009 010
 *
 * Commas inside brackets belong to the brackets.  Blanks around elements
 * (and around the items of a bracket) are trimmed; blanks inside a name are
 * an error, and so is an empty element ("a,,b", "a,") or an empty spec.
 * Numbers have at most 18 digits.  A set expands to at most DX_HOSTSET_MAX
 * names (and 256 MiB of them); beyond that the parse fails before it
 * allocates anything.  Names keep the order of the spec; duplicates are
 * kept.  Parse errors name the 1-based column: "column 5: unclosed '['".
 *
 * The set owns names[] and every string in it; dx_hostset_release() frees
 * them and is a no-op on a released or failed set.
 */
#ifndef DX_HOSTSET_H
#define DX_HOSTSET_H

#include "dronex.h"

#define DX_HOSTSET_MAX	1000000

struct dx_hostset {
	char	       **names;		/* expanded names and glob patterns, owned */
	size_t		 n;
};

/* Parses spec into set (which it initialises).  0, or -1 with err set (DX_USAGE). */
int	dx_hostset_parse(struct dx_hostset *set, const char *spec, struct dx_err *);
/* True if name is one of the set's names or matches one of its globs. */
bool	dx_hostset_match(const struct dx_hostset *, const char *name);
/* True if element i is a glob pattern rather than a plain name. */
bool	dx_hostset_is_glob(const char *element);
void	dx_hostset_release(struct dx_hostset *);

/*
 * Folding, the other way round: names in, a short spec out, as
 * ClusterShell's nodeset -f and pdsh's dshbak -c write it.
 *
 *   web-01 web-02 web-03 web-05 db-1    ->  db-1,web-[01-03,05]
 *   n8 n9 n10                           ->  n[8-10]
 *   n08 n09 n10 n7                      ->  n[7,08-10]
 *   rack1-n1 rack1-n2 rack2-n1          ->  rack1-n[1-2],rack2-n1
 *   alpha beta                          ->  alpha,beta
 *
 * Names are split around their last run of digits; names that share the
 * text around it fold into one bracket, consecutive numbers with the same
 * zero padding into one range.  A name without digits, or holding one of
 * "[],*?" or a blank, is written as it is.  Groups come in natural order
 * (n2 before n10); duplicates appear once.  The result parses back with
 * dx_hostset_parse() to the same names (sorted, without duplicates).
 * Returns a string the caller frees, "" for no names, NULL when out of
 * memory.
 */
char	*dx_hostset_fold(const char *const *names, size_t n);
/*
 * As dx_hostset_fold(), but stops before the first comma-separated element
 * that would take the text past max bytes (max 0: no limit; the first
 * element is always kept), so a line stays short however many names there
 * are; *omitted (if not NULL) gets the number of names left out.
 */
char	*dx_hostset_fold_max(const char *const *names, size_t n, size_t max,
	    size_t *omitted);

#endif
