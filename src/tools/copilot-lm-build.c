/* copilot-lm-build: builds a trigram ARPA language model from plain text.
 *
 *   copilot-lm-build --dict cmudict-en-us.dict --output domain.lm phrases.txt
 *
 * Each non-empty line not starting with '#' is one sentence.  Text is
 * normalised (lowercase, punctuation stripped, digits spelled one by one,
 * short all-capital acronyms spelled letter by letter); words missing from
 * the pronunciation dictionary are dropped, and no n-gram spans the place
 * where one was dropped.
 *
 * Smoothing is interpolated Witten-Bell:
 *
 *   P(w|h) = (c(h,w) + T(h) P(w|h')) / (c(h) + T(h))
 *
 * with T(h) the number of distinct words seen after h and h' h without its
 * oldest word; unigrams are interpolated with the uniform distribution.
 * The model is written in backoff form: seen n-grams carry P(w|h), and the
 * backoff weight of h is (1 - sum P(w|h)) / (1 - sum P(w|h')) over the
 * words seen after h, so every conditional distribution sums to one. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#define BOS "<s>"
#define EOS "</s>"

typedef struct
{
  GHashTable *dict;             /* word → NULL (a set) */
  GHashTable *counts[3];        /* "w1 ... wn" → count (GUINT_TO_POINTER) */
  guint sentences;
  guint dropped_words;
  GHashTable *dropped;          /* word → NULL */
} Builder;

typedef struct
{
  guint64 total;                /* c(h): n-grams with this history */
  guint types;                  /* T(h): distinct words after it */
  double sum_p;                 /* sum of P(w|h) over seen words */
  double sum_lower;             /* sum of P(w|h') over the same words */
  double bow;
} History;

static const char *const digit_words[] = { "zero", "one", "two", "three",
  "four", "five", "six", "seven", "eight", "nine",
};

static gboolean
load_dict (Builder * b, const char *path, GError ** error)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, error)) {
    g_prefix_error (error, "Cannot read the dictionary: ");
    return FALSE;
  }
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    char *word = lines[i], *end = strpbrk (word, " \t");
    char *paren;

    if (end == NULL)
      continue;
    *end = '\0';
    /* Alternative pronunciations are spelled "word(2)". */
    paren = strchr (word, '(');
    if (paren && paren != word)
      *paren = '\0';
    g_hash_table_add (b->dict, g_ascii_strdown (word, -1));
  }
  if (g_hash_table_size (b->dict) == 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "%s contains no words", path);
    return FALSE;
  }
  return TRUE;
}

static void
count (Builder * b, GPtrArray * words, guint from, guint n)
{
  g_autoptr (GString) key = g_string_new (NULL);
  gpointer old;

  for (guint i = 0; i < n; i++) {
    if (i)
      g_string_append_c (key, ' ');
    g_string_append (key, g_ptr_array_index (words, from + i));
  }
  old = g_hash_table_lookup (b->counts[n - 1], key->str);
  g_hash_table_insert (b->counts[n - 1], g_strdup (key->str),
      GUINT_TO_POINTER (GPOINTER_TO_UINT (old) + 1));
}

/* Counts the n-grams of a run of known words.  <s> and </s> only open and
 * close whole sentences; <s> is never predicted. */
static void
count_fragment (Builder * b, GPtrArray * words)
{
  for (guint i = 0; i < words->len; i++) {
    for (guint n = 1; n <= 3 && n <= i + 1; n++) {
      if (g_str_equal (g_ptr_array_index (words, i), BOS))
        continue;
      count (b, words, i + 1 - n, n);
    }
  }
}

static gboolean
is_acronym (const char *token)
{
  gsize len = strlen (token);

  if (len < 2 || len > 5)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isupper (token[i]))
      return FALSE;
  /* Acronyms that are said as words. */
  return !g_str_equal (token, "PIN") && !g_str_equal (token, "PAN")
      && !g_str_equal (token, "OK");
}

