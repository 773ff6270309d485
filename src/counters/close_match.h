/* "Did you mean": the known names closest to a misspelt one, by edit
 * distance, for the error messages of unknown events of every kind. */
#ifndef VMM_CLOSE_MATCH_H
#define VMM_CLOSE_MATCH_H

#include <stddef.h>

/* Levenshtein distance, case-insensitive, capped at `cap` (returns cap when
 * it is at least cap): names are short, the cap keeps it cheap. */
size_t edit_distance(const char *a, const char *b, size_t cap);

/* Collects candidates one by one and keeps the CLOSE_MATCH_MAX best within
 * a distance of a third of the word's length (at least 2); a candidate
 * that contains the word, or is contained in it, counts as that limit. */
#define CLOSE_MATCH_MAX 5
struct close_match {
	const char *word;
	unsigned char hist[64]; /* the word's letters, for a cheap lower bound */
	size_t n;
	size_t dist[CLOSE_MATCH_MAX];
	char name[CLOSE_MATCH_MAX][64];
};

void close_match_init(struct close_match *m, const char *word);
void close_match_add(struct close_match *m, const char *candidate);
/* "cycles, cpu-cycles" (prefixed with `prefix` each), "" when none; returns buf. */
const char *close_match_str(const struct close_match *m, const char *prefix, char *buf, size_t len);
/* Every name in directory path (dot files aside) as a candidate; list, when
 * len > 0, gets them all comma separated. Nothing when it cannot be read. */
void close_match_add_dir(struct close_match *m, const char *path, char *list, size_t len);

#endif
