#!/usr/bin/env bash
# docs/tools/check.sh — keeps docs/*.md honest (run by ctest, label `docs`).
#
#   bash docs/tools/check.sh snippets
#       Every ```c block of docs/*.md must appear, line for line (leading and trailing blanks
#       ignored, blank lines skipped), in one of docs/examples/*.c, which the build compiles
#       with -Werror and ctest runs: a snippet in the docs is code that compiles and works.
#       (A block may also quote a public header, include/uvsql/*.h, verbatim.) Checked: the pages
#       that say so with the line <!-- snippets: docs/examples --> (tutorial, errors, backends).
#   bash docs/tools/check.sh errors ERRORS_TABLE_PROGRAM [--write]
#       The table between the errors-table markers of docs/errors.md must be what
#       docs/tools/errors_table.c prints (from the library's UVSQL_ERRNO_MAP); --write updates it.
set -euo pipefail
docs="$(cd "$(dirname "$0")/.." && pwd)"

snippets() {
  local failed=0 md sources
  sources=("$docs"/examples/*.c "$docs"/../include/uvsql/*.h)
  for md in "$docs"/*.md; do
    grep -q '^<!-- snippets: docs/examples -->' "$md" || continue
    # awk prints "LINE" for each block not found in any example.
    local missing
    missing="$(awk '
      function norm(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); gsub(/[ \t]+/, " ", s); return s }
      FNR == 1 { file++ }
      file <= nex {                       # the examples, joined into one string each
        l = norm($0); if (l != "") text[file] = text[file] "\n" l; next
      }
      /^[ \t]*```c[ \t]*$/ { inblk = 1; blk = ""; start = FNR; next }
      inblk && /^[ \t]*```[ \t]*$/ {
        inblk = 0; found = 0
        for (i = 1; i <= nex; i++) if (index(text[i] "\n", blk "\n")) { found = 1; break }
        if (!found) print start
        next
      }
      inblk { l = norm($0); if (l != "") blk = blk "\n" l }
    ' nex="${#sources[@]}" "${sources[@]}" "$md")"
    for line in $missing; do
      echo "$md:$line: this \`\`\`c block is not (line for line) in any docs/examples/*.c (nor a header)" >&2
      failed=1
    done
  done
  [ "$failed" = 0 ] || exit 1
  echo "check.sh: every C snippet of docs/*.md is in docs/examples/*.c"
}

errors() {
  local prog="$1" write="${2:-}" md="$docs/errors.md" want have
  want="$("$prog")"
  have="$(sed -n '/<!-- errors-table:begin/,/<!-- errors-table:end/p' "$md" | sed '1d;$d')"
  if [ "$want" = "$have" ]; then
    echo "check.sh: docs/errors.md has the table of include/uvsql/error.h"
    return 0
  fi
  if [ "$write" = --write ]; then
    local tmp
    tmp="$(mktemp)"
    awk -v table="$want" '
      /<!-- errors-table:begin/ { print; print table; skip = 1; next }
      /<!-- errors-table:end/ { skip = 0 }
      !skip { print }' "$md" >"$tmp"
    cat "$tmp" >"$md"
    rm -f "$tmp"
    echo "check.sh: docs/errors.md table rewritten"
    return 0
  fi
  echo "docs/errors.md: the error table differs from include/uvsql/error.h (- doc, + library):" >&2
  diff <(echo "$have") <(echo "$want") >&2 || true
  echo "update it with: bash docs/tools/check.sh errors $prog --write" >&2
  exit 1
}

case "${1:-}" in
snippets) snippets ;;
errors)
  shift
  errors "$@"
  ;;
*)
  sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
  exit 2
  ;;
esac
