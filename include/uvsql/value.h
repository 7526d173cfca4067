/* uvsql/value.h — typed values: statement parameters and result cells.
 *
 * A uvsql_value_t is plain data. Text and bytes point at memory owned by someone else:
 * for parameters, the caller (borrowed only for the duration of the call that takes them:
 * the library copies what it keeps); for result cells, the result (valid until it is freed).
 *
 * Date/time as integers:
 *   DATE       days since 1970-01-01
 *   TIME       microseconds since midnight
 *   TIMESTAMP  microseconds since 1970-01-01 00:00:00 (no time zone)
 *   TIMESTAMPTZ microseconds since 1970-01-01 00:00:00 UTC
 *
 * The kinds real schemas use beyond those:
 *   NUMERIC    an exact decimal as text (u.s): "-123.4500", digits and at most one '.', never
 *              an exponent, never through a double ("NaN", "Infinity", "-Infinity" as
 *              PostgreSQL writes them); uvsql_numeric_t is its fixed-size C form
 *   UUID       16 bytes (u.uuid), in the order of the canonical text form
 *   JSON       a JSON document as UTF-8 text (u.s)
 *   ENUM       the label, as text (u.s)
 *   INTERVAL   months, days and microseconds (u.iv), each signed, as PostgreSQL keeps them
 *   ARRAY      a one-dimensional array (u.arr) of values of one scalar type; an element may be
 *              UVSQL_TYPE_NULL. The elements are owned like text: by the caller for a
 *              parameter, by the result for a cell.
 */
#ifndef UVSQL_VALUE_H
#define UVSQL_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h> /* strlen, used by uvsql_v_text and UVSQL_V_TEXT */

#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
UVSQL__EXPORTS_BEGIN

typedef enum {
  UVSQL_TYPE_NULL = 0,
  UVSQL_TYPE_BOOL,
  UVSQL_TYPE_INT64,
  UVSQL_TYPE_DOUBLE,
  UVSQL_TYPE_TEXT, /* UTF-8; also numeric, uuid, json and types the driver does not decode */
  UVSQL_TYPE_BYTES,
  UVSQL_TYPE_DATE,
  UVSQL_TYPE_TIME,
  UVSQL_TYPE_TIMESTAMP,
  UVSQL_TYPE_TIMESTAMPTZ,
  UVSQL_TYPE_NUMERIC,
  UVSQL_TYPE_UUID,
  UVSQL_TYPE_JSON,
  UVSQL_TYPE_ENUM,
  UVSQL_TYPE_INTERVAL,
  UVSQL_TYPE_ARRAY
} uvsql_type_t;

/* An exact decimal in fixed size: (-1)^negative * coefficient * 10^-scale, the coefficient
 * (coef_hi * 2^64 + coef_lo) below 10^38, so NUMERIC(38, s) fits whole. `special` is 0 or one
 * of the UVSQL_NUMERIC_* values below (then the other fields are 0). */
typedef struct uvsql_numeric_s {
  uint64_t coef_hi;
  uint64_t coef_lo;
  int32_t scale; /* digits after the point: 0 to 38 */
  uint8_t negative;
  uint8_t special;
} uvsql_numeric_t;
#define UVSQL_NUMERIC_NAN  1
#define UVSQL_NUMERIC_PINF 2
#define UVSQL_NUMERIC_NINF 3

typedef struct uvsql_uuid_s {
  unsigned char b[16];
} uvsql_uuid_t;

typedef struct uvsql_interval_s {
  int64_t us; /* microseconds */
  int32_t days;
  int32_t months;
} uvsql_interval_t;

/* An ENUM type: a name (PostgreSQL's CREATE TYPE name) and its labels in order. Static data
 * the user owns; it must outlive every metadata and mapper that uses it:
 *   static const char *const mood_labels[] = {"sad", "ok", "happy"};
 *   static const uvsql_enum_type_t mood = {"mood", mood_labels, 3}; */
typedef struct uvsql_enum_type_s {
  const char *name;
  const char *const *labels;
  size_t nlabels;
} uvsql_enum_type_t;

