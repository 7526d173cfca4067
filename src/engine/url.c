/* src/engine/url.c — database URLs: parse, look up query options, render with the password masked.
 *
 * Grammar (RFC 3986 in spirit, with the leniencies users of SQLAlchemy and libpq expect):
 *
 *   scheme "://" [ user [ ":" password ] "@" ] hostport { "," hostport }
 *                [ "/" database ] [ "?" key [ "=" value ] { "&" key [ "=" value ] } ]
 *
 *   hostport = [ host | "[" ipv6 "]" ] [ ":" port ]
 *
 *   sqlite://                 in-memory database (database NULL)
 *   sqlite:///:memory:        the same
 *   sqlite:///app.db          "app.db", relative to the working directory
 *   sqlite:////abs/app.db     "/abs/app.db"
 *
 * Rules, in the order the parser applies them:
 *  1. The scheme is everything before "://", compared without regard to case. Which backend
 *     it means (postgres and postgresql: "postgresql"; mysql and mariadb: "mariadb") is
 *     written once, in backends.c.
 *  2. The authority runs from "://" to the first '/' or '?'. Inside it the LAST '@' ends the
 *     userinfo, so an unescaped '@' in a password works ("u:p@ss@host"). A '/', '?' or '%' in a
 *     password must be %-escaped (%2F, %3F, %25).
 *  3. In the userinfo the first ':' separates user from password. An empty user is NULL; an
 *     empty password after ':' is "" (present but empty).
 *  4. A host in brackets is IPv6 and stored without them. An unbracketed host with more than one
 *     ':' is refused with a hint to use brackets. The port is 1..65535; 0 means absent.
 *     Several hosts separated by ',' (libpq's multi-host form, h1:5432,h2:5433) go to
 *     url->hosts in order; url->host/port are the first. An empty entry ("h1,,h2", a trailing
 *     ',') is refused.
 *  5. %XX escapes are decoded in every part; '+' stays '+'. %00 is refused: the parts are
 *     C strings.
 *  6. Query options split on '&', then on the first '='. Empty segments ("a=1&&b=2", a trailing
 *     '&') are skipped; an empty key ("?=v") is an error; "?flag" gives the value "".
 *     Repeated keys are all kept; uvsql_url_query_get returns the last one (a later option
 *     overrides an earlier one).
 *
 * Invariant: the password, and the value of every secret query option
 * (uvsql_url_option_is_secret: password=, sslpassword=, sslkey=, ...), never appear in an
 * error message or in uvsql_url_render's output. Error messages quote the URL through
 * mask_url(), which replaces them with "***" before anything else looks at the text.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uvsql/engine.h"
#include "loop/internal.h"
#include "stmt_api.h"

#define SUPPORTED_SCHEMES "postgresql://, postgres://, mariadb://, mysql://, sqlite://"
#define QUOTE_MAX         200 /* longest URL quoted in a message; longer ones end in "..." */

/* ------------------------------------------------------------------ small helpers */

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static char *dupn(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

int uvsql_url_option_is_secret(const char *key) {
  static const char *const words[] = {"password",   "passwd", "pwd",       "secret",
                                      "passphrase", "token",  "credential"};
  char low[64];
  size_t n = 0;
  if (!key)
    return 0;
  for (; key[n] && n + 1 < sizeof low; n++)
    low[n] = (char)tolower((unsigned char)key[n]);
  low[n] = '\0';
  if (key[n]) /* a name this long is nobody's option: mask it rather than guess */
    return 1;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strstr(low, words[i]))
      return 1;
  return n >= 3 && strcmp(low + n - 3, "key") == 0;
}

/* Replaces, in the URL text s (NUL-terminated, in a buffer of size cap), the value of every
 * secret query option with "***". The query starts at the first '?' at or after from. */
