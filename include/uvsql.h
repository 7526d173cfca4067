/* uvsql.h — umbrella header: everything a program using uvsql needs. */
#ifndef UVSQL_H
#define UVSQL_H

#include "uvsql/version.h"
#include "uvsql/error.h"
#include "uvsql/value.h"
#include "uvsql/future.h"
#include "uvsql/engine.h"
#include "uvsql/hooks.h"
#include "uvsql/listen_copy.h"
#include "uvsql/routing.h"
#include "uvsql/sql.h"
#include "uvsql/orm.h"

#endif