typedef struct uvsql_value_s {
  uvsql_type_t type;
  union {
    int b;       /* BOOL: 0 or 1 */
    int64_t i64; /* INT64, DATE (as days), TIME, TIMESTAMP, TIMESTAMPTZ */
    double f64;  /* DOUBLE */
    struct {
      const char *ptr; /* TEXT (not necessarily NUL-terminated), BYTES, NUMERIC, JSON, ENUM */
      size_t len;
    } s;
    unsigned char uuid[16]; /* UUID */
    uvsql_interval_t iv;    /* INTERVAL */
    struct {
      const struct uvsql_value_s *items; /* ARRAY: n values */
      uint32_t n;
      uint32_t elem; /* the uvsql_type_t of the elements (needed when n is 0) */
    } arr;
  } u;
} uvsql_value_t;

/* A named parameter: `name` matches :name in the statement (without the colon). */
typedef struct uvsql_param_s {
  const char *name;
  uvsql_value_t value;
} uvsql_param_t;

const char *uvsql_type_name(uvsql_type_t type); /* "int64", "text", ... */

/* Constructor functions, in C and C++: uvsql_v_int64(7), uvsql_p("id", uvsql_v_int64(7)). */
static inline uvsql_value_t uvsql__v(uvsql_type_t type) {
  uvsql_value_t v = {UVSQL_TYPE_NULL, {0}};
  v.type = type;
  return v;
}
static inline uvsql_value_t uvsql_v_null(void) {
  return uvsql__v(UVSQL_TYPE_NULL);
}
static inline uvsql_value_t uvsql_v_bool(int x) {
  uvsql_value_t v = uvsql__v(UVSQL_TYPE_BOOL);
  v.u.b = !!x;
  return v;
}
static inline uvsql_value_t uvsql_v_int64_of(uvsql_type_t type, int64_t x) { /* INT64, DATE... */
  uvsql_value_t v = uvsql__v(type);
  v.u.i64 = x;
  return v;
}
static inline uvsql_value_t uvsql_v_int64(int64_t x) {
  return uvsql_v_int64_of(UVSQL_TYPE_INT64, x);
}
static inline uvsql_value_t uvsql_v_double(double x) {
  uvsql_value_t v = uvsql__v(UVSQL_TYPE_DOUBLE);
  v.u.f64 = x;
  return v;
}
static inline uvsql_value_t uvsql_v_bytes_of(uvsql_type_t type, const void *p, size_t n) {
  uvsql_value_t v = uvsql__v(type);
  v.u.s.ptr = (const char *)p;
  v.u.s.len = n;
  return v;
}
static inline uvsql_value_t uvsql_v_textn(const char *p, size_t n) {
  return uvsql_v_bytes_of(UVSQL_TYPE_TEXT, p, n);
}
static inline uvsql_value_t uvsql_v_text(const char *p) {
  return uvsql_v_bytes_of(UVSQL_TYPE_TEXT, p, strlen(p));
}
static inline uvsql_value_t uvsql_v_bytes(const void *p, size_t n) {
  return uvsql_v_bytes_of(UVSQL_TYPE_BYTES, p, n);
}
static inline uvsql_value_t uvsql_v_numeric(const char *text) { /* "12.50" */
  return uvsql_v_bytes_of(UVSQL_TYPE_NUMERIC, text, strlen(text));
}
static inline uvsql_value_t uvsql_v_json(const char *doc) {
  return uvsql_v_bytes_of(UVSQL_TYPE_JSON, doc, strlen(doc));
}
static inline uvsql_value_t uvsql_v_enum(const char *label) {
  return uvsql_v_bytes_of(UVSQL_TYPE_ENUM, label, strlen(label));
}
static inline uvsql_value_t uvsql_v_uuid(const uvsql_uuid_t *id) {
  uvsql_value_t v = uvsql__v(UVSQL_TYPE_UUID);
  memcpy(v.u.uuid, id->b, 16);
  return v;
}
static inline uvsql_value_t uvsql_v_interval(int32_t months, int32_t days, int64_t us) {
  uvsql_value_t v = uvsql__v(UVSQL_TYPE_INTERVAL);
  v.u.iv.months = months;
  v.u.iv.days = days;
  v.u.iv.us = us;
  return v;
}
static inline uvsql_value_t uvsql_v_array(uvsql_type_t elem, const uvsql_value_t *items, size_t n) {
  uvsql_value_t v = uvsql__v(UVSQL_TYPE_ARRAY);
  v.u.arr.items = items;
  v.u.arr.n = (uint32_t)n;
  v.u.arr.elem = (uint32_t)elem;
  return v;
}
static inline uvsql_param_t uvsql_p(const char *name, uvsql_value_t value) {
  uvsql_param_t p = {name, value};
  return p;
}

