# Builds a page the server embeds (the dashboard at GET /,
# engine/server/dashboard_page.h; the station at GET /station,
# engine/server/station_page.h) from its files: INDEX (an index.html) with
# every stylesheet and script it links put inline in place of the line that
# links it, so that the binary serves one self-contained page and needs no
# files at run time. Links are relative to INDEX's folder (the station
# shares the dashboard's message catalogues, ../dashboard/messages.js). The
# page is written twice: as HTML (PAGE, to look at) and as the bytes of a
# C++ array in a .cpp made from TEMPLATE (OUTPUT, @PAGE_BYTES@).
#
#   cmake -DINDEX=.../index.html -DTEMPLATE=.../dashboard_page.cpp.in
#         -DPAGE=.../dashboard.html -DOUTPUT=.../dashboard_page.cpp -P embed_page.cmake
#
# Fails when a linked file is missing or linked twice, so that a page without
# its style or its script is never built. Bytes, not a string literal: no
# raw-string delimiter to collide with, no literal length limit.
cmake_minimum_required(VERSION 3.20)

foreach(var INDEX TEMPLATE PAGE OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_page.cmake needs -D${var}=...")
  endif()
endforeach()

get_filename_component(page_dir "${INDEX}" DIRECTORY)
file(READ "${INDEX}" page)

# Replaces the one line `link` of the page with `open`, the file's text and `close`.
function(inline_file page_var link file open close)
  set(page "${${page_var}}")
  string(FIND "${page}" "${link}" first)
  string(FIND "${page}" "${link}" last REVERSE)
  if(NOT first EQUAL last)
    message(FATAL_ERROR "${INDEX} links ${file} more than once")
  endif()
  if(NOT EXISTS "${page_dir}/${file}")
    message(FATAL_ERROR "${INDEX} links ${file}, which is missing")
  endif()
  file(READ "${page_dir}/${file}" text)
  string(REPLACE "${link}" "${open}${text}${close}" page "${page}")
  set(${page_var} "${page}" PARENT_SCOPE)
endfunction()

string(REGEX MATCHALL "<link rel=\"stylesheet\" href=\"[^\"]+\">\n" styles "${page}")
foreach(link IN LISTS styles)
  string(REGEX REPLACE "<link rel=\"stylesheet\" href=\"([^\"]+)\">\n" "\\1" file "${link}")
  inline_file(page "${link}" "${file}" "<style>\n" "</style>\n")
endforeach()
string(REGEX MATCHALL "<script src=\"[^\"]+\"></script>\n" scripts "${page}")
foreach(link IN LISTS scripts)
  string(REGEX REPLACE "<script src=\"([^\"]+)\"></script>\n" "\\1" file "${link}")
  inline_file(page "${link}" "${file}" "<script>\n" "</script>\n")
endforeach()
if(NOT styles OR NOT scripts)
  message(FATAL_ERROR "${INDEX} must link its stylesheet and its script, each on a line of its own")
endif()
file(WRITE "${PAGE}" "${page}")

# The page's bytes as "0x3c,0x21,...", sixteen to a line.
file(READ "${PAGE}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REPEAT "0x..," 16 row)
string(REGEX REPLACE "(${row})" "\\1\n    " bytes "${bytes}")
set(PAGE_BYTES "${bytes}")

file(READ "${TEMPLATE}" source)
string(CONFIGURE "${source}" source @ONLY)
file(WRITE "${OUTPUT}" "${source}")