static void mask_query(char *s, size_t cap, size_t from) {
  size_t len = strlen(s);
  if (from > len) /* s was cut at QUOTE_MAX before the offset the caller computed */
    from = len;
  char *q = strchr(s + from, '?');
  if (!q)
    return;
  for (char *seg = q + 1; *seg;) {
    size_t n = strcspn(seg, "&");
    char *eq = memchr(seg, '=', n);
    if (eq) {
      char key[64];
      size_t klen = (size_t)(eq - seg);
      snprintf(key, sizeof key, "%.*s", (int)(klen < 63 ? klen : 63), seg);
      size_t vlen = n - klen - 1;
      if (klen >= 63 || uvsql_url_option_is_secret(key)) {
        size_t tail = strlen(eq + 1 + vlen);
        if ((size_t)(eq + 4 - s) + tail < cap) {
          memmove(eq + 4, eq + 1 + vlen, tail + 1);
          memcpy(eq + 1, "***", 3);
          n = klen + 4;
        }
      }
    }
    seg += n;
    if (*seg == '&')
      seg++;
  }
}

/* Writes text into out (size QUOTE_MAX + 4) with the password of the userinfo replaced by
 * "***", following the same authority rules as the parser so that what is masked is exactly
 * what would have been the password. Without "://" there is no reliable userinfo: everything
 * before the last '@' is masked. */
static void mask_url(const char *text, char *out, size_t *lo, size_t *hi) {
  char tmp[QUOTE_MAX * 2 + 8];
  size_t n = 0, len = strlen(text);
  const char *sep = strstr(text, "://");
  const char *at = NULL;
  size_t keep = len; /* bytes of text copied verbatim before the masking point */
  const char *resume = NULL;

  if (sep) {
    /* The last '@' anywhere, not only in the authority: a password with an unescaped '/' or
     * '?' makes the parser see a shorter authority (and fail), and its message must still hide
     * the password. A '@' in a query value only makes the mask cover more than needed. */
    const char *auth = sep + 3;
    at = strrchr(auth, '@');
    if (at) {
      const char *colon = memchr(auth, ':', (size_t)(at - auth));
      if (colon) {
        keep = (size_t)(colon - text) + 1;
        resume = at;
      }
    }
  } else {
    at = strrchr(text, '@');
    if (at) {
      keep = 0;
      resume = at;
    }
  }
  for (size_t i = 0; i < keep && n < QUOTE_MAX; i++)
    tmp[n++] = text[i];
  if (resume) {
    if (n < QUOTE_MAX) {
      memcpy(tmp + n, "***", 3);
      n += 3;
    }
    for (const char *p = resume; *p && n < QUOTE_MAX; p++)
      tmp[n++] = *p;
  }
  *lo = *hi = 0;
  if (resume) {
    *lo = keep;
    *hi = (size_t)(resume - text);
  }
  tmp[n] = '\0';
  int cut = n >= QUOTE_MAX;
  mask_query(tmp, sizeof tmp, resume ? keep + 3 : (sep ? (size_t)(sep - text) + 3 : 0));
  n = strlen(tmp);
  if (n > QUOTE_MAX) { /* "***" is longer than a short value it hides */
    n = QUOTE_MAX;
    cut = 1;
  }
  if (cut)
    strcpy(tmp + n, "...");
  strcpy(out, tmp);
}

/* ------------------------------------------------------------------ the parser */

typedef struct {
  const char *text;          /* the whole URL, for messages */
  char shown[QUOTE_MAX + 8]; /* the URL as messages quote it: password masked */
  size_t mask_lo, mask_hi;   /* the bytes of text that mask_url hid */
  uvsql_error_t *err;
  uvsql_url_t *url;
} parser_t;

static int fail(parser_t *p, const char *fmt, ...) UVSQL__PRINTF(2, 3);

