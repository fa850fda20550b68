# ctest driver (cmake -P): README.md must contain tests/consumer/example.cpp
# verbatim, so that the usage example users read is the one CI compiles.
#   -DREADME= -DEXAMPLE=
if(NOT EXISTS "${README}")
  message(FATAL_ERROR "README.md not found (${README})")
endif()
file(READ "${EXAMPLE}" example)
file(READ "${README}" readme)
string(REGEX REPLACE "\n+$" "" example "${example}")
string(FIND "${readme}" "${example}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "README.md does not quote tests/consumer/example.cpp verbatim; paste the whole file into a ```cpp block")
endif()
message(STATUS "README.md quotes example.cpp")
