/* src/loop/uuid.c — UUIDs as text: uvsql_uuid_parse and uvsql_uuid_format (value.h).
 *
 * The 16 bytes are in the order of the canonical text (RFC 9562 §4): byte 0 is the first two
 * hex digits. Parsing accepts exactly two forms, in either case:
 *   canonical  8-4-4-4-12 hex digits with hyphens ("0e5f1a2b-...", 36 characters)
 *   compact    32 hex digits, no hyphens (what SQLAlchemy's Uuid keeps in CHAR(32))
 * Anything else (braces, "urn:uuid:", blanks, a hyphen elsewhere) is UVSQL_EDATA: accepting
 * one more form here would make two different texts read as one key. Formatting always writes
 * the canonical form in lower case, as PostgreSQL and MariaDB do.
 */
#include "internal.h"

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20; /* lower case; other bytes stay out of a..f */
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

int uvsql_uuid_parse(const char *text, size_t len, uvsql_uuid_t *out) {
  uvsql_uuid_t id;
  size_t i = 0;
  int hyphens;
  if (!text || !out || (len != 36 && len != 32))
    return UVSQL_EDATA;
  hyphens = len == 36;
  for (int k = 0; k < 16; k++) {
    if (hyphens && (k == 4 || k == 6 || k == 8 || k == 10)) {
      if (text[i] != '-')
        return UVSQL_EDATA;
      i++;
    }
    int hi = hexval((unsigned char)text[i]), lo = hexval((unsigned char)text[i + 1]);
    if (hi < 0 || lo < 0)
      return UVSQL_EDATA;
    id.b[k] = (unsigned char)(hi << 4 | lo);
    i += 2;
  }
  *out = id;
  return 0;
}

size_t uvsql_uuid_format(const uvsql_uuid_t *id, char buf[37]) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (int k = 0; k < 16; k++) {
    if (k == 4 || k == 6 || k == 8 || k == 10)
      buf[o++] = '-';
    buf[o++] = hex[id->b[k] >> 4];
    buf[o++] = hex[id->b[k] & 15];
  }
  buf[o] = '\0';
  return o;
}
