#!/usr/bin/env bash
# docs/tools/count_lines.sh — lines of code, as docs/line-counts.md counts them: every line that
# is neither blank nor only a comment (C: /* ... */ and // comments, also comments spanning
# lines; Python: # comments). Code lines that end in a comment count.
#
#   bash docs/tools/count_lines.sh FILE...     prints "COUNT FILE" per file, then the total
set -euo pipefail
total=0
for f in "$@"; do
  case "$f" in
  *.py)
    n="$(grep -cvE '^[[:space:]]*(#.*)?$' "$f" || true)"
    ;;
  *)
    # Remove comments (not inside strings: the counted programs have no "/*" in a string),
    # then count the non-blank lines.
    n="$(perl -0777 -pe 's{/\*.*?\*/}{my $c = $&; $c =~ s/[^\n]//g; $c}gse; s{//[^\n]*}{}g' "$f" |
      grep -cvE '^[[:space:]]*$' || true)"
    ;;
  esac
  echo "$n $f"
  total=$((total + n))
done
echo "$total total"
