/* src/loop/value.c — type names and the date/time helpers of uvsql/value.h.
 *
 * Representation (value.h): DATE is days since 1970-01-01; TIME is microseconds since
 * midnight; TIMESTAMP and TIMESTAMPTZ are microseconds since 1970-01-01 00:00:00 (UTC for
 * TIMESTAMPTZ). The calendar is the proleptic Gregorian one, computed with Howard Hinnant's
 * days_from_civil / civil_from_days (http://howardhinnant.github.io/date_algorithms.html),
 * which are exact for every day and need no tables.
 *
 * Text forms, as uvsql_format_temporal writes them:
 *   DATE         2024-05-01
 *   TIME         12:30:00            12:30:00.000123
 *   TIMESTAMP    2024-05-01 12:30:00 2024-05-01 12:30:00.500000
 *   TIMESTAMPTZ  2024-05-01 12:30:00+00   (always in UTC)
 * The fraction is written only when it is not zero, and then always with six digits, so that
 * the text of two values sorts like the values (PostgreSQL trims trailing zeros instead; both
 * read back the same). INT64_MAX and INT64_MIN of DATE/TIMESTAMP/TIMESTAMPTZ are PostgreSQL's
 * "infinity" and "-infinity" and are written so. Years outside 1..9999 are written with their
 * sign and at least four digits ("-0044-03-15"; astronomical numbering: 0000 is 1 BC), years
 * after 9999 with as many digits as they need ("10000-01-01"): no value makes the formatter
 * fail.
 *
 * Invariant (the supported range, stated in value.h): for every TIMESTAMP and TIMESTAMPTZ value
 * and every DATE within ±DAYS_LIMIT days, uvsql_parse_temporal reads what
 * uvsql_format_temporal wrote back as the same value; and every value the parser returns is in
 * that range (so parse -> format -> parse is the identity too: an offset that moves
 * "0001-01-01 00:00:00+05" into year 0 gives text the parser reads).
 *
 * uvsql_parse_temporal accepts the forms above and:
 *   - 'T' instead of ' ' between date and time;
 *   - 0 to 6 fractional digits ("12:30:00", "12:30:00.5");
 *   - for TIMESTAMPTZ, an offset "Z", "+HH", "+HHMM", "+HH:MM" or "+HH:MM:SS" (also '-'),
 *     converted to UTC; without an offset the text is taken as UTC;
 *   - "24:00:00" for TIME (PostgreSQL allows it: the end of the day);
 *   - "infinity" and "-infinity" for DATE/TIMESTAMP/TIMESTAMPTZ.
 *   - years as the formatter writes them: an optional '-' and 4 to 10 digits.
 * It refuses, with UVSQL_EDATA: values outside the supported range (a DATE beyond ±DAYS_LIMIT
 * days, a TIMESTAMP beyond int64 microseconds), months/days/hours/minutes/seconds out of
 * range (including 31 April and 29 February of a non-leap year), more than six fractional
 * digits, an offset on TIME or TIMESTAMP (a naive value with an offset is ambiguous), offsets
 * beyond ±15:59, and any text left over.
 */
#include <stdio.h>
#include <string.h>
#include "uvsql/error.h"
#include "uvsql/value.h"

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)
/* civil_from_days saturates here so that the year always fits an int (about ±1.9e9 years). */
#define DAYS_LIMIT INT64_C(700000000000)

const char *uvsql_type_name(uvsql_type_t type) {
  switch (type) {
  case UVSQL_TYPE_NULL:
    return "null";
  case UVSQL_TYPE_BOOL:
    return "bool";
  case UVSQL_TYPE_INT64:
    return "int64";
  case UVSQL_TYPE_DOUBLE:
    return "double";
  case UVSQL_TYPE_TEXT:
    return "text";
  case UVSQL_TYPE_BYTES:
    return "bytes";
  case UVSQL_TYPE_DATE:
    return "date";
  case UVSQL_TYPE_TIME:
    return "time";
  case UVSQL_TYPE_TIMESTAMP:
    return "timestamp";
  case UVSQL_TYPE_TIMESTAMPTZ:
    return "timestamptz";
  case UVSQL_TYPE_NUMERIC:
    return "numeric";
  case UVSQL_TYPE_UUID:
    return "uuid";
  case UVSQL_TYPE_JSON:
    return "json";
  case UVSQL_TYPE_ENUM:
    return "enum";
  case UVSQL_TYPE_INTERVAL:
    return "interval";
  case UVSQL_TYPE_ARRAY:
    return "array";
  }
  return "unknown";
}

/* ------------------------------------------------------------------ calendar */

/* Does not validate (uvsql_parse_temporal does): the day counts on from the first of the month,
 * so day 32 of January is 1 February; any int arguments are free of overflow. */