/* The same as macros, usable in initialisers: uvsql_param_t p[] = { UVSQL_P_INT64("id", 7) }.
 * In C they are compound literals (as they always were); C++ has no compound literals, and
 * there they call the functions above. */
#ifndef __cplusplus
#define UVSQL_V_NULL()      ((uvsql_value_t){.type = UVSQL_TYPE_NULL})
#define UVSQL_V_BOOL(x)     ((uvsql_value_t){.type = UVSQL_TYPE_BOOL, .u.b = !!(x)})
#define UVSQL_V_INT64(x)    ((uvsql_value_t){.type = UVSQL_TYPE_INT64, .u.i64 = (x)})
#define UVSQL_V_DOUBLE(x)   ((uvsql_value_t){.type = UVSQL_TYPE_DOUBLE, .u.f64 = (x)})
#define UVSQL_V_TEXTN(p, n) ((uvsql_value_t){.type = UVSQL_TYPE_TEXT, .u.s = {(p), (n)}})
#define UVSQL_V_TEXT(p)     UVSQL_V_TEXTN((p), strlen(p))
#define UVSQL_V_BYTES(p, n)                                                                        \
  ((uvsql_value_t){.type = UVSQL_TYPE_BYTES, .u.s = {(const char *)(p), (n)}})
#define UVSQL_V_DATE(days)      ((uvsql_value_t){.type = UVSQL_TYPE_DATE, .u.i64 = (days)})
#define UVSQL_V_TIME(us)        ((uvsql_value_t){.type = UVSQL_TYPE_TIME, .u.i64 = (us)})
#define UVSQL_V_TIMESTAMP(us)   ((uvsql_value_t){.type = UVSQL_TYPE_TIMESTAMP, .u.i64 = (us)})
#define UVSQL_V_TIMESTAMPTZ(us) ((uvsql_value_t){.type = UVSQL_TYPE_TIMESTAMPTZ, .u.i64 = (us)})

#define UVSQL_P(name_, v) ((uvsql_param_t){.name = (name_), .value = v})
#else
#define UVSQL_V_NULL()          uvsql_v_null()
#define UVSQL_V_BOOL(x)         uvsql_v_bool(x)
#define UVSQL_V_INT64(x)        uvsql_v_int64(x)
#define UVSQL_V_DOUBLE(x)       uvsql_v_double(x)
#define UVSQL_V_TEXTN(p, n)     uvsql_v_textn((p), (n))
#define UVSQL_V_TEXT(p)         uvsql_v_text(p)
#define UVSQL_V_BYTES(p, n)     uvsql_v_bytes((p), (n))
#define UVSQL_V_DATE(days)      uvsql_v_int64_of(UVSQL_TYPE_DATE, (days))
#define UVSQL_V_TIME(us)        uvsql_v_int64_of(UVSQL_TYPE_TIME, (us))
#define UVSQL_V_TIMESTAMP(us)   uvsql_v_int64_of(UVSQL_TYPE_TIMESTAMP, (us))
#define UVSQL_V_TIMESTAMPTZ(us) uvsql_v_int64_of(UVSQL_TYPE_TIMESTAMPTZ, (us))
#define UVSQL_P(name_, v)       uvsql_p((name_), v)
#endif
#define UVSQL_P_NULL(n)               UVSQL_P(n, UVSQL_V_NULL())
#define UVSQL_P_BOOL(n, x)            UVSQL_P(n, UVSQL_V_BOOL(x))
#define UVSQL_P_INT64(n, x)           UVSQL_P(n, UVSQL_V_INT64(x))
#define UVSQL_P_DOUBLE(n, x)          UVSQL_P(n, UVSQL_V_DOUBLE(x))
#define UVSQL_P_TEXT(n, s)            UVSQL_P(n, UVSQL_V_TEXT(s))
#define UVSQL_P_TEXTN(n, s, l)        UVSQL_P(n, UVSQL_V_TEXTN(s, l))
#define UVSQL_P_BYTES(n, p, l)        UVSQL_P(n, UVSQL_V_BYTES(p, l))
#define UVSQL_P_DATE(n, d)            UVSQL_P(n, UVSQL_V_DATE(d))
#define UVSQL_P_TIME(n, t)            UVSQL_P(n, UVSQL_V_TIME(t))
#define UVSQL_P_TIMESTAMP(n, t)       UVSQL_P(n, UVSQL_V_TIMESTAMP(t))
#define UVSQL_P_TIMESTAMPTZ(n, t)     UVSQL_P(n, UVSQL_V_TIMESTAMPTZ(t))
#define UVSQL_P_NUMERIC(n, s)         UVSQL_P(n, uvsql_v_numeric(s))
#define UVSQL_P_JSON(n, s)            UVSQL_P(n, uvsql_v_json(s))
#define UVSQL_P_ENUM(n, s)            UVSQL_P(n, uvsql_v_enum(s))
#define UVSQL_P_UUID(n, id)           UVSQL_P(n, uvsql_v_uuid(id))
#define UVSQL_P_INTERVAL(n, m, d, us) UVSQL_P(n, uvsql_v_interval((m), (d), (us)))