/* Splits a line into normalised words, in @out (owned strings). */
static void
normalise (const char *line, GPtrArray * out)
{
  g_autoptr (GString) clean = g_string_new (NULL);
  g_auto (GStrv) tokens = NULL;

  /* Keep letters, digits and apostrophes; everything else separates. */
  for (const char *p = line; *p; p++) {
    char c = *p;

    if (g_ascii_isalnum (c) || c == '\'')
      g_string_append_c (clean, c);
    else if (c == '%')
      g_string_append (clean, " percent ");
    else if (c == '&')
      g_string_append (clean, " and ");
    else
      g_string_append_c (clean, ' ');
  }
  tokens = g_strsplit (clean->str, " ", -1);
  for (guint i = 0; tokens[i]; i++) {
    char *t = g_strstrip (tokens[i]);
    gsize len;

    /* Quotes around words are not apostrophes. */
    while (t[0] == '\'')
      t++;
    len = strlen (t);
    while (len > 0 && t[len - 1] == '\'')
      t[--len] = '\0';
    if (len == 0)
      continue;
    if (is_acronym (t)) {
      for (gsize j = 0; j < len; j++)
        g_ptr_array_add (out, g_strdup_printf ("%c", g_ascii_tolower (t[j])));
      continue;
    }
    /* Digits are read one by one, as account and card numbers are. */
    if (g_ascii_isdigit (t[0])) {
      for (gsize j = 0; j < len; j++) {
        if (g_ascii_isdigit (t[j]))
          g_ptr_array_add (out, g_strdup (digit_words[t[j] - '0']));
      }
      continue;
    }
    g_ptr_array_add (out, g_ascii_strdown (t, -1));
  }
}

static void
add_sentence (Builder * b, const char *line)
{
  g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) fragment = g_ptr_array_new ();

  normalise (line, words);
  if (words->len == 0)
    return;
  b->sentences++;
  g_ptr_array_add (fragment, (gpointer) BOS);
  for (guint i = 0; i < words->len; i++) {
    const char *w = g_ptr_array_index (words, i);

    if (g_hash_table_contains (b->dict, w)) {
      g_ptr_array_add (fragment, (gpointer) w);
      continue;
    }
    b->dropped_words++;
    g_hash_table_add (b->dropped, g_strdup (w));
    count_fragment (b, fragment);
    g_ptr_array_set_size (fragment, 0);
  }
  g_ptr_array_add (fragment, (gpointer) EOS);
  count_fragment (b, fragment);
}

/* "a b c" → history "a b" and word "c". */
static char *
split_last (const char *ngram, const char **word)
{
  const char *space = strrchr (ngram, ' ');

  *word = space + 1;
  return g_strndup (ngram, space - ngram);
}

/* Drops the oldest word: "a b" → "b". */
static const char *
shorten (const char *history)
{
  const char *space = strchr (history, ' ');

  return space ? space + 1 : NULL;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static GPtrArray *
sorted_keys (GHashTable * table)
{
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer k;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &k, NULL))
    g_ptr_array_add (keys, k);
  g_ptr_array_sort (keys, compare_strings);
  return keys;
}

typedef struct
{
  GHashTable *prob[3];          /* n-gram → double* P(w|h) */
  GHashTable *hist[2];          /* history of order n → History */
} Model;

static double *
new_double (double v)
{
  double *d = g_new (double, 1);

  *d = v;
  return d;
}

static double
lookup (GHashTable * table, const char *key)
{
  double *d = g_hash_table_lookup (table, key);

  return d ? *d : -1.0;
}

/* P(w|h) in backoff form, for h of 0 or 1 word. */
static double
backoff_prob (Model * m, const char *history, const char *word)
{
  g_autofree char *key = NULL;
  History *h;
  double p;

  if (history == NULL)
    return lookup (m->prob[0], word);
  key = g_strdup_printf ("%s %s", history, word);
  p = lookup (m->prob[1], key);
  if (p >= 0)
    return p;
  h = g_hash_table_lookup (m->hist[0], history);
  return (h ? h->bow : 1.0) * lookup (m->prob[0], word);
}

