/* src/dialects/registry.c — the list of backends: one line per driver. */
#include <string.h>
#include "driver.h"

extern const uvsql__driver_t uvsql__mariadb_driver;
extern const uvsql__driver_t uvsql__postgresql_driver;
extern const uvsql__driver_t uvsql__sqlite_driver;

static const uvsql__driver_t *const drivers[] = {
    &uvsql__postgresql_driver,
    &uvsql__mariadb_driver,
    &uvsql__sqlite_driver,
};

const uvsql__driver_t *uvsql__driver_find(const char *name) {
  for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
    if (strcmp(drivers[i]->name, name) == 0)
      return drivers[i];
  return NULL;
}