/* All parse errors go through here so that each message ends with the URL, password masked. */
static int fail(parser_t *p, const char *fmt, ...) {
  char what[UVSQL_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return uvsql__error_set(p->err, UVSQL_EURL, "%s (in database URL \"%s\")", what, p->shown);
}

/* Copies s[0..n), a piece of the URL, into dst for quoting, cut to 40 bytes with "..." after;
 * or "***" if any of it lies where mask_url found the password (a password with an unescaped
 * '/' makes the parser take part of it for a port, say). */
static const char *clip(const parser_t *p, char dst[48], const char *s, size_t n) {
  size_t lo = (size_t)(s - p->text), hi = lo + n;
  if (lo < p->mask_hi && hi > p->mask_lo)
    return strcpy(dst, "***");
  snprintf(dst, 48, "%.*s%s", (int)(n > 40 ? 40 : n), s, n > 40 ? "..." : "");
  return dst;
}

static int nomem(parser_t *p) {
  return uvsql__error_set(p->err, UVSQL_ENOMEM, "out of memory while parsing a database URL");
}

/* Decodes s[0..n) into a new string in *out. part names the component for messages; secret
 * says not to quote the offending escape (it belongs to the password). */
static int decode(parser_t *p, const char *s, size_t n, char **out, const char *part, int secret) {
  char *d = malloc(n + 1), *w = d;
  if (!d)
    return nomem(p);
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') {
      *w++ = s[i];
      continue;
    }
    int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
    int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      free(d);
      if (secret)
        return fail(p,
                    "bad %%-escape in the %s: '%%' must be followed by two hex digits other "
                    "than 00 (write %%25 for a literal '%%')",
                    part);
      char esc[48];
      clip(p, esc, s + i, n - i < 3 ? n - i : 3);
      return fail(p,
                  "bad %%-escape \"%s\" in the %s: '%%' must be followed by two hex digits "
                  "other than 00 (write %%25 for a literal '%%')",
                  esc, part);
    }
    *w++ = (char)(hi * 16 + lo);
    i += 2;
  }
  *w = '\0';
  *out = d;
  return 0;
}

static int parse_port(parser_t *p, const char *s, size_t n, int *out) {
  char shown[48];
  long v = 0;
  int ok = n > 0 && n <= 5;
  for (size_t i = 0; ok && i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      ok = 0;
    else
      v = v * 10 + (s[i] - '0');
  }
  if (!ok || v < 1 || v > 65535) {
    if (n == 0)
      return fail(p, "the port after ':' is empty: give a number from 1 to 65535");
    return fail(p, "port \"%s\" is not a number from 1 to 65535%s", clip(p, shown, s, n),
                strchr(s, '@') ? " (if the password holds '/', '?' or '#', write them as %2F, "
                                 "%3F, %23)"
                               : "");
  }
  *out = (int)v;
  return 0;
}

/* host[:port] or [ipv6][:port], s[0..n), into *hp. */
static int parse_hostport(parser_t *p, const char *s, size_t n, uvsql_url_host_t *hp) {
  const char *host = s, *port = NULL;
  size_t hlen = n, plen = 0;
  char shown[48];
  if (n > 0 && s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if (!close)
      return fail(p,
                  "unterminated '[' in the host \"%s\": an IPv6 address is written in "
                  "brackets, e.g. [::1]:5432",
                  clip(p, shown, s, n));
    host = s + 1;
    hlen = (size_t)(close - host);
    size_t rest = n - (size_t)(close + 1 - s);
    if (rest > 0) {
      if (close[1] != ':')
        return fail(p, "unexpected text \"%s\" after the IPv6 address: expected ':' and a port",
                    clip(p, shown, close + 1, rest));
      port = close + 2;
      plen = rest - 1;
    }
    if (hlen == 0)
      return fail(p, "the IPv6 address in brackets is empty");
  } else {
    const char *colon = memchr(s, ':', n);
    if (colon) {
      if (memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)))
        return fail(p,
                    "the host \"%s\" has more than one ':': write an IPv6 address in brackets, "
                    "e.g. postgresql://user@[::1]:5432/db",
                    clip(p, shown, s, n));
      hlen = (size_t)(colon - s);
      port = colon + 1;
      plen = n - hlen - 1;
    }
  }
  if (hlen > 0) {
    int rc = decode(p, host, hlen, &hp->host, "host", 0);
    if (rc)
      return rc;
  }
  if (port)
    return parse_port(p, port, plen, &hp->port);
  return 0;
}

