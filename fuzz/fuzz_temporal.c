/* fuzz/fuzz_temporal.c — libFuzzer target: the temporal round trip of value.h. The first byte
 * picks the type (DATE, TIME, TIMESTAMP, TIMESTAMPTZ), the rest is text: whatever parses must
 * format to text that parses back to the same value, and formatting a value the parser gave
 * must fit the documented 40 bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uvsql.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  static const uvsql_type_t types[] = {UVSQL_TYPE_DATE, UVSQL_TYPE_TIME, UVSQL_TYPE_TIMESTAMP,
                                       UVSQL_TYPE_TIMESTAMPTZ};
  if (size < 1)
    return 0;
  uvsql_type_t type = types[data[0] % 4];
  int64_t v, back;
  char buf[64];
  if (uvsql_parse_temporal(type, (const char *)data + 1, size - 1, &v) != 0)
    return 0;
  size_t len = uvsql_format_temporal(type, v, buf, 40);
  if (len >= 40) {
    fprintf(stderr, "formatting %lld needs %zu bytes\n", (long long)v, len);
    abort();
  }
  if (uvsql_parse_temporal(type, buf, len, &back) != 0 || back != v) {
    fprintf(stderr, "round trip: '%.*s' -> %lld -> '%s' -> %s %lld\n", (int)(size - 1),
            (const char *)data + 1, (long long)v, buf,
            uvsql_parse_temporal(type, buf, len, &back) ? "EDATA" : "", (long long)back);
    abort();
  }
  return 0;
}
