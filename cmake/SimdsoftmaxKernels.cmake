# One object library per ISA, each compiled with its own flags, linked into the
# static library as objects. Only kernels/ sources ever see ISA flags; src/ gets
# SIMDSOFTMAX_HAVE_<ISA> defines for the registry.
#
#   isa      source              flags
#   scalar   kernels/scalar.cpp  (baseline)
#   avx2     kernels/avx2.cpp    -mavx2 -mfma          (x86-64)
#   avx512   kernels/avx512.cpp  -mavx512{f,dq,bw,vl} -mfma (x86-64, Skylake-SP and later)
#   neon     kernels/neon.cpp    (baseline on aarch64)

find_package(xsimd REQUIRED)
# Debian's xsimd 8.1.0 lists a nonexistent "xtl" link dependency: use its headers only.
get_target_property(SIMDSOFTMAX_XSIMD_INCLUDE xsimd INTERFACE_INCLUDE_DIRECTORIES)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(SIMDSOFTMAX_ISAS scalar avx2 avx512)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(SIMDSOFTMAX_ISAS scalar neon)
else()
  set(SIMDSOFTMAX_ISAS scalar)
endif()

set(SIMDSOFTMAX_FLAGS_scalar "")
set(SIMDSOFTMAX_FLAGS_avx2 -mavx2 -mfma)
# GCC 12 warns "'__Y' is used uninitialized" inside avx512fintrin.h (a GCC bug).
set(SIMDSOFTMAX_FLAGS_avx512 -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma -Wno-uninitialized -Wno-maybe-uninitialized)
set(SIMDSOFTMAX_FLAGS_neon "")

function(simdsoftmax_add_kernels target)
  foreach(isa IN LISTS SIMDSOFTMAX_ISAS)
    set(obj simdsoftmax_kernels_${isa})
    add_library(${obj} OBJECT ${PROJECT_SOURCE_DIR}/kernels/${isa}.cpp)
    target_include_directories(${obj} SYSTEM PRIVATE ${SIMDSOFTMAX_XSIMD_INCLUDE})
    # Kernels never throw: -fno-exceptions keeps vague-linkage EH data
    # (DW.ref.__gxx_personality_v0) out of the ISA objects (.ci/stage-symbols.sh).
    target_compile_options(${obj} PRIVATE -Wall -Wextra -fno-exceptions ${SIMDSOFTMAX_FLAGS_${isa}})
    # Kernels are always optimized: at -O0 GCC 12 defines some AVX-512 intrinsics
    # that xsimd 8.1.0 uses (_mm512_mask_blend_epi8) as macros, and Debug builds
    # of the library (or of a project that add_subdirectory's it) fail to compile.
    target_compile_options(${obj} PRIVATE $<$<OR:$<CONFIG:Debug>,$<CONFIG:>>:-O2>)
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:${obj}>)
    string(TOUPPER ${isa} ISA)
    target_compile_definitions(${target} PRIVATE SIMDSOFTMAX_HAVE_${ISA})
  endforeach()
endfunction()
