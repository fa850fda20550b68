# Reliability tests (included from tests/CMakeLists.txt). The guard-page,
# overflow and FP-state tests are part of simdsoftmax_tests; this adds:
#
# simdsoftmax_concurrency_tests  test_concurrency.cpp on its own, so that the
#   ThreadSanitizer build (.ci/stage-sanitizers.sh) can build and run just
#   these. Each test runs in a fresh process (ctest), so the first-call
#   dispatch race is a real one; it also runs once per SIMDSOFTMAX_ISA value
#   (the once-per-process read of the variable, raced by 16 threads).
# fuzz/  the fuzz target's replay executable and a ctest replaying the seed
#   corpus and the regression inputs (the libFuzzer build is .ci/stage-fuzz.sh).
add_executable(simdsoftmax_concurrency_tests test_concurrency.cpp)
target_include_directories(simdsoftmax_concurrency_tests PRIVATE ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(simdsoftmax_concurrency_tests PRIVATE simdsoftmax GTest::gtest_main Threads::Threads)
target_compile_options(simdsoftmax_concurrency_tests PRIVATE -Wall -Wextra)
target_compile_definitions(simdsoftmax_concurrency_tests PRIVATE SIMDSOFTMAX_TEST_COMPILED_ISAS="${_ssm_compiled_isas}")
gtest_discover_tests(simdsoftmax_concurrency_tests
  DISCOVERY_MODE PRE_TEST
  DISCOVERY_TIMEOUT 120
  PROPERTIES TIMEOUT 600)
foreach(_ssm_env scalar avx2 avx512 neon bogus)
  set(_ssm_name Concurrency.FirstCallDispatchRace.SIMDSOFTMAX_ISA_${_ssm_env})
  add_test(NAME ${_ssm_name} COMMAND simdsoftmax_concurrency_tests --gtest_filter=Concurrency.FirstCallDispatchRace)
  set_tests_properties(${_ssm_name} PROPERTIES
    ENVIRONMENT "SIMDSOFTMAX_ISA=${_ssm_env}"
    PASS_REGULAR_EXPRESSION "\\[  PASSED  \\] 1 test\\."
    TIMEOUT 300)
endforeach()

add_subdirectory(fuzz)
