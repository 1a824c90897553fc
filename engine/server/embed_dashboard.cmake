# Builds the dashboard page that GET / serves (engine/server/dashboard_page.h)
# from engine/server/dashboard/: index.html with dashboard.css and
# dashboard.js put inline in place of the lines that link them, so that the
# binary serves one self-contained page and needs no files at run time. The
# page is written twice: as HTML (PAGE, to look at) and as the bytes of a
# C++ array in a .cpp made from TEMPLATE (OUTPUT).
#
#   cmake -DDASHBOARD_DIR=... -DTEMPLATE=.../dashboard_page.cpp.in
#         -DPAGE=.../dashboard.html -DOUTPUT=.../dashboard_page.cpp -P embed_dashboard.cmake
#
# Fails when index.html does not link each file exactly once, so that a page
# without its style or its script is never built. Bytes, not a string
# literal: no raw-string delimiter to collide with, no literal length limit.
cmake_minimum_required(VERSION 3.20)

foreach(var DASHBOARD_DIR TEMPLATE PAGE OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_dashboard.cmake needs -D${var}=...")
  endif()
endforeach()

# Replaces the one line `link` of the page with `open`, the file's text and `close`.
function(inline_file page_var link file open close)
  set(page "${${page_var}}")
  string(FIND "${page}" "${link}" first)
  string(FIND "${page}" "${link}" last REVERSE)
  if(first EQUAL -1 OR NOT first EQUAL last)
    message(FATAL_ERROR "${DASHBOARD_DIR}/index.html must link ${file} exactly once, "
                        "on a line of its own: ${link}")
  endif()
  file(READ "${DASHBOARD_DIR}/${file}" text)
  string(REPLACE "${link}" "${open}${text}${close}" page "${page}")
  set(${page_var} "${page}" PARENT_SCOPE)
endfunction()

file(READ "${DASHBOARD_DIR}/index.html" page)
inline_file(page "<link rel=\"stylesheet\" href=\"dashboard.css\">\n" dashboard.css
            "<style>\n" "</style>\n")
inline_file(page "<script src=\"dashboard.js\"></script>\n" dashboard.js
            "<script>\n" "</script>\n")
file(WRITE "${PAGE}" "${page}")

# The page's bytes as "0x3c,0x21,...", sixteen to a line.
file(READ "${PAGE}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REPEAT "0x..," 16 row)
string(REGEX REPLACE "(${row})" "\\1\n    " bytes "${bytes}")
set(DASHBOARD_BYTES "${bytes}")

file(READ "${TEMPLATE}" source)
string(CONFIGURE "${source}" source @ONLY)
file(WRITE "${OUTPUT}" "${source}")