/* The host list of the authority, s[0..n): hostport { "," hostport } (rule 4). */
static int parse_hosts(parser_t *p, const char *s, size_t n) {
  size_t count = 1;
  int in_brackets = 0;
  for (size_t i = 0; i < n; i++) {
    in_brackets = s[i] == '[' ? 1 : s[i] == ']' ? 0 : in_brackets;
    count += s[i] == ',' && !in_brackets;
  }
  if (count == 1 && n == 0)
    return 0;
  if (!(p->url->hosts = calloc(count, sizeof *p->url->hosts)))
    return nomem(p);
  const char *e = s + n;
  for (const char *h = s; p->url->nhosts < count; p->url->nhosts++) {
    const char *c = h;
    in_brackets = 0;
    while (c < e && (in_brackets || *c != ',')) {
      in_brackets = *c == '[' ? 1 : *c == ']' ? 0 : in_brackets;
      c++;
    }
    uvsql_url_host_t *hp = &p->url->hosts[p->url->nhosts];
    if (c == h && count > 1)
      return fail(p,
                  "host %zu of the host list is empty: write host1:port1,host2:port2 (no "
                  "empty entries, no trailing ',')",
                  p->url->nhosts + 1);
    int rc = parse_hostport(p, h, (size_t)(c - h), hp);
    if (rc) {
      p->url->nhosts++; /* so that uvsql_url_free frees what it holds */
      return rc;
    }
    if (count > 1 && !hp->host)
      return fail(p,
                  "host %zu of the host list has a port but no host: write "
                  "host1:port1,host2:port2",
                  p->url->nhosts + 1);
    h = c + 1;
  }
  if (p->url->hosts[0].host &&
      !(p->url->host = dupn(p->url->hosts[0].host, strlen(p->url->hosts[0].host))))
    return nomem(p);
  p->url->port = p->url->hosts[0].port;
  return 0;
}

static int parse_userinfo(parser_t *p, const char *s, size_t n) {
  const char *colon = memchr(s, ':', n);
  size_t ulen = colon ? (size_t)(colon - s) : n;
  int rc;
  if (ulen > 0 && (rc = decode(p, s, ulen, &p->url->user, "user name", 0)) != 0)
    return rc;
  if (colon && (rc = decode(p, colon + 1, n - ulen - 1, &p->url->password, "password", 1)) != 0)
    return rc;
  return 0;
}

static int parse_query(parser_t *p, const char *s) {
  size_t cap = 1;
  for (const char *c = s; *c; c++)
    cap += *c == '&';
  p->url->query = calloc(cap, sizeof *p->url->query);
  if (!p->url->query)
    return nomem(p);
  while (*s) {
    size_t seg = strcspn(s, "&");
    if (seg > 0) {
      const char *eq = memchr(s, '=', seg);
      size_t klen = eq ? (size_t)(eq - s) : seg;
      uvsql_url_query_t *q = &p->url->query[p->url->nquery];
      int rc;
      if (klen == 0) {
        char shown[48];
        return fail(p, "a query option has an empty name (\"%s\"): write ?name=value",
                    clip(p, shown, s, seg));
      }
      if ((rc = decode(p, s, klen, &q->key, "query option name", 0)) != 0)
        return rc;
      p->url->nquery++; /* counted now so that uvsql_url_free frees the key on failure */
      if (eq)
        rc = decode(p, eq + 1, seg - klen - 1, &q->value, "query option value",
                    uvsql_url_option_is_secret(q->key));
      else if (!(q->value = dupn("", 0)))
        rc = nomem(p);
      if (rc)
        return rc;
    }
    s += seg;
    if (*s == '&')
      s++;
  }
  return 0;
}

