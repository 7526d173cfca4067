/* examples/http_server/json.c — what the server needs of JSON, and no more: a growable output
 * buffer, string escaping for output (RFC 8259: ", \ and U+0000..U+001F escaped; other UTF-8
 * passes through), and a strict parser for the flat objects that request bodies are
 * ({"author_id": 3, "title": "..."}), which rejects anything it does not fully understand
 * with a message the client can act on. Invalid UTF-8 in a string is rejected too, so it
 * never reaches the database. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

static int buf_reserve(buf_t *b, size_t more) {
  if (b->oom)
    return -1;
  if (b->len + more + 1 <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1)
    cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) {
    b->oom = 1;
    return -1;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

void buf_add(buf_t *b, const char *s, size_t n) {
  if (buf_reserve(b, n))
    return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void buf_puts(buf_t *b, const char *s) {
  buf_add(b, s, strlen(s));
}

void buf_printf(buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || buf_reserve(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void buf_free(buf_t *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

void json_string(buf_t *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  buf_add(b, "\"", 1);
  size_t run = 0; /* characters since the last escape, copied in one go */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    buf_add(b, s + run, i - run);
    run = i + 1;
    char esc[6] = {'\\', 0};
    switch (c) {
    case '"':
      esc[1] = '"';
      break;
    case '\\':
      esc[1] = '\\';
      break;
    case '\n':
      esc[1] = 'n';
      break;
    case '\r':
      esc[1] = 'r';
      break;
    case '\t':
      esc[1] = 't';
      break;
    case '\b':
      esc[1] = 'b';
      break;
    case '\f':
      esc[1] = 'f';
      break;
    default:
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      buf_add(b, esc, 6);
      continue;
    }
    buf_add(b, esc, 2);
  }
  buf_add(b, s + run, n - run);
  buf_add(b, "\"", 1);
}

/* ------------------------------------------------------------------ parsing */

typedef struct {
  const char *p, *end;
  char *err;
  size_t errsize;
} parser_t;

static int fail(parser_t *ps, const char *msg) {
  snprintf(ps->err, ps->errsize, "%s", msg);
  return -1;
}

static void skip_ws(parser_t *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static void put_utf8(buf_t *b, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp, n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  } else {
    u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  }
  buf_add(b, u, n);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
  size_t n = p[0] < 0x80                    ? 1
             : p[0] >= 0xC2 && p[0] <= 0xDF ? 2
             : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
             : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4
                                            : 0;
  if (n == 0 || (size_t)(end - p) < n)
    return 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] > 0x9F) || /* overlong, surrogate */
      (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] > 0x8F))
    return 0;
  return n;
}

/* A string at ps->p (at its opening quote), decoded into out (may be NULL: skipped). */
static int parse_string(parser_t *ps, buf_t *out) {
  buf_t scratch = {0};
  buf_t *b = out ? out : &scratch;
  ps->p++;
  while (ps->p < ps->end && *ps->p != '"') {
    unsigned char c = (unsigned char)*ps->p;
    if (c < 0x20)
      return buf_free(&scratch), fail(ps, "control character in a string (escape it)");
    if (c != '\\') {
      size_t n = utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);
      if (n == 0)
        return buf_free(&scratch), fail(ps, "a string is not valid UTF-8");
      buf_add(b, ps->p, n);
      ps->p += n;
      continue;
    }
    if (ps->end - ps->p < 2)
      break;
    char e = ps->p[1];
    ps->p += 2;
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e && simple) {
      static const char to[] = "\"\\/\b\f\n\r\t";
      buf_add(b, &to[simple - "\"\\/bfnrt"], 1);
      continue;
    }
    unsigned cp, lo;
    if (e != 'u' || ps->end - ps->p < 4 || hex4(ps->p, &cp))
      return buf_free(&scratch), fail(ps, "bad escape in a string");
    ps->p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair */
      if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) ||
          lo < 0xDC00 || lo > 0xDFFF)
        return buf_free(&scratch), fail(ps, "unpaired surrogate in a string");
      ps->p += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
      return buf_free(&scratch), fail(ps, "\\u0000 or an unpaired surrogate in a string");
    }
    put_utf8(b, cp);
  }
  buf_free(&scratch);
  if (ps->p >= ps->end)
    return fail(ps, "unterminated string");
  ps->p++;
  if (out && !out->p) /* the empty string */
    buf_add(out, "", 0);
  return 0;
}

