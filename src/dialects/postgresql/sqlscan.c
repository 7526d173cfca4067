/* src/dialects/postgresql/sqlscan.c — does SQL text hold more than one statement? Is it a
 * plain SELECT?
 *
 * The extended query protocol (and so pipeline mode) takes one statement per Parse; text with
 * several statements must go through the simple protocol. This scanner answers the question
 * without parsing SQL: it skips what can hide a ';' and reports whether a ';' is followed by
 * anything but blanks, comments and more ';'.
 *
 * uvsql__pg_sql_is_plain_select says whether a statement may share a sync group with others
 * (exec.c, invariant 9): a SELECT that changes nothing, so that running it in one implicit
 * transaction with its neighbours, or once more after a neighbour failed, cannot be seen.
 * It is a conservative token scan: the text must start with SELECT, hold no INTO and no FOR
 * (row locks), and every '(' must follow punctuation, a keyword, or a function known to
 * change nothing (count, coalesce, lower, ...). Any other call (nextval, a user's function,
 * a schema-qualified or quoted name) makes the answer 0; so do now() and CURRENT_TIMESTAMP
 * and the rest of the transaction-time family, whose value would be the group's start.
 *
 * Invariants:
 *  1. Skipped as opaque: '...' (with '' doubling; E'...' also with backslash escapes),
 *     "..." identifiers, $tag$...$tag$ bodies, -- line comments, nested block comments.
 *  2. An unterminated quote or comment swallows the rest of the text (the server will report
 *     the syntax error; a single statement is the safe answer).
 *  3. Reads only s[0..len).
 */
#include <ctype.h>
#include <string.h>
#include "pg.h"

static int ident_char(char c) {
  return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* Skips a quoted run opened at s[i] by q; returns the index after its closing quote. */
static size_t skip_quoted(const char *s, size_t len, size_t i, char q, int backslash) {
  for (i++; i < len; i++) {
    if (backslash && s[i] == '\\') {
      i++;
      continue;
    }
    if (s[i] == q) {
      if (i + 1 < len && s[i + 1] == q) {
        i++;
        continue;
      }
      return i + 1;
    }
  }
  return len;
}

/* If s[i] opens a dollar quote, returns the index after its closing tag; otherwise 0. */
static size_t skip_dollar(const char *s, size_t len, size_t i) {
  size_t j = i + 1;
  if (i > 0 && ident_char(s[i - 1]))
    return 0; /* part of an identifier such as a$b */
  if (j < len && isdigit((unsigned char)s[j]))
    return 0; /* $1: a parameter */
  while (j < len && ident_char(s[j]))
    j++;
  if (j >= len || s[j] != '$')
    return 0;
  size_t taglen = j - i + 1; /* "$tag$" */
  for (size_t k = j + 1; k + taglen <= len; k++)
    if (s[k] == '$' && memcmp(s + k, s + i, taglen) == 0)
      return k + taglen;
  return len;
}

/* Past a -- line comment or a (nested) block comment starting at i; i when none starts
 * there. */
static size_t skip_comment(const char *s, size_t len, size_t i) {
  if (s[i] == '-' && i + 1 < len && s[i + 1] == '-') {
    while (i < len && s[i] != '\n')
      i++;
    return i;
  }
  if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
    int nest = 0;
    do {
      if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
        nest++;
        i += 2;
      } else if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
        nest--;
        i += 2;
      } else {
        i++;
      }
    } while (nest > 0 && i < len);
  }
  return i;
}

int uvsql__pg_sql_is_multi(const char *s, size_t len) {
  int after_semicolon = 0;
  size_t i = 0;
  while (i < len) {
    char c = s[i];
    size_t past = skip_comment(s, len, i);
    if (past != i) {
      i = past;
      continue;
    }
    if (isspace((unsigned char)c)) {
      i++;
      continue;
    }
    if (c == ';') {
      after_semicolon = 1;
      i++;
      continue;
    }
    if (after_semicolon)
      return 1;
    if (c == '\'') {
      int e = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && (i < 2 || !ident_char(s[i - 2]));
      i = skip_quoted(s, len, i, '\'', e);
    } else if (c == '"') {
      i = skip_quoted(s, len, i, '"', 0);
    } else if (c == '$') {
      size_t end = skip_dollar(s, len, i);
      i = end ? end : i + 1;
    } else {
      i++;
    }
  }
  return 0;
}

static char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static int word_is(const char *w, size_t n, const char *const *list) {
  for (; *list; list++) {
    size_t k = 0;
    if ((*list)[0] != ascii_lower(w[0]))
      continue;
    while (k < n && (*list)[k] && ascii_lower(w[k]) == (*list)[k])
      k++;
    if (k == n && !(*list)[k])
      return 1;
  }
  return 0;
}

static int ascii_word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80;
}

