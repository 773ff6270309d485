/* Edit distance and the best few candidates for "did you mean". */
#include "counters/close_match.h"

#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WORD_MAX 128

size_t edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), row[WORD_MAX + 1];

	if (la > WORD_MAX || lb > WORD_MAX)
		return cap;
	if ((la > lb ? la - lb : lb - la) >= cap)
		return cap;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], best;

		row[0] = i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t sub = diag + (tolower((unsigned char)a[i - 1]) !=
					     tolower((unsigned char)b[j - 1]));
			size_t del = row[j] + 1, ins = row[j - 1] + 1;

			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			diag = up;
			best = row[j] < best ? row[j] : best;
		}
		if (best >= cap) /* every path is already too long */
			return cap;
	}
	return row[lb] < cap ? row[lb] : cap;
}

/* Letters by (lowercase & 63): two strings whose counts differ by D in
 * all need at least D / 2 edits (a substitution changes two counts), and
 * shared buckets only make D smaller, so the bound stays a lower one. */
static void letters(const char *s, unsigned char hist[64])
{
	memset(hist, 0, 64);
	for (; *s; s++)
		hist[tolower((unsigned char)*s) & 63]++;
}

static size_t letters_bound(const unsigned char a[64], const char *s)
{
	unsigned char b[64];
	size_t d = 0;

	letters(s, b);
	for (int i = 0; i < 64; i++)
		d += a[i] > b[i] ? (size_t)(a[i] - b[i]) : (size_t)(b[i] - a[i]);
	return (d + 1) / 2;
}

void close_match_init(struct close_match *m, const char *word)
{
	memset(m, 0, sizeof(*m));
	m->word = word;
	letters(word, m->hist);
}

static bool contains(const char *hay, const char *needle)
{
	return strlen(needle) >= 3 && strcasestr(hay, needle);
}

void close_match_add(struct close_match *m, const char *candidate)
{
	size_t len = strlen(m->word), limit = len / 3 < 2 ? 2 : len / 3, d, at, clen;

	if (!strcmp(candidate, m->word) || strlen(candidate) >= sizeof(m->name[0]))
		return;
	clen = strlen(candidate);
	if ((clen > len ? clen - len : len - clen) > limit)
		d = limit + 1; /* at least that many insertions: no need to look */
	else if (letters_bound(m->hist, candidate) > limit)
		d = limit + 1;
	else
		d = edit_distance(m->word, candidate, limit + 1);
	if (d > limit && (contains(candidate, m->word) || contains(m->word, candidate)))
		d = limit; /* a part of the other: close, but behind real typos */
	if (d > limit)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (!strcasecmp(m->name[i], candidate))
			return;
	/* Insert sorted by distance, stable: earlier candidates win ties. */
	for (at = m->n; at > 0 && m->dist[at - 1] > d; at--)
		;
	if (at == CLOSE_MATCH_MAX)
		return;
	if (m->n == CLOSE_MATCH_MAX)
		m->n--;
	memmove(&m->dist[at + 1], &m->dist[at], (m->n - at) * sizeof(m->dist[0]));
	memmove(&m->name[at + 1], &m->name[at], (m->n - at) * sizeof(m->name[0]));
	m->dist[at] = d;
	snprintf(m->name[at], sizeof(m->name[at]), "%s", candidate);
	m->n++;
}

const char *close_match_str(const struct close_match *m, const char *prefix, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < m->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s%s", i ? ", " : "", prefix,
					 m->name[i]);
	return buf;
}

void close_match_add_dir(struct close_match *m, const char *path, char *list, size_t len)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t used = 0;

	if (len)
		list[0] = '\0';
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		close_match_add(m, de->d_name);
		if (used < len)
			used += (size_t)snprintf(list + used, len - used, "%s%s", used ? ", " : "",
						 de->d_name);
	}
	closedir(d);
}
