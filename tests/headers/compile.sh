#!/usr/bin/env bash
# tests/headers/compile.sh — every public header compiles on its own, as C11 and as C++17.
#
#   bash tests/headers/compile.sh INCLUDE_DIR CC CXX [EXTRA_CFLAGS...]
#
# For each of INCLUDE_DIR/uvsql.h and INCLUDE_DIR/uvsql/*.h, a translation unit that includes
# only that header (and defines one function, so that it is never empty) is compiled
#   - with CC  -std=c11   -pedantic -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes
#   - with CXX -std=c++17 -pedantic -Wall -Wextra -Werror
# EXTRA_CFLAGS are libuv's (pkg-config --cflags libuv). Strict C11 hides the POSIX types <uv.h>
# needs, so the C pass defines _POSIX_C_SOURCE=200809L, as a program on libuv must.
# Registered with ctest as headers.compile_alone_c11_and_cxx17 (label headers).
set -euo pipefail

inc="$1"
cc="$2"
cxx="$3"
shift 3
extra=("$@")

tmp="$(mktemp -d "${TMPDIR:-/tmp}/uvsql-headers-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

command -v "$cc" >/dev/null || {
  echo "headers test: FAILED: no C compiler $cc" >&2
  exit 1
}
command -v "$cxx" >/dev/null || {
  echo "headers test: FAILED: no C++ compiler $cxx (Debian: g++, or clang)" >&2
  exit 1
}

failed=0
checked=0
for h in "$inc/uvsql.h" "$inc"/uvsql/*.h; do
  rel="${h#"$inc"/}"
  printf '#include <%s>\nint uvsql_header_test(void);\nint uvsql_header_test(void) {\n  return 0;\n}\n' \
    "$rel" >"$tmp/unit.c"
  cp "$tmp/unit.c" "$tmp/unit.cc"
  if ! "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -pedantic -Wall -Wextra -Werror \
    -Wstrict-prototypes -Wmissing-prototypes -I"$inc" "${extra[@]}" -c "$tmp/unit.c" \
    -o "$tmp/unit.o" 2>"$tmp/err"; then
    echo "headers test: <$rel> does not compile alone as C11 ($cc):" >&2
    cat "$tmp/err" >&2
    failed=$((failed + 1))
  fi
  if ! "$cxx" -std=c++17 -pedantic -Wall -Wextra -Werror -I"$inc" "${extra[@]}" -c \
    "$tmp/unit.cc" -o "$tmp/unit.o" 2>"$tmp/err"; then
    echo "headers test: <$rel> does not compile alone as C++17 ($cxx):" >&2
    cat "$tmp/err" >&2
    failed=$((failed + 1))
  fi
  checked=$((checked + 1))
done
[ "$checked" -ge 8 ] || {
  echo "headers test: FAILED: only $checked headers found in $inc" >&2
  exit 1
}
if [ "$failed" != 0 ]; then
  echo "headers test: FAILED: $failed of $((2 * checked)) compilations" >&2
  exit 1
fi
echo "headers test: ok: $checked headers, each alone as C11 ($cc) and C++17 ($cxx)"