static int ascii_word_char(char c) {
  return ascii_word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static int ascii_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Words that make a SELECT no plain one: it writes a table (INTO), locks rows (FOR), or
 * reads the transaction's start time, which in a shared group is the group's. */
static const char *const deny_words[] = {
    "into",         "for",       "current_timestamp", "current_time",
    "current_date", "localtime", "localtimestamp",    NULL};

/* Words after which a '(' opens a subquery, a list or a row, not a call. */
static const char *const paren_keywords[] = {
    "select", "from",      "join",   "on",       "where",  "and",     "or",   "not",
    "in",     "exists",    "any",    "all",      "some",   "values",  "as",   "by",
    "using",  "lateral",   "over",   "filter",   "within", "then",    "else", "when",
    "case",   "array",     "row",    "distinct", "having", "between", "like", "ilike",
    "union",  "intersect", "except", "is",       "limit",  "offset",  "end",  NULL};

/* Functions (and type names with a modifier) that read and change nothing. */
static const char *const pure_functions[] = {"count",
                                             "sum",
                                             "min",
                                             "max",
                                             "avg",
                                             "coalesce",
                                             "nullif",
                                             "greatest",
                                             "least",
                                             "lower",
                                             "upper",
                                             "length",
                                             "char_length",
                                             "octet_length",
                                             "abs",
                                             "round",
                                             "trunc",
                                             "floor",
                                             "ceil",
                                             "ceiling",
                                             "mod",
                                             "power",
                                             "sqrt",
                                             "array_agg",
                                             "string_agg",
                                             "json_agg",
                                             "jsonb_agg",
                                             "json_build_object",
                                             "jsonb_build_object",
                                             "to_json",
                                             "to_jsonb",
                                             "row_to_json",
                                             "bool_and",
                                             "bool_or",
                                             "every",
                                             "cast",
                                             "extract",
                                             "date_part",
                                             "date_trunc",
                                             "concat",
                                             "concat_ws",
                                             "substr",
                                             "substring",
                                             "position",
                                             "trim",
                                             "btrim",
                                             "ltrim",
                                             "rtrim",
                                             "replace",
                                             "left",
                                             "right",
                                             "to_char",
                                             "row_number",
                                             "rank",
                                             "dense_rank",
                                             "lag",
                                             "lead",
                                             "first_value",
                                             "last_value",
                                             "ntile",
                                             "generate_series",
                                             "unnest",
                                             "array_length",
                                             "cardinality",
                                             "md5",
                                             "numeric",
                                             "decimal",
                                             "varchar",
                                             "char",
                                             "character",
                                             "timestamp",
                                             "timestamptz",
                                             "time",
                                             "interval",
                                             NULL};

int uvsql__pg_sql_is_plain_select(const char *s, size_t len) {
  size_t i = 0, word = 0, wlen = 0;
  int tokens = 0, prev_word = 0, prev_qualified = 0, prev_dot = 0;
  while (i < len) {
    char c = s[i];
    size_t past = skip_comment(s, len, i);
    if (past != i) {
      i = past;
      continue;
    }
    if (ascii_space(c)) {
      i++;
      continue;
    }
    if (ascii_word_start(c)) {
      size_t j = i;
      if ((c == 'E' || c == 'e') && i + 1 < len && s[i + 1] == '\'') {
        i = skip_quoted(s, len, i + 1, '\'', 1);
        prev_word = 0;
        prev_dot = 0;
        tokens++;
        continue;
      }
      while (j < len && ascii_word_char(s[j]))
        j++;
      if (tokens == 0 && !(j - i == 6 && word_is(s + i, 6, (const char *const[]){"select", NULL})))
        return 0;
      if (word_is(s + i, j - i, deny_words))
        return 0;
      word = i;
      wlen = j - i;
      prev_word = 1;
      prev_qualified = prev_dot;
      prev_dot = 0;
      tokens++;
      i = j;
      continue;
    }
    if (tokens == 0)
      return 0;
    tokens++;
    if (c == '(') {
      if (prev_word && (prev_qualified || (!word_is(s + word, wlen, paren_keywords) &&
                                           !word_is(s + word, wlen, pure_functions))))
        return 0;
    } else if (c == '"') {
      size_t j = skip_quoted(s, len, i, '"', 0);
      /* a quoted name: a call through it is not known to be harmless */
      for (i = j; i < len && ascii_space(s[i]); i++)
        ;
      if (i < len && s[i] == '(')
        return 0;
      prev_word = 0;
      prev_dot = 0;
      continue;
    } else if (c == '\'') {
      i = skip_quoted(s, len, i, '\'', 0);
      prev_word = 0;
      prev_dot = 0;
      continue;
    } else if (c == '$') {
      size_t end = skip_dollar(s, len, i);
      if (end) {
        i = end;
        prev_word = 0;
        prev_dot = 0;
        continue;
      }
    } else if (c == ';') {
      /* a trailing ';' is fine (is_multi said there is nothing after it) */
    }
    prev_word = 0;
    prev_dot = c == '.';
    i++;
  }
  return tokens > 0;
}