/* A number; *is_int and *i when it is an integer that fits in int64. */
static int parse_number(parser_t *ps, int *is_int, int64_t *i) {
  const char *start = ps->p;
  if (ps->p < ps->end && *ps->p == '-')
    ps->p++;
  const char *digits = ps->p;
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
    ps->p++;
  size_t nd = (size_t)(ps->p - digits);
  if (nd == 0 || (nd > 1 && *digits == '0'))
    return fail(ps, "bad number");
  *is_int = nd <= 18;
  if (ps->p < ps->end && *ps->p == '.') {
    *is_int = 0;
    ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
      return fail(ps, "bad number");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
      ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    *is_int = 0;
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
      ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
      return fail(ps, "bad number");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
      ps->p++;
  }
  if (*is_int)
    *i = strtoll(start, NULL, 10); /* at most 18 digits: always fits */
  return 0;
}

int json_parse_object(const char *s, size_t n, json_field_t *f, size_t nf, char *err,
                      size_t errsize) {
  parser_t ps = {s, s + n, err, errsize};
  char msg[160];
  skip_ws(&ps);
  if (ps.p >= ps.end || *ps.p != '{')
    return fail(&ps, "the body must be a JSON object");
  ps.p++;
  skip_ws(&ps);
  int first = 1;
  while (ps.p < ps.end && *ps.p != '}') {
    if (!first) {
      if (*ps.p != ',')
        return fail(&ps, "expected ',' or '}' in the object");
      ps.p++;
      skip_ws(&ps);
    }
    first = 0;
    buf_t key = {0};
    if (ps.p >= ps.end || *ps.p != '"')
      return fail(&ps, "expected a string key");
    if (parse_string(&ps, &key))
      return buf_free(&key), -1;
    json_field_t *field = NULL;
    for (size_t k = 0; k < nf && !key.oom; k++)
      if (strcmp(f[k].key, key.p) == 0)
        field = &f[k];
    buf_free(&key);
    skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p != ':')
      return fail(&ps, "expected ':' after a key");
    ps.p++;
    skip_ws(&ps);
    if (ps.p >= ps.end)
      return fail(&ps, "expected a value");
    if (*ps.p == '"') {
      buf_t val = {0};
      if (parse_string(&ps, field && field->kind == JSON_STR ? &val : NULL))
        return buf_free(&val), -1;
      if (field && field->kind != JSON_STR) {
        snprintf(msg, sizeof msg, "\"%s\" must be an integer", field->key);
        return fail(&ps, msg);
      }
      if (field) {
        if (val.oom)
          return buf_free(&val), fail(&ps, "out of memory");
        free(field->s);
        field->s = val.p;
        field->found = 1;
      }
    } else if (*ps.p == '-' || (*ps.p >= '0' && *ps.p <= '9')) {
      int is_int;
      int64_t i = 0;
      if (parse_number(&ps, &is_int, &i))
        return -1;
      if (field && (field->kind != JSON_INT || !is_int)) {
        snprintf(msg, sizeof msg, "\"%s\" must be %s", field->key,
                 field->kind == JSON_INT ? "an integer" : "a string");
        return fail(&ps, msg);
      }
      if (field)
        field->i = i, field->found = 1;
    } else {
      static const char *const lits[] = {"true", "false", "null"};
      size_t k = 0;
      while (k < 3 && !((size_t)(ps.end - ps.p) >= strlen(lits[k]) &&
                        memcmp(ps.p, lits[k], strlen(lits[k])) == 0))
        k++;
      if (k == 3)
        return fail(&ps, "values must be strings, numbers, true, false or null");
      if (field) {
        snprintf(msg, sizeof msg, "\"%s\" must be %s", field->key,
                 field->kind == JSON_INT ? "an integer" : "a string");
        return fail(&ps, msg);
      }
      ps.p += strlen(lits[k]);
    }
    skip_ws(&ps);
  }
  if (ps.p >= ps.end)
    return fail(&ps, "unterminated object");
  ps.p++;
  skip_ws(&ps);
  if (ps.p != ps.end)
    return fail(&ps, "unexpected text after the object");
  return 0;
}