/* The part after "sqlite://": "" or "?..." (memory), or "/path[?...]". */
static int parse_sqlite(parser_t *p, const char *rest) {
  size_t plen = strcspn(rest, "?");
  int rc;
  if (plen > 0 && rest[0] != '/') {
    /* Quote only what follows the userinfo: it may hold a password. */
    size_t hlen = strcspn(rest, "/?");
    const char *host = rest;
    char shown[48];
    for (size_t i = 0; i < hlen; i++)
      if (rest[i] == '@')
        host = rest + i + 1;
    return fail(p,
                "a sqlite URL has no host, but \"%s\" is written where the host goes: use three "
                "slashes for a relative path (sqlite:///app.db), four for an absolute one "
                "(sqlite:////var/lib/app.db), or sqlite:// alone for an in-memory database",
                clip(p, shown, host, hlen - (size_t)(host - rest)));
  }
  if (plen > 1) {
    rc = decode(p, rest + 1, plen - 1, &p->url->database, "database path", 0);
    if (rc)
      return rc;
    if (strcmp(p->url->database, ":memory:") == 0) {
      free(p->url->database);
      p->url->database = NULL;
    }
  }
  if (rest[plen] == '?')
    return parse_query(p, rest + plen + 1);
  return 0;
}

static int parse(parser_t *p) {
  const char *text = p->text;
  /* A scheme is letters, digits, '+', '-' and '.'; a "://" further on (in a query value, say)
   * does not count. */
  size_t slen = strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
  const char *sep = text + slen;
  if (strncmp(sep, "://", 3) != 0)
    return fail(p, "missing \"://\" after the scheme: expected e.g. "
                   "postgresql://user:password@host:5432/database or sqlite:///app.db");
  if (slen == 0)
    return fail(p, "the scheme before \"://\" is missing (supported: %s)", SUPPORTED_SCHEMES);
  char scheme[16];
  const char *driver = NULL;
  if (slen < sizeof scheme) {
    for (size_t i = 0; i < slen; i++)
      scheme[i] = lower(text[i]);
    scheme[slen] = '\0';
    const uvsql__backend_t *b = uvsql__backend_find(scheme); /* backends.c: the aliases */
    if (b)
      driver = b->name;
  }
  if (!driver) {
    char shown[48];
    return fail(p, "unknown scheme \"%s\" (supported: %s)", clip(p, shown, text, slen),
                SUPPORTED_SCHEMES);
  }
  if (!(p->url->scheme = dupn(scheme, slen)) || !(p->url->driver = dupn(driver, strlen(driver))))
    return nomem(p);

  const char *rest = sep + 3;
  if (strcmp(driver, "sqlite") == 0)
    return parse_sqlite(p, rest);

  size_t alen = strcspn(rest, "/?");
  const char *at = NULL;
  for (size_t i = 0; i < alen; i++)
    if (rest[i] == '@')
      at = rest + i;
  int rc;
  if (at) {
    if ((rc = parse_userinfo(p, rest, (size_t)(at - rest))) != 0)
      return rc;
    const char *hp = at + 1;
    rc = parse_hosts(p, hp, alen - (size_t)(hp - rest));
  } else {
    rc = parse_hosts(p, rest, alen);
  }
  if (rc)
    return rc;
  rest += alen;
  if (*rest == '/') {
    rest++;
    size_t dlen = strcspn(rest, "?");
    if (dlen > 0 && (rc = decode(p, rest, dlen, &p->url->database, "database name", 0)) != 0)
      return rc;
    rest += dlen;
  }
  if (*rest == '?')
    return parse_query(p, rest + 1);
  return 0;
}

int uvsql_url_parse(uvsql_url_t **out, const char *text, uvsql_error_t *err) {
  if (!out)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "uvsql_url_parse: out is NULL");
  *out = NULL;
  if (!text || !*text)
    return uvsql__error_set(err, UVSQL_EURL,
                            "the database URL is %s: expected e.g. "
                            "postgresql://user:password@host:5432/database or sqlite:///app.db",
                            text ? "empty" : "NULL");
  parser_t p;
  p.text = text;
  p.err = err;
  mask_url(text, p.shown, &p.mask_lo, &p.mask_hi);
  p.url = calloc(1, sizeof *p.url);
  if (!p.url)
    return nomem(&p);
  int rc = parse(&p);
  if (rc) {
    uvsql_url_free(p.url);
    return rc;
  }
  *out = p.url;
  return 0;
}

