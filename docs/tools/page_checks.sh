#!/usr/bin/env bash
# docs/tools/page_checks.sh — keeps docs/url-options.md and docs/libuv-server.md true to the
# code (run by ctest, label docs).
#
#   bash docs/tools/page_checks.sh url-options
#       Every URL option a backend's src/dialects/<backend>/options.c accepts (PostgreSQL: the
#       pg_options table, plus the refused client_encoding; MariaDB and SQLite: each
#       strcmp(key, "...") of parse_one, which must also be the list the unknown-option error
#       names) has a row "| `name` |" in that backend's section of docs/url-options.md, and
#       every such row names an option the code accepts (or, for PostgreSQL, refuses by name).
#   bash docs/tools/page_checks.sh server-snippets
#       Every ```c block of docs/libuv-server.md appears, line for line (leading and trailing
#       blanks ignored, blank lines skipped), in one file of examples/http_server/: the page
#       shows the example's code, not a paraphrase. A line that is only "..." or "/* ... */"
#       elides code: the parts around it must each appear.
# Exit 0 when all is well; 1 with one line per problem on stderr.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
failed=0
problem() {
  echo "page_checks: $*" >&2
  failed=1
}

# section_options HEADING_PREFIX — the option names in the first column of the tables of the
# section of docs/url-options.md whose "## " heading starts with HEADING_PREFIX.
section_options() {
  awk -v h="## $1" '
    /^## / { in_s = index($0, h) == 1; next }
    in_s && /^\| `[a-z_]+`/ { s = $0; sub(/^\| `/, "", s); sub(/`.*/, "", s); print s }
  ' "$root/docs/url-options.md" | sort -u
}

# compare BACKEND HEADING CODE_LIST — both directions
compare() {
  local backend="$1" heading="$2" code="$3" doc name
  doc="$(section_options "$heading")"
  [ -n "$code" ] || problem "$backend: no options found in the code (has options.c changed shape?)"
  for name in $code; do
    grep -qx "$name" <<<"$doc" ||
      problem "$backend: URL option \"$name\" is accepted by src/dialects/$backend/options.c but missing from docs/url-options.md (section \"## $heading\")"
  done
  for name in $doc; do
    grep -qx "$name" <<<"$code" ||
      problem "$backend: docs/url-options.md lists \"$name\", which src/dialects/$backend/options.c does not accept"
  done
}

# strcmp_keys FILE — the names parse_one compares key with
strcmp_keys() {
  grep -o 'strcmp(key, "[a-z_]*")' "$1" | sed 's/.*"\([a-z_]*\)".*/\1/' | sort -u
}

# accepted_list FILE MACRO — the names in the "accepted options" string macro
accepted_list() {
  awk -v m="#define $2" 'index($0, m) == 1 { on = 1 } on { print } on && !/\\$/ { exit }' "$1" |
    grep -o '"[^"]*"' | tr -d '"' | tr ',' '\n' | tr -d ' ' | grep -v '^$' | sort -u
}

url_options() {
  local pg="$root/src/dialects/postgresql/options.c" my="$root/src/dialects/mariadb/options.c"
  local sq="$root/src/dialects/sqlite/options.c" code
  # PostgreSQL: the table between "pg_options[] = {" and "NULL};", and client_encoding
  code="$( (awk '/pg_options\[\] = \{/ { on = 1 } on { print } on && /NULL\};/ { exit }' "$pg" |
    grep -o '"[a-z_]*"' | tr -d '"'
  grep -o 'strcmp(k, "[a-z_]*")' "$pg" | sed 's/.*"\([a-z_]*\)".*/\1/') | sort -u)"
  compare postgresql "PostgreSQL" "$code"
  local b file macro
  for b in mariadb sqlite; do
    file="$my" macro=UVSQL__MY_ACCEPTED
    [ "$b" = mariadb ] || file="$sq" macro=UVSQL__SQ_ACCEPTED
    code="$(strcmp_keys "$file")"
    [ "$code" = "$(accepted_list "$file" "$macro")" ] ||
      problem "$b: $macro (the list the unknown-option error gives) differs from what parse_one accepts: $(echo "$(accepted_list "$file" "$macro")") vs $(echo $code)"
    if [ "$b" = mariadb ]; then compare mariadb "MariaDB" "$code"; else compare sqlite "SQLite" "$code"; fi
  done
}

server_snippets() {
  local md="$root/docs/libuv-server.md" missing
  [ -f "$md" ] || {
    problem "docs/libuv-server.md is missing"
    return
  }
  missing="$(awk '
    function norm(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); gsub(/[ \t]+/, " ", s); return s }
    FNR == 1 { file++ }
    file < last { l = norm($0); if (l != "") text[file] = text[file] "\n" l; next }
    function check() {
      if (blk == "") return
      found = 0
      for (f = 1; f < last; f++) if (index(text[f] "\n", blk "\n")) found = 1
      if (!found) print start
      blk = ""
    }
    /^```c[ \t]*$/ { inblk = 1; blk = ""; start = FNR + 1; next }
    inblk && /^```[ \t]*$/ { inblk = 0; check(); next }
    # a line "..." or "/* ... */" elides code: the parts around it are checked one by one
    inblk { l = norm($0); if (l == "..." || l == "/* ... */") { check(); start = FNR + 1 } else if (l != "") blk = blk "\n" l }
  ' last=$(($(ls "$root"/examples/http_server/*.[ch] | wc -l) + 1)) \
    "$root"/examples/http_server/*.[ch] "$md")"
  local line
  for line in $missing; do
    problem "docs/libuv-server.md:$line: this code block is not in examples/http_server/*.[ch] (copy it from there, line for line)"
  done
}

case "${1:-}" in
url-options) url_options ;;
server-snippets) server_snippets ;;
*)
  echo "usage: $0 url-options|server-snippets" >&2
  exit 2
  ;;
esac
exit "$failed"
