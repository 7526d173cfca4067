#!/usr/bin/env bash
# tests/abi/exports.sh — libuvsql.so exports the public API and nothing else.
#
#   bash tests/abi/exports.sh LIBUVSQL_SO INCLUDE_DIR
#
# Lists the shared library's exported symbols (nm -D --defined-only) and fails when
#   - any of them is internal (uvsql__*) or not uvsql's at all (cmake/uvsql.map lets only
#     uvsql_[!_]* through);
#   - a function declared in a public header (INCLUDE_DIR/uvsql.h, INCLUDE_DIR/uvsql/*.h) is not
#     exported (a declaration outside UVSQL__EXPORTS_BEGIN/END, or one with no definition);
#   - an exported function is declared in no public header (an internal function with a public
#     name, or a declaration the scan below cannot read: keep the return type and the name on
#     one line, as every header does);
#   - a sample of the API a program cannot do without is missing.
# Registered with ctest as abi.exports_are_the_public_api (label abi).
set -euo pipefail

so="$1"
inc="$2"
fail() {
  echo "abi test: FAILED: $*" >&2
  exit 1
}
[ -f "$so" ] || fail "no shared library at $so"
command -v nm >/dev/null || fail "nm (binutils) is not installed"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/uvsql-abi-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$so" | awk '{print $NF}' | sort -u >"$tmp/exported"
n_exported="$(wc -l <"$tmp/exported")"
echo "abi test: $so exports $n_exported symbols"

if grep -v '^uvsql_[^_]' "$tmp/exported" >"$tmp/bad"; then
  echo "abi test: exported symbols that are not public API (uvsql_<name>):" >&2
  sed 's/^/  /' "$tmp/bad" >&2
  fail "$(wc -l <"$tmp/bad") internal or foreign symbols exported (check cmake/uvsql.map)"
fi

# Functions the public headers declare: a line that starts a declaration (not a macro, typedef
# or static inline function) with `<return type> uvsql_<name>(`.
cat "$inc/uvsql.h" "$inc"/uvsql/*.h |
  grep -vE '^[[:space:]]*(#|typedef|static|/\*|\*)' |
  grep -oE '^[A-Za-z_][A-Za-z0-9_ *]*[ *]uvsql_[a-z0-9_]+\(' |
  grep -oE 'uvsql_[a-z0-9_]+\($' | tr -d '(' | sort -u >"$tmp/declared"
n_declared="$(wc -l <"$tmp/declared")"
echo "abi test: the public headers declare $n_declared functions"
# The scan must see the API, or the comparison below proves nothing.
[ "$n_declared" -ge 200 ] || fail "only $n_declared declarations found in $inc: the scan is broken"

if comm -23 "$tmp/declared" "$tmp/exported" | grep . >"$tmp/missing"; then
  echo "abi test: declared in a public header but not exported by $so:" >&2
  sed 's/^/  /' "$tmp/missing" >&2
  fail "$(wc -l <"$tmp/missing") public functions not exported (declared outside UVSQL__EXPORTS_BEGIN/END, or never defined)"
fi
if comm -13 "$tmp/declared" "$tmp/exported" | grep . >"$tmp/extra"; then
  echo "abi test: exported by $so but declared in no public header:" >&2
  sed 's/^/  /' "$tmp/extra" >&2
  fail "$(wc -l <"$tmp/extra") exported functions that are not public API (name them uvsql__*, or declare them in include/uvsql/)"
fi

for want in uvsql_engine_new uvsql_engine_dispose uvsql_engine_execute_sql uvsql_future_wait \
  uvsql_future_unref uvsql_result_int64 uvsql_session_new uvsql_session_close uvsql_select_columns \
  uvsql_version uvsql_version_string uvsql_strerror uvsql_orm_assert_loaded; do
  grep -qx "$want" "$tmp/exported" || fail "$want is not exported"
done
echo "abi test: ok ($n_exported exported = $n_declared declared, no uvsql__)"
