# cmake -DIN=file -DOUT=file.cc -DSYMBOL=ns::kName -P embed_text.cmake
# Writes OUT: a C++ source defining `const std::string_view SYMBOL` holding IN's bytes as
# a raw string literal (see roster_embed_text in the top-level CMakeLists.txt).
file(READ "${IN}" text)
set(delimiter "roster_embed")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw string delimiter )${delimiter}\"")
endif()
string(REGEX MATCH "^(.*)::([^:]+)$" _ "${SYMBOL}")
set(ns "${CMAKE_MATCH_1}")
set(name "${CMAKE_MATCH_2}")
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/embed_text.cmake; do not edit.
#include <string_view>

namespace ${ns} {
extern const std::string_view ${name};
const std::string_view ${name} = R\"${delimiter}(${text})${delimiter}\";
}  // namespace ${ns}
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
