/* docs/tools/errors_table.c — prints the error table of docs/errors.md from the library itself
 * (UVSQL_ERRNO_MAP through uvsql_err_name, uvsql_err_family, uvsql_strerror), so the page
 * cannot drift from include/uvsql/error.h: docs/tools/check.sh errors compares them (a ctest),
 * and `docs/tools/check.sh errors --write` rewrites the table.
 */
#include <stdio.h>
#include <uvsql.h>

static const int codes[] = {
#define XX(name, value, family, desc) UVSQL_E##name,
    UVSQL_ERRNO_MAP(XX)
#undef XX
};

int main(void) {
  printf("| code | value | family | description (uvsql_strerror) |\n");
  printf("|---|---|---|---|\n");
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    printf("| `%s` | %d | %s | %s |\n", uvsql_err_name(codes[i]), codes[i],
           uvsql_family_name(uvsql_err_family(codes[i])), uvsql_strerror(codes[i]));
  return 0;
}
