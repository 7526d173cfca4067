# docs/tools/doxygen-filter.awk — Doxygen's INPUT_FILTER for uvsql's public headers.
#
# The headers are written for people reading them in an editor: plain /* */ comments in prose,
# with `@`, `<...>`, `#` and `\` used as ordinary characters. Doxygen reads only /** */ and
# gives those characters meanings. Rather than write the headers for Doxygen, this filter turns
# them into Doxygen input on the fly (the files themselves are untouched; line numbers are kept):
#   - the comment that opens a file becomes the file's documentation (@file);
#   - a comment that starts a line documents the declaration after it (/**);
#   - a comment after code on the same line documents that code (/**<);
#   - section rulers (/* ------- name */) stay plain comments;
#   - inside a converted comment, outside `code spans`, \ @ < > & # % are escaped, so they read
#     as written and never as Doxygen commands or HTML;
#   - an indented line of a comment (a table row, a wrapped entry) starts on a new line
#     (Doxygen's \n), where Markdown would have run it into the paragraph.
function esc(s,    out, parts, n, i) {
  n = split(s, parts, "`")
  out = ""
  for (i = 1; i <= n; i++) {
    if (i % 2 == 1) {
      gsub(/\\/, "\\\\", parts[i])
      gsub(/@/, "\\@", parts[i])
      gsub(/</, "\\<", parts[i])
      gsub(/>/, "\\>", parts[i])
      gsub(/&/, "\\\\&", parts[i])
      gsub(/#/, "\\#", parts[i])
      gsub(/%/, "\\%", parts[i])
    }
    out = out (i > 1 ? "`" : "") parts[i]
  }
  return out
}
# Escapes the comment text of line (the part after position `from`), up to its "*/" if any.
function emit_comment(head, body,    end, text, rest) {
  end = index(body, "*/")
  if (end) {
    text = substr(body, 1, end - 1)
    rest = substr(body, end)
    in_doc = 0
  } else {
    text = body
    rest = ""
    in_doc = 1
  }
  print head esc(text) rest
}
BEGIN { in_list = 0; in_doc = 0; in_plain = 0; seen_code = 0; file_doc_done = 0 }
{
  line = $0
  if (in_doc) {
    if (!file_doc_done && index(line, "*/") && first_comment) {
      # The end of the file's opening comment: mark it as the file's documentation.
      sub(/\*\//, "@file */", line)
      file_doc_done = 1
      first_comment = 0
      end = index(line, "*/")
      # esc() the text before the marker only
      pre = substr(line, 1, index(line, "@file") - 1)
      print esc(pre) "@file */" substr(line, end + 2)
      in_doc = 0
      next
    }
    if (line ~ /^[ \t]*\* +- /)
      in_list = 1 # a Markdown list: its wrapped lines stay in their item
    else if (line ~ /^[ \t]*\*?[ \t]*$/)
      in_list = 0
    if (!in_list && match(line, /^[ \t]*\*  +[^ -]/)) {
      emit_comment(substr(line, 1, index(line, "*")) " \\n", substr(line, index(line, "*") + 1))
      next
    }
    emit_comment("", line)
    next
  }
  if (in_plain) {
    print line
    if (index(line, "*/"))
      in_plain = 0
    next
  }
  if (match(line, /^[ \t]*\/\*/)) {
    lead = substr(line, 1, RLENGTH - 2)
    body = substr(line, RLENGTH + 1)
    if (body ~ /^ ?-----/ || body ~ /^\*/) { # a ruler, or already a doc comment
      print line
      if (!index(body, "*/"))
        in_plain = 1
      next
    }
    if (!seen_code && !file_doc_done) {
      first_comment = 1
      if (index(body, "*/")) { # a one-line file comment
        end = index(body, "*/")
        print lead "/**" esc(substr(body, 1, end - 1)) "@file */" substr(body, end + 2)
        file_doc_done = 1
        first_comment = 0
        next
      }
    }
    emit_comment(lead "/**", body)
    next
  }
  if (line ~ /^[ \t]*$/) {
    print line
    next
  }
  seen_code = 1
  # Code, perhaps with a comment after it (not on #include/#if lines: nothing to document).
  pos = index(line, "/*")
  if (pos && line !~ /^[ \t]*#[ \t]*(include|if|ifdef|ifndef|else|elif|endif)/ &&
      substr(line, pos + 2, 1) != "*") {
    emit_comment(substr(line, 1, pos - 1) "/**<", substr(line, pos + 2))
    next
  }
  print line
}
