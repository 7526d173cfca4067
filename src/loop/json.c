/* src/loop/json.c — uvsql_json_validate (value.h): a strict RFC 8259 check of a JSON document
 * before it leaves the program, so that a broken document is refused with the byte where it
 * breaks instead of whatever each server says (or, on SQLite, stored as it is).
 *
 * What passes: one JSON value (object, array, string, number, true, false, null) with optional
 * blanks (space, tab, CR, LF) around it, and nothing else. Strings: UTF-8 checked strictly
 * (no overlong forms, no UTF-16 surrogates, nothing above U+10FFFF), no raw control character
 * (below U+0020), escapes only \" \\ \/ \b \f \n \r \t \uXXXX, and a \u escape of a surrogate
 * only as a high-low pair. Numbers: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. Nesting: at
 * most UVSQL_JSON_MAX_DEPTH arrays and objects inside one another (the recursion below is
 * bounded by it, so a hostile document cannot exhaust the stack).
 * Duplicate object keys pass (RFC 8259 allows them; PostgreSQL's jsonb keeps the last one).
 */
#include <stdio.h>
#include <string.h>
#include "internal.h"

typedef struct {
  const unsigned char *s, *p, *e;
  const char *what; /* the first problem, at p */
} jp_t;

static int fail(jp_t *j, const char *what) {
  if (!j->what)
    j->what = what;
  return -1;
}

static void ws(jp_t *j) {
  while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int hex4(jp_t *j, unsigned *out) {
  unsigned v = 0;
  if (j->e - j->p < 4)
    return fail(j, "a \\u escape needs four hex digits");
  for (int i = 0; i < 4; i++) {
    unsigned c = j->p[i], d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      d = (c | 0x20) - 'a' + 10;
    else
      return fail(j, "a \\u escape needs four hex digits");
    v = v << 4 | d;
  }
  j->p += 4;
  *out = v;
  return 0;
}

/* One UTF-8 sequence of two to four bytes starting at p (a byte >= 0x80). */
static int utf8(jp_t *j) {
  const unsigned char *p = j->p;
  unsigned c = p[0], n, cp, min;
  if (c >= 0xc2 && c <= 0xdf)
    n = 1, cp = c & 0x1f, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef)
    n = 2, cp = c & 0x0f, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 3, cp = c & 0x07, min = 0x10000;
  else
    return fail(j, "invalid UTF-8 (a byte that cannot start a character)");
  if ((size_t)(j->e - p) <= n)
    return fail(j, "invalid UTF-8 (a character cut short)");
  for (unsigned i = 1; i <= n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return fail(j, "invalid UTF-8 (a character cut short)");
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if (cp < min)
    return fail(j, "invalid UTF-8 (an overlong form)");
  if (cp >= 0xd800 && cp <= 0xdfff)
    return fail(j, "invalid UTF-8 (a UTF-16 surrogate)");
  if (cp > 0x10ffff)
    return fail(j, "invalid UTF-8 (beyond U+10FFFF)");
  j->p += n + 1;
  return 0;
}

static int string(jp_t *j) {
  j->p++; /* the opening quote */
  while (j->p < j->e) {
    unsigned c = *j->p;
    if (c == '"') {
      j->p++;
      return 0;
    }
    if (c < 0x20)
      return fail(j, "a control character in a string must be escaped (\\n, \\t, \\u00XX)");
    if (c >= 0x80) {
      if (utf8(j) != 0)
        return -1;
      continue;
    }
    if (c != '\\') {
      j->p++;
      continue;
    }
    if (j->e - j->p < 2)
      return fail(j, "a string is not closed");
    c = j->p[1];
    if (c == 'u') {
      unsigned u, lo;
      const unsigned char *at = j->p;
      j->p += 2;
      if (hex4(j, &u) != 0)
        return -1;
      if (u >= 0xdc00 && u <= 0xdfff) {
        j->p = at;
        return fail(j, "a \\u escape of a low surrogate without a high one before it");
      }
      if (u >= 0xd800 && u <= 0xdbff) {
        if (j->e - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u') {
          j->p = at;
          return fail(j, "a \\u escape of a high surrogate without a low one after it");
        }
        j->p += 2;
        if (hex4(j, &lo) != 0)
          return -1;
        if (lo < 0xdc00 || lo > 0xdfff) {
          j->p = at;
          return fail(j, "a \\u escape of a high surrogate without a low one after it");
        }
      }
      continue;
    }
    if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' &&
        c != 't')
      return fail(j, "an unknown escape (only \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    j->p += 2;
  }
  return fail(j, "a string is not closed");
}

static int digits(jp_t *j) {
  const unsigned char *b = j->p;
  while (j->p < j->e && *j->p >= '0' && *j->p <= '9')
    j->p++;
  return j->p > b;
}

static int number(jp_t *j) {
  if (*j->p == '-')
    j->p++;
  if (j->p < j->e && *j->p == '0') {
    j->p++;
    if (j->p < j->e && *j->p >= '0' && *j->p <= '9')
      return fail(j, "a number with a leading zero");
  } else if (!digits(j)) {
    return fail(j, "a number needs a digit here");
  }
  if (j->p < j->e && *j->p == '.') {
    j->p++;
    if (!digits(j))
      return fail(j, "a number needs a digit after the '.'");
  }
  if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->e && (*j->p == '+' || *j->p == '-'))
      j->p++;
    if (!digits(j))
      return fail(j, "a number needs a digit in its exponent");
  }
  return 0;
}