/* A struct literal of type T from positional initialisers: UVSQL__COMPOUND(T){a, b} is the
 * compound literal (T){a, b} in C and the temporary T{a, b} in C++ (the public macros that
 * build structs use it). */
#ifndef __cplusplus
#define UVSQL__COMPOUND(T) (T)
#else
#define UVSQL__COMPOUND(T) T
#endif

/* Calendar helpers (proleptic Gregorian, UTC). */
int64_t uvsql_days_from_civil(int year, int month, int day);
void uvsql_civil_from_days(int64_t days, int *year, int *month, int *day);
/* Formats a DATE/TIME/TIMESTAMP/TIMESTAMPTZ value as ISO 8601 ("2024-05-01 12:00:00.000123",
 * TIMESTAMPTZ with "+00"). Returns the length written (buffer of 40 bytes is always enough).
 * Years before 1 are written with astronomical numbering and a sign ("0000-12-31" is in 1 BC,
 * "-0044-03-15" in 45 BC), years after 9999 with more digits ("10000-01-01").
 * The supported range, where uvsql_parse_temporal reads the text back as the same value: every
 * TIMESTAMP and TIMESTAMPTZ value (int64 microseconds: years -290308 to 294247, INT64_MIN and
 * INT64_MAX being -infinity and infinity), TIME from 00:00:00 to 24:00:00, and DATE values from
 * -700,000,000,000 to 700,000,000,000 days (about ±1.9 billion years; beyond, a DATE is
 * written as that end). Servers store less: PostgreSQL from 4713 BC, MariaDB 0000-9999. */
size_t uvsql_format_temporal(uvsql_type_t type, int64_t v, char *buf, size_t size);
/* Parses ISO 8601 text of the given type ("YYYY-MM-DD", "HH:MM:SS[.ffffff]",
 * "YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|+HH[:MM]]"; the year as uvsql_format_temporal writes it:
 * an optional '-' and at least four digits). Returns 0 or UVSQL_EDATA, which is also the
 * answer for a value outside the supported range above. */
int uvsql_parse_temporal(uvsql_type_t type, const char *s, size_t len, int64_t *out);

/* Exact decimals (src/loop/numeric.c). NUMERIC(p, s) with p <= 38 fits uvsql_numeric_t whole.
 *
 * uvsql_numeric_parse reads "[+-]digits[.digits][e[+-]digits]" (".5", "5." and "1.5E-3" too;
 * an exponent is applied exactly: "1e3" is 1000, scale 0) and "NaN", "[+-]Infinity", "[+-]inf"
 * (any case). Trailing zeros after the point are kept ("12.50" has scale 2). Returns 0, or
 * UVSQL_EDATA when the text is not such a number (blanks, empty, junk) or does not fit: more
 * than 38 significant digits (leading zeros do not count; trailing ones after the point do),
 * or more than 38 digits after the point. Nothing is ever rounded.
 * uvsql_numeric_format writes the canonical text ("-0.0010", "1000", "NaN", "Infinity",
 * "-Infinity": what PostgreSQL and MariaDB write, and what the parser reads back as the same
 * value) and returns its length, as snprintf (UVSQL_NUMERIC_TEXT_SIZE bytes always suffice).
 * uvsql_numeric_to_int64: only an integral value in int64's range ("5.00" is 5); a fraction,
 * a value out of range, NaN or ±Infinity is UVSQL_EDATA and *out is untouched.
 * uvsql_numeric_to_double ROUNDS (to the nearest double: 0.1 is 0.1000000000000000055...);
 * NaN and ±Infinity become the doubles of those names.
 * uvsql_numeric_rescale sets the scale exactly ("0.1" to scale 2 is "0.10"); UVSQL_EDATA when
 * digits would be lost ("0.125" to scale 2) or the coefficient would pass 38 digits.
 * uvsql_numeric_cmp orders by value (-1, 0, 1; 1.0 equals 1.00), NaN above every number
 * and equal to itself, as PostgreSQL orders them. */
