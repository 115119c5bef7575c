# Compiler launcher and warnings shared by every target.
if(ELECTRA_USE_CCACHE)
  find_program(ELECTRA_CCACHE ccache)
  if(ELECTRA_CCACHE)
    # PCH and ccache work together only when ccache ignores the PCH timestamps; paths
    # relative to the source tree let separate clones share the cache.
    set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
        "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
        "CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}" ${ELECTRA_CCACHE})
  endif()
endif()

add_library(electra_warnings INTERFACE)
target_compile_options(electra_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wno-unused-parameter>)

# Executables reuse the library's precompiled LibTorch header. GCC only accepts a PCH built
# with the same code-model flags, and the library is -fPIC while executables default to
# -fPIE: compile these executables -fPIC as well.
function(electra_reuse_pch target)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
  target_compile_options(${target} PRIVATE -fPIC)
  target_precompile_headers(${target} REUSE_FROM electra)
endfunction()

# AddressSanitizer and UndefinedBehaviorSanitizer on everything built here, in a build directory
# of its own (scripts/sanitize.sh). With ELECTRA_FUZZ (clang), the code is also instrumented for
# libFuzzer and the fuzz targets in fuzz/ are built.
option(ELECTRA_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(ELECTRA_FUZZ "Build the libFuzzer targets (clang; implies ELECTRA_SANITIZE)" OFF)
if(ELECTRA_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ELECTRA_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  set(ELECTRA_SANITIZE ON)
endif()
if(ELECTRA_SANITIZE)
  # vptr checks would need RTTI from LibTorch, which is built without the sanitizers.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer $<$<BOOL:${ELECTRA_FUZZ}>:-fsanitize=fuzzer-no-link>)
  add_link_options(-fsanitize=address,undefined -fno-sanitize=vptr)
endif()