static void
collect_histories (Builder * b, Model * m, guint n)
{
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_iter_init (&iter, b->counts[n]);
  while (g_hash_table_iter_next (&iter, &k, &v)) {
    const char *word;
    g_autofree char *history = split_last (k, &word);
    History *h = g_hash_table_lookup (m->hist[n - 1], history);

    if (h == NULL) {
      h = g_new0 (History, 1);
      g_hash_table_insert (m->hist[n - 1], g_steal_pointer (&history), h);
    }
    h->total += GPOINTER_TO_UINT (v);
    h->types++;
  }
}

static void
estimate (Builder * b, Model * m)
{
  GHashTableIter iter;
  gpointer k, v;
  guint64 n_tokens = 0;
  guint n_types = g_hash_table_size (b->counts[0]);

  for (guint n = 0; n < 3; n++)
    m->prob[n] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        g_free);
  for (guint n = 0; n < 2; n++)
    m->hist[n] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        g_free);

  /* Unigrams, interpolated with the uniform distribution over the
   * vocabulary (every word seen, </s> included). */
  g_hash_table_iter_init (&iter, b->counts[0]);
  while (g_hash_table_iter_next (&iter, &k, &v))
    n_tokens += GPOINTER_TO_UINT (v);
  g_hash_table_iter_init (&iter, b->counts[0]);
  while (g_hash_table_iter_next (&iter, &k, &v)) {
    double p = (GPOINTER_TO_UINT (v) + (double) n_types / n_types)
        / (n_tokens + n_types);

    g_hash_table_insert (m->prob[0], g_strdup (k), new_double (p));
  }

  for (guint n = 1; n < 3; n++) {
    collect_histories (b, m, n);
    g_hash_table_iter_init (&iter, b->counts[n]);
    while (g_hash_table_iter_next (&iter, &k, &v)) {
      const char *word;
      g_autofree char *history = split_last (k, &word);
      History *h = g_hash_table_lookup (m->hist[n - 1], history);
      double lower = backoff_prob (m, shorten (history), word);
      double p = (GPOINTER_TO_UINT (v) + h->types * lower)
          / (h->total + h->types);

      h->sum_p += p;
      h->sum_lower += lower;
      g_hash_table_insert (m->prob[n], g_strdup (k), new_double (p));
    }
    g_hash_table_iter_init (&iter, m->hist[n - 1]);
    while (g_hash_table_iter_next (&iter, &k, &v)) {
      History *h = v;

      h->bow = (1.0 - h->sum_p) / MAX (1.0 - h->sum_lower, 1e-12);
    }
  }
}

/* log10 for the ARPA file: -99 (the format's "log of zero") for a zero
 * weight, e.g. the backoff weight of a history followed by every word of
 * the vocabulary, which never backs off. */
static double
arpa_log10 (double x)
{
  if (!(x > 0.0) || isnan (x))
    return -99.0;
  return MAX (log10 (x), -99.0);
}

static void
write_section (GString * out, Model * m, guint n)
{
  g_autoptr (GPtrArray) keys = sorted_keys (m->prob[n]);

  g_string_append_printf (out, "\\%u-grams:\n", n + 1);
  if (n == 0) {
    History *h = g_hash_table_lookup (m->hist[0], BOS);

    g_string_append_printf (out, "-99.0000 %s\t%.4f\n", BOS,
        h ? arpa_log10 (h->bow) : 0.0);
  }
  for (guint i = 0; i < keys->len; i++) {
    const char *key = g_ptr_array_index (keys, i);
    History *h = n < 2 ? g_hash_table_lookup (m->hist[n], key) : NULL;

    g_string_append_printf (out, "%.4f %s",
        arpa_log10 (lookup (m->prob[n], key)), key);
    if (h)
      g_string_append_printf (out, "\t%.4f", arpa_log10 (h->bow));
    g_string_append_c (out, '\n');
  }
  g_string_append_c (out, '\n');
}