static int word(jp_t *j, const char *w, size_t n) {
  if ((size_t)(j->e - j->p) < n || memcmp(j->p, w, n) != 0)
    return fail(j, "expected a value (an object, array, string, number, true, false or null)");
  j->p += n;
  return 0;
}

static int value(jp_t *j, int depth) {
  ws(j);
  if (j->p >= j->e)
    return fail(j, "expected a value, found the end of the document");
  switch (*j->p) {
  case '{':
  case '[': {
    unsigned char close = *j->p == '{' ? '}' : ']';
    if (depth >= UVSQL_JSON_MAX_DEPTH)
      return fail(j, "nested deeper than UVSQL_JSON_MAX_DEPTH (512) arrays and objects");
    j->p++;
    ws(j);
    if (j->p < j->e && *j->p == close) {
      j->p++;
      return 0;
    }
    for (;;) {
      if (close == '}') {
        ws(j);
        if (j->p >= j->e || *j->p != '"')
          return fail(j, "expected a string key (in double quotes) in an object");
        if (string(j) != 0)
          return -1;
        ws(j);
        if (j->p >= j->e || *j->p != ':')
          return fail(j, "expected ':' after an object key");
        j->p++;
      }
      if (value(j, depth + 1) != 0)
        return -1;
      ws(j);
      if (j->p < j->e && *j->p == ',') {
        j->p++;
        continue;
      }
      if (j->p < j->e && *j->p == close) {
        j->p++;
        return 0;
      }
      return fail(j, close == '}' ? "expected ',' or '}' in an object"
                                  : "expected ',' or ']' in an array");
    }
  }
  case '"':
    return string(j);
  case 't':
    return word(j, "true", 4);
  case 'f':
    return word(j, "false", 5);
  case 'n':
    return word(j, "null", 4);
  default:
    if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
      return number(j);
    return fail(j, "expected a value (an object, array, string, number, true, false or null)");
  }
}

int uvsql_json_validate(const char *doc, size_t len, uvsql_error_t *err) {
  jp_t j = {(const unsigned char *)doc, (const unsigned char *)doc, NULL, NULL};
  if (!doc && len)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "a JSON value with a NULL pointer and length %zu", len);
  if (!doc)
    j.s = j.p = (const unsigned char *)"";
  j.e = j.s + len;
  if (value(&j, 0) == 0) {
    ws(&j);
    if (j.p == j.e)
      return 0;
    fail(&j, "text after the JSON value (a document holds one value)");
  }
  return uvsql__error_set(err, UVSQL_EDATA, "invalid JSON at byte %zu of %zu: %s",
                          (size_t)(j.p - j.s), len, j.what);
}