int64_t uvsql_days_from_civil(int year, int month, int day) {
  int64_t y = (int64_t)year - (month <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;                                                    /* [0, 399] */
  int64_t mo = month, doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + day - 1; /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                            /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

void uvsql_civil_from_days(int64_t days, int *year, int *month, int *day) {
  if (days > DAYS_LIMIT)
    days = DAYS_LIMIT;
  if (days < -DAYS_LIMIT)
    days = -DAYS_LIMIT;
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;                                      /* [0, 146096] */
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
  int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
  int d = (int)(doy - (153 * mp + 2) / 5 + 1);                         /* [1, 31] */
  int m = (int)(mp < 10 ? mp + 3 : mp - 9);                            /* [1, 12] */
  if (year)
    *year = (int)(yoe + era * 400 + (m <= 2));
  if (month)
    *month = m;
  if (day)
    *day = d;
}

static int is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
  static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ------------------------------------------------------------------ formatting */

static size_t put_date(char *p, int64_t days) {
  int y, m, d;
  uvsql_civil_from_days(days, &y, &m, &d);
  /* %05d for negative years keeps four digits after the sign: -0044. */
  return (size_t)sprintf(p, y < 0 ? "%05d-%02d-%02d" : "%04d-%02d-%02d", y, m, d);
}

/* us in [0, 86400e6]; 86400e6 only for TIME's 24:00:00. */
static size_t put_time(char *p, int64_t us) {
  int64_t secs = us / US_PER_SEC, frac = us % US_PER_SEC;
  int n = sprintf(p, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
  if (frac)
    n += sprintf(p + n, ".%06d", (int)frac);
  return (size_t)n;
}

size_t uvsql_format_temporal(uvsql_type_t type, int64_t v, char *buf, size_t size) {
  char tmp[64];
  size_t n = 0;
  int infinite = (v == INT64_MAX || v == INT64_MIN) && type != UVSQL_TYPE_TIME;

  if (infinite) {
    n = (size_t)sprintf(tmp, "%sinfinity", v < 0 ? "-" : "");
  } else if (type == UVSQL_TYPE_DATE) {
    n = put_date(tmp, v);
  } else if (type == UVSQL_TYPE_TIME) {
    /* A TIME outside [0, 24:00:00] is not a time of day; write it as a signed duration with
     * as many hours as it takes rather than fail. */
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v >= 0 && v <= US_PER_DAY) {
      n = put_time(tmp, v);
    } else {
      uint64_t secs = a / 1000000u, frac = a % 1000000u;
      n = (size_t)sprintf(tmp, "%s%02llu:%02d:%02d", v < 0 ? "-" : "",
                          (unsigned long long)(secs / 3600), (int)(secs / 60 % 60),
                          (int)(secs % 60));
      if (frac)
        n += (size_t)sprintf(tmp + n, ".%06d", (int)frac);
    }
  } else if (type == UVSQL_TYPE_TIMESTAMP || type == UVSQL_TYPE_TIMESTAMPTZ) {
    /* Floor division by hand: days * US_PER_DAY would overflow near INT64_MIN. */
    int64_t days = v / US_PER_DAY, tod = v % US_PER_DAY;
    if (tod < 0) {
      tod += US_PER_DAY;
      days--;
    }
    n = put_date(tmp, days);
    tmp[n++] = ' ';
    n += put_time(tmp + n, tod);
    if (type == UVSQL_TYPE_TIMESTAMPTZ)
      n += (size_t)sprintf(tmp + n, "+00");
  }
  tmp[n] = '\0';
  if (size > 0) {
    size_t c = n < size ? n : size - 1;
    memcpy(buf, tmp, c);
    buf[c] = '\0';
  }
  return n;
}

/* ------------------------------------------------------------------ parsing */

typedef struct {
  const char *s;
  size_t len, pos;
} scan_t;

static int peek(const scan_t *sc) {
  return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

static int scan_accept(scan_t *sc, char c) {
  if (peek(sc) != c)
    return 0;
  sc->pos++;
  return 1;
}

/* Exactly n digits; -1 if they are not there. */
static int digits(scan_t *sc, int n) {
  int v = 0;
  if (sc->len - sc->pos < (size_t)n) /* one bounds check, not one per digit */
    return -1;
  const unsigned char *p = (const unsigned char *)sc->s + sc->pos;
  for (int i = 0; i < n; i++) {
    unsigned d = (unsigned)p[i] - '0';
    if (d > 9)
      return -1;
    v = v * 10 + (int)d;
  }
  sc->pos += (size_t)n;
  return v;
}

/* A year as uvsql_format_temporal writes it: an optional '-', then 4 to 10 digits (more than
 * four only when they are needed, but a leading zero is not refused). */
static int parse_year(scan_t *sc, int *year) {
  int neg = scan_accept(sc, '-');
  int64_t y = 0;
  size_t n = 0;
  while (peek(sc) >= '0' && peek(sc) <= '9' && n < 11) {
    y = y * 10 + (peek(sc) - '0');
    sc->pos++;
    n++;
  }
  if (n < 4 || n > 10 || y > 2000000000)
    return UVSQL_EDATA;
  *year = (int)(neg ? -y : y);
  return 0;
}

static int parse_date(scan_t *sc, int64_t *days) {
  int y;
  if (parse_year(sc, &y) != 0 || !scan_accept(sc, '-'))
    return UVSQL_EDATA;
  int m = digits(sc, 2);
  if (m < 1 || m > 12 || !scan_accept(sc, '-'))
    return UVSQL_EDATA;
  int d = digits(sc, 2);
  if (d < 1 || d > days_in_month(y, m))
    return UVSQL_EDATA;
  *days = uvsql_days_from_civil(y, m, d);
  if (*days > DAYS_LIMIT || *days < -DAYS_LIMIT) /* the formatter would not write it back */
    return UVSQL_EDATA;
  return 0;
}

static int parse_time(scan_t *sc, int allow_24, int64_t *us) {
  int h = digits(sc, 2);
  if (h < 0 || h > 24 || !scan_accept(sc, ':'))
    return UVSQL_EDATA;
  int mi = digits(sc, 2);
  if (mi < 0 || mi > 59 || !scan_accept(sc, ':'))
    return UVSQL_EDATA;
  int se = digits(sc, 2);
  if (se < 0 || se > 59)
    return UVSQL_EDATA;
  int64_t frac = 0;
  if (scan_accept(sc, '.')) {
    int nd = 0;
    while (peek(sc) >= '0' && peek(sc) <= '9') {
      if (++nd > 6)
        return UVSQL_EDATA;
      frac = frac * 10 + (peek(sc) - '0');
      sc->pos++;
    }
    if (nd == 0)
      return UVSQL_EDATA;
    for (; nd < 6; nd++)
      frac *= 10;
  }
  if (h == 24 && (!allow_24 || mi != 0 || se != 0 || frac != 0))
    return UVSQL_EDATA;
  *us = ((int64_t)h * 3600 + mi * 60 + se) * US_PER_SEC + frac;
  return 0;
}

/* Z | (+|-)HH[[:]MM[:SS]]; *secs east of UTC. */
static int parse_offset(scan_t *sc, int64_t *secs) {
  if (scan_accept(sc, 'Z') || scan_accept(sc, 'z')) {
    *secs = 0;
    return 0;
  }
  int sign = scan_accept(sc, '+') ? 1 : scan_accept(sc, '-') ? -1 : 0;
  if (!sign)
    return UVSQL_EDATA;
  int h = digits(sc, 2), m = 0, s = 0;
  if (h < 0 || h > 15)
    return UVSQL_EDATA;
  if (peek(sc) >= 0) {
    int colon = scan_accept(sc, ':');
    if ((m = digits(sc, 2)) < 0 || m > 59)
      return UVSQL_EDATA;
    if (colon && scan_accept(sc, ':') && ((s = digits(sc, 2)) < 0 || s > 59))
      return UVSQL_EDATA;
  }
  *secs = sign * ((int64_t)h * 3600 + m * 60 + s);
  return 0;
}

static int match(const char *s, size_t len, const char *word) {
  return len == strlen(word) && memcmp(s, word, len) == 0;
}

int uvsql_parse_temporal(uvsql_type_t type, const char *s, size_t len, int64_t *out) {
  scan_t sc = {s, len, 0};
  int64_t days = 0, tod = 0, offset = 0, v = 0;
  int rc;

  if (!s || !out)
    return UVSQL_EDATA;
  if (type == UVSQL_TYPE_DATE || type == UVSQL_TYPE_TIMESTAMP || type == UVSQL_TYPE_TIMESTAMPTZ) {
    if (match(s, len, "infinity") || match(s, len, "-infinity")) {
      *out = s[0] == '-' ? INT64_MIN : INT64_MAX;
      return 0;
    }
  }
  switch (type) {
  case UVSQL_TYPE_DATE:
    rc = parse_date(&sc, &days);
    v = days;
    break;
  case UVSQL_TYPE_TIME:
    rc = parse_time(&sc, 1, &tod);
    v = tod;
    break;
  case UVSQL_TYPE_TIMESTAMP:
  case UVSQL_TYPE_TIMESTAMPTZ:
    rc = parse_date(&sc, &days);
    if (rc == 0 && !scan_accept(&sc, ' ') && !scan_accept(&sc, 'T'))
      rc = UVSQL_EDATA;
    if (rc == 0)
      rc = parse_time(&sc, 0, &tod);
    if (rc == 0 && type == UVSQL_TYPE_TIMESTAMPTZ && sc.pos < len)
      rc = parse_offset(&sc, &offset);
    /* Beyond int64 microseconds (about years -290308 and 294247) is out of range, and so are
     * exactly INT64_MIN and INT64_MAX, which are -infinity and infinity. */
    /* A negative day is counted as the next day minus the time left to it: the first day
     * of the range starts before INT64_MIN. */
    if (rc == 0 && days < 0) {
      days++;
      tod -= US_PER_DAY;
    }
    if (rc == 0 &&
        (__builtin_mul_overflow(days, US_PER_DAY, &v) || __builtin_add_overflow(v, tod, &v) ||
         __builtin_sub_overflow(v, offset * US_PER_SEC, &v) || v == INT64_MIN || v == INT64_MAX))
      rc = UVSQL_EDATA;
    break;
  default:
    return UVSQL_EDATA;
  }
  if (rc != 0 || sc.pos != len)
    return UVSQL_EDATA;
  *out = v;
  return 0;
}