void uvsql_url_free(uvsql_url_t *url) {
  if (!url)
    return;
  free(url->scheme);
  free(url->driver);
  free(url->user);
  if (url->password) {
    /* Wipe the secret; volatile so the compiler keeps the stores before free. */
    volatile char *v = url->password;
    while (*v)
      *v++ = '\0';
    free(url->password);
  }
  free(url->host);
  free(url->database);
  for (size_t i = 0; i < url->nquery; i++) {
    free(url->query[i].key);
    free(url->query[i].value);
  }
  free(url->query);
  for (size_t i = 0; i < url->nhosts; i++)
    free(url->hosts[i].host);
  free(url->hosts);
  free(url);
}

const char *uvsql_url_query_get(const uvsql_url_t *url, const char *key) {
  if (!url || !key)
    return NULL;
  for (size_t i = url->nquery; i-- > 0;)
    if (strcmp(url->query[i].key, key) == 0)
      return url->query[i].value;
  return NULL;
}

/* ------------------------------------------------------------------ rendering */

typedef struct {
  char *buf;
  size_t size;
  size_t len; /* what the full text needs, may exceed size */
} writer_t;

static void put(writer_t *w, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++, w->len++)
    if (w->len + 1 < w->size)
      w->buf[w->len] = s[i];
}

static void puts_(writer_t *w, const char *s) {
  put(w, s, strlen(s));
}

/* Writes s, %-escaping '%', controls, space, DEL, bytes >= 0x80 (so a rendered URL is plain
 * ASCII and safe in a log line) and the characters in `special` that would end the part. */
static void put_escaped(writer_t *w, const char *s, const char *special) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c <= 0x20 || *c >= 0x7f || *c == '%' || strchr(special, *c)) {
      char e[3] = {'%', hex[*c >> 4], hex[*c & 15]};
      put(w, e, 3);
    } else {
      put(w, (const char *)c, 1);
    }
  }
}

size_t uvsql_url_render(const uvsql_url_t *url, char *buf, size_t size) {
  writer_t w = {buf, size, 0};
  if (url) {
    puts_(&w, url->scheme ? url->scheme : "");
    puts_(&w, "://");
    if (url->user || url->password) {
      if (url->user)
        put_escaped(&w, url->user, ":@/?#[]");
      if (url->password)
        puts_(&w, ":***");
      puts_(&w, "@");
    }
    uvsql_url_host_t one = {url->host, url->port};
    const uvsql_url_host_t *hosts = url->nhosts > 0 ? url->hosts : &one;
    size_t nhosts = url->nhosts > 0 ? url->nhosts : 1;
    for (size_t i = 0; i < nhosts; i++) {
      if (i > 0)
        puts_(&w, ",");
      if (hosts[i].host) {
        int bracket = strchr(hosts[i].host, ':') != NULL;
        if (bracket)
          puts_(&w, "[");
        put_escaped(&w, hosts[i].host, bracket ? "@/?#[]," : "@/?#[]:,");
        if (bracket)
          puts_(&w, "]");
      }
      if (hosts[i].port > 0) {
        char port[16];
        snprintf(port, sizeof port, ":%d", hosts[i].port);
        puts_(&w, port);
      }
    }
    if (url->database) {
      puts_(&w, "/");
      put_escaped(&w, url->database, "?#");
    }
    for (size_t i = 0; i < url->nquery; i++) {
      puts_(&w, i == 0 ? "?" : "&");
      put_escaped(&w, url->query[i].key, "&=#");
      puts_(&w, "=");
      if (uvsql_url_option_is_secret(url->query[i].key))
        puts_(&w, "***");
      else
        put_escaped(&w, url->query[i].value, "&#");
    }
  }
  if (size > 0)
    buf[w.len < size ? w.len : size - 1] = '\0';
  return w.len;
}