#define UVSQL_NUMERIC_TEXT_SIZE 48
int uvsql_numeric_parse(const char *text, size_t len, uvsql_numeric_t *out);
size_t uvsql_numeric_format(const uvsql_numeric_t *num, char *buf, size_t size);
uvsql_numeric_t uvsql_numeric_from_int64(int64_t v);
int uvsql_numeric_to_int64(const uvsql_numeric_t *num, int64_t *out);
double uvsql_numeric_to_double(const uvsql_numeric_t *num);
int uvsql_numeric_rescale(uvsql_numeric_t *num, int scale);
int uvsql_numeric_cmp(const uvsql_numeric_t *a, const uvsql_numeric_t *b);

/* UUIDs (src/loop/uuid.c). uvsql_uuid_parse reads the canonical 8-4-4-4-12 form or 32 hex
 * digits without hyphens, in either case, into *out: 0, or UVSQL_EDATA for any other text
 * (*out untouched). uvsql_uuid_format writes the canonical form in lower case and a NUL into
 * buf (37 bytes) and returns 36. */
int uvsql_uuid_parse(const char *text, size_t len, uvsql_uuid_t *out);
size_t uvsql_uuid_format(const uvsql_uuid_t *id, char buf[37]);

/* JSON (src/loop/json.c): whether doc[0..len) is one strict RFC 8259 JSON document in valid
 * UTF-8, nested at most UVSQL_JSON_MAX_DEPTH deep. 0, or UVSQL_EDATA with err (may be NULL)
 * saying "invalid JSON at byte N of LEN: <what>". Every JSON parameter and ORM JSON field is
 * checked with it before it is sent. */
#define UVSQL_JSON_MAX_DEPTH 512
int uvsql_json_validate(const char *doc, size_t len, uvsql_error_t *err);

/* INTERVAL as ISO 8601 duration text (src/loop/interval.c), the form uvsql stores intervals in
 * on MariaDB and SQLite, which have no interval type. uvsql_format_interval writes
 *   "P" [Y "Y"] [M "M"] [D "D"] ["T" [H "H"] [MI "M"] [S["." F] "S"]]
 * where Y = months / 12 and M = months % 12 (both signed like months, truncated toward zero),
 * D = days, and H, MI, S.F the microseconds split into hours, minutes and seconds (each signed
 * like us; F 1 to 6 digits, trailing zeros dropped). Zero parts are left out, every part
 * carries its own sign, and the zero interval is "PT0S": {14, -3, -14706500000} is
 * "P1Y2M-3DT-4H-5M-6.5S". Returns the length written (64 bytes is always enough; with a
 * smaller size the text is cut and NUL-terminated, like snprintf). */
size_t uvsql_format_interval(const uvsql_interval_t *iv, char *buf, size_t size);
/* Parses an ISO 8601 duration: what uvsql_format_interval writes, and also an optional '-'
 * before the 'P' (negating every part), weeks ("P2W": 14 days), parts in any subset but in
 * the order Y M W D T H M S, a fraction (with '.' or ',') on the seconds only, and a '+' sign.
 * Returns 0, or UVSQL_EDATA for anything else (an empty "P", a 'T' with no part after it, a
 * part out of the int32 months/days or int64 microseconds range, text left over). */
int uvsql_parse_interval(const char *s, size_t len, uvsql_interval_t *out);

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