static gboolean
write_arpa (Model * m, const char *path, GError ** error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  g_string_append (out, "# Trigram LM built by copilot-lm-build "
      "(interpolated Witten-Bell)\n\n\\data\\\n");
  /* <s> is listed among the unigrams without a probability of its own. */
  g_string_append_printf (out, "ngram 1=%u\n",
      g_hash_table_size (m->prob[0]) + 1);
  g_string_append_printf (out, "ngram 2=%u\n", g_hash_table_size (m->prob[1]));
  g_string_append_printf (out, "ngram 3=%u\n\n",
      g_hash_table_size (m->prob[2]));
  for (guint n = 0; n < 3; n++)
    write_section (out, m, n);
  g_string_append (out, "\\end\\\n");
  return g_file_set_contents (path, out->str, out->len, error);
}

int
main (int argc, char **argv)
{
  g_autofree char *dict_path = NULL;
  g_autofree char *output = NULL;
  gboolean verbose = FALSE;
  GOptionEntry entries[] = {
    {"dict", 'd', 0, G_OPTION_ARG_FILENAME, &dict_path,
          "Pronunciation dictionary (words missing from it are dropped)",
        "FILE"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "ARPA file to write", "FILE"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
        "List the dropped words", NULL},
    {NULL},
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("TEXT... - build a trigram ARPA language model");
  g_autoptr (GError) error = NULL;
  Builder b = { 0, };
  Model m = { 0, };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("copilot-lm-build: %s\n", error->message);
    return 2;
  }
  if (dict_path == NULL || output == NULL || argc < 2) {
    g_printerr ("copilot-lm-build: --dict, --output and a text file are "
        "required\n");
    return 2;
  }

  b.dict = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  b.dropped = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint n = 0; n < 3; n++)
    b.counts[n] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!load_dict (&b, dict_path, &error)) {
    g_printerr ("copilot-lm-build: %s\n", error->message);
    return 1;
  }
  for (int i = 1; i < argc; i++) {
    g_autofree char *text = NULL;
    g_auto (GStrv) lines = NULL;

    if (!g_file_get_contents (argv[i], &text, NULL, &error)) {
      g_printerr ("copilot-lm-build: %s\n", error->message);
      return 1;
    }
    lines = g_strsplit (text, "\n", -1);
    for (guint j = 0; lines[j]; j++) {
      const char *line = g_strstrip (lines[j]);

      if (line[0] != '\0' && line[0] != '#')
        add_sentence (&b, line);
    }
  }
  if (b.sentences == 0) {
    g_printerr ("copilot-lm-build: no sentences in the input\n");
    return 1;
  }

  estimate (&b, &m);
  if (!write_arpa (&m, output, &error)) {
    g_printerr ("copilot-lm-build: %s\n", error->message);
    return 1;
  }
  g_print ("copilot-lm-build: %u sentences, %u words, %u/%u/%u n-grams, "
      "%u words not in the dictionary dropped\n", b.sentences,
      g_hash_table_size (b.counts[0]), g_hash_table_size (m.prob[0]) + 1,
      g_hash_table_size (m.prob[1]), g_hash_table_size (m.prob[2]),
      b.dropped_words);
  if (verbose) {
    g_autoptr (GPtrArray) dropped = sorted_keys (b.dropped);

    for (guint i = 0; i < dropped->len; i++)
      g_print ("  dropped: %s\n", (char *) g_ptr_array_index (dropped, i));
  }

  for (guint n = 0; n < 3; n++) {
    g_hash_table_unref (b.counts[n]);
    g_hash_table_unref (m.prob[n]);
  }
  for (guint n = 0; n < 2; n++)
    g_hash_table_unref (m.hist[n]);
  g_hash_table_unref (b.dict);
  g_hash_table_unref (b.dropped);
  return 0;
}
