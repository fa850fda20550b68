# ctest driver (cmake -P): install the library from BUILD_DIR into a fresh prefix
# under WORK_DIR, check the installed tree, then configure, build and run the
# consumer project (tests/consumer) against it, seeing only CMAKE_PREFIX_PATH
# and with find_package(xsimd) disabled.
#   -DBUILD_DIR= -DCONFIG= -DCONSUMER_SOURCE_DIR= -DWORK_DIR= -DGENERATOR= -DCXX_COMPILER=
cmake_minimum_required(VERSION 3.20)

foreach(v BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR)
  if(NOT ${v})
    message(FATAL_ERROR "${v} not set")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n--- stdout\n${out}\n--- stderr\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(cbuild ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# 1. Install.
set(cfg_args)
if(CONFIG)
  set(cfg_args --config ${CONFIG})
endif()
run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} ${cfg_args})

# 2. The installed tree: header, archive, package config + version file, no xsimd.
if(NOT EXISTS ${prefix}/include/simdsoftmax/simdsoftmax.hpp)
  message(FATAL_ERROR "not installed: include/simdsoftmax/simdsoftmax.hpp")
endif()
foreach(f libsimdsoftmax.a simdsoftmaxConfig.cmake simdsoftmaxConfigVersion.cmake)
  file(GLOB_RECURSE found ${prefix}/*/${f})
  if(NOT found)
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
# Text files (headers, CMake package files) must not mention xsimd. The archive is
# exempt: its local symbol names spell the kernels' xsimd template arguments,
# which asks nothing of a consumer.
file(GLOB_RECURSE installed LIST_DIRECTORIES false ${prefix}/*)
set(checked 0)
foreach(f IN LISTS installed)
  if(f MATCHES "\\.a$")
    continue()
  endif()
  file(READ ${f} text)
  string(TOLOWER "${text}" text)
  string(FIND "${text}" "xsimd" pos)
  if(NOT pos EQUAL -1)
    message(FATAL_ERROR "installed file mentions xsimd: ${f}")
  endif()
  math(EXPR checked "${checked} + 1")
endforeach()
message(STATUS "installed tree ok (${checked} text files without xsimd)")

# 3. Configure and build the consumer.
set(gen_args)
if(GENERATOR)
  set(gen_args -G ${GENERATOR})
endif()
set(cxx_args)
if(CXX_COMPILER)
  set(cxx_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
run("configure consumer" ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${cbuild} ${gen_args} ${cxx_args}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_DISABLE_FIND_PACKAGE_xsimd=ON)
file(STRINGS ${cbuild}/CMakeCache.txt dir_line REGEX "^simdsoftmax_DIR:")
string(FIND "${dir_line}" "${prefix}/" pos)
if(NOT pos GREATER -1)
  message(FATAL_ERROR "consumer found simdsoftmax outside the test prefix: ${dir_line}")
endif()
run("build consumer" ${CMAKE_COMMAND} --build ${cbuild} ${cfg_args})

# 4. The compiler's dependency file lists every header the consumer included:
#    simdsoftmax.hpp from the prefix, and no xsimd header.
file(GLOB_RECURSE depfiles ${cbuild}/*example.cpp.o.d ${cbuild}/*example.cpp.d)
if(NOT depfiles)
  message(FATAL_ERROR "no dependency file for example.cpp under ${cbuild}: cannot prove xsimd was not included")
endif()
foreach(d IN LISTS depfiles)
  file(READ ${d} deps)
  string(FIND "${deps}" "${prefix}/include/simdsoftmax/simdsoftmax.hpp" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "${d} does not list the installed simdsoftmax.hpp:\n${deps}")
  endif()
  string(TOLOWER "${deps}" deps)
  string(FIND "${deps}" "xsimd" pos)
  if(NOT pos EQUAL -1)
    message(FATAL_ERROR "the consumer's compilation included an xsimd header (${d})")
  endif()
endforeach()

# 5. Run it. Sample 1 has equal logits: each of the 4 classes gets exactly 1/4.
file(GLOB_RECURSE app LIST_DIRECTORIES false ${cbuild}/app ${cbuild}/*/app)
if(NOT app)
  message(FATAL_ERROR "consumer executable not found under ${cbuild}")
endif()
list(GET app 0 app)
run("run consumer" ${app})
message(STATUS "consumer output:\n${run_output}")
if(NOT run_output MATCHES "kernel: (scalar|avx2|avx512|neon)\n")
  message(FATAL_ERROR "consumer did not print the active kernel")
endif()
string(FIND "${run_output}" "sample 1: 0.250 0.250 0.250 0.250\n" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "consumer printed wrong probabilities for the uniform sample")
endif()
message(STATUS "consumer test passed")
