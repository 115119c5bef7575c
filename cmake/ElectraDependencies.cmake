# Every third-party dependency is found here, nowhere else.
#
# Two ways to satisfy them: Debian's packages (scripts/setup.sh), or a folder made on such a
# machine by scripts/pack_build_deps.sh and passed as ELECTRA_DEPS_DIR, for a machine that has
# only a LibTorch (for example the CUDA one inside the pip torch wheel), CMake and a compiler
# (scripts/build_with_torch_wheel.sh). In the second case spdlog and fmt are used header-only,
# so nothing compiled on this machine's C++ ABI is linked next to LibTorch.
set(ELECTRA_DEPS_DIR "" CACHE PATH "Dependencies packed by scripts/pack_build_deps.sh (instead of system packages)")
if(ELECTRA_DEPS_DIR)
  list(PREPEND CMAKE_PREFIX_PATH "${ELECTRA_DEPS_DIR}")
endif()

# TorchConfig.cmake looks for its libraries in the default paths before its own prefix: with
# Debian's LibTorch also installed, a pip wheel's headers would get Debian's libraries. Put the
# prefix of each LibTorch named through CMAKE_PREFIX_PATH (<prefix>/share/cmake) first.
foreach(path IN LISTS CMAKE_PREFIX_PATH)
  if(EXISTS "${path}/Torch/TorchConfig.cmake")
    get_filename_component(torch_root "${path}/../.." ABSOLUTE)
    list(PREPEND CMAKE_PREFIX_PATH "${torch_root}")
  endif()
endforeach()
find_package(Torch REQUIRED)
get_filename_component(electra_torch_lib_dir "${TORCH_LIBRARY}" DIRECTORY)
get_filename_component(ELECTRA_TORCH_PREFIX "${TORCH_INSTALL_PREFIX}" ABSOLUTE)  # also for electraConfig.cmake
string(FIND "${electra_torch_lib_dir}" "${ELECTRA_TORCH_PREFIX}" electra_torch_lib_at)  # a path, not a regex
if(NOT electra_torch_lib_at EQUAL 0)
  message(FATAL_ERROR "LibTorch ${Torch_VERSION} at ${TORCH_INSTALL_PREFIX} found its library elsewhere "
                      "(${TORCH_LIBRARY}); pass -DCMAKE_PREFIX_PATH=${TORCH_INSTALL_PREFIX} or clear the cache")
endif()
find_package(nlohmann_json 3.9 REQUIRED)
find_package(Threads REQUIRED)

# The pip wheels before 2.6 use the pre-C++11 std::string ABI; every target that passes
# standard-library types across the LibTorch boundary (all of ours) must use the same one.
if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
  add_compile_definitions(_GLIBCXX_USE_CXX11_ABI=0)
  set(ELECTRA_OLD_CXX_ABI ON)
endif()

# spdlog needs the fmt it was written for. The pip wheels ship a newer fmt in LibTorch's include
# directory, which the compiler searches before the others: with such a LibTorch, and with a
# packed folder, spdlog and its fmt are used header-only from a folder of their own (links to
# them alone) that is searched before LibTorch's.
if(ELECTRA_DEPS_DIR OR EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt")
  if(ELECTRA_DEPS_DIR)
    find_path(ELECTRA_SPDLOG_ROOT spdlog/spdlog.h PATHS "${ELECTRA_DEPS_DIR}/include" NO_DEFAULT_PATH REQUIRED)
  else()
    find_path(ELECTRA_SPDLOG_ROOT spdlog/spdlog.h NO_CMAKE_PATH NO_CMAKE_ENVIRONMENT_PATH REQUIRED)
  endif()
  set(ELECTRA_SPDLOG_INCLUDE ${CMAKE_BINARY_DIR}/spdlog-fmt)
  file(MAKE_DIRECTORY ${ELECTRA_SPDLOG_INCLUDE})
  foreach(d spdlog fmt)
    file(CREATE_LINK ${ELECTRA_SPDLOG_ROOT}/${d} ${ELECTRA_SPDLOG_INCLUDE}/${d} SYMBOLIC)
  endforeach()
  message(STATUS "electra: spdlog and fmt from ${ELECTRA_SPDLOG_ROOT}, header-only, before LibTorch's fmt")
  add_library(electra_spdlog_header_only INTERFACE)
  target_include_directories(electra_spdlog_header_only INTERFACE "${ELECTRA_SPDLOG_INCLUDE}")
  target_compile_definitions(electra_spdlog_header_only INTERFACE FMT_HEADER_ONLY)  # spdlog: header-only unless SPDLOG_COMPILED_LIB
  add_library(spdlog::spdlog ALIAS electra_spdlog_header_only)
else()
  find_package(spdlog REQUIRED)
endif()

# C libraries and SentencePiece: pkg-config where it is, a plain search of ELECTRA_DEPS_DIR otherwise.
function(electra_find_c_library target header)
  find_path(${target}_INCLUDE ${header} PATHS "${ELECTRA_DEPS_DIR}/include" REQUIRED)
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  set(libs "")
  foreach(name IN LISTS ARGN)
    find_library(${target}_${name} ${name} PATHS "${ELECTRA_DEPS_DIR}/lib" REQUIRED)
    list(APPEND libs "${${target}_${name}}")
  endforeach()
  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${${target}_INCLUDE}"
                                             INTERFACE_LINK_LIBRARIES "${libs}")
endfunction()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND AND NOT ELECTRA_DEPS_DIR)
  pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
  # Linked only by the SentencePiece shim (src/tokenization/spm_shim), never by a library
  # that can share a process with LibTorch: its bundled protobuf clashes with LibTorch's.
  pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
else()
  electra_find_c_library(electra_utf8proc utf8proc.h utf8proc)
  electra_find_c_library(electra_sentencepiece sentencepiece_processor.h sentencepiece sentencepiece_train)
  add_library(PkgConfig::UTF8PROC ALIAS electra_utf8proc)
  add_library(PkgConfig::SENTENCEPIECE ALIAS electra_sentencepiece)
endif()

if(ELECTRA_BUILD_TOOLS)
  find_package(CLI11 REQUIRED)
endif()
if(ELECTRA_BUILD_TESTS)
  find_package(GTest REQUIRED)
  # Debian's python3-torch lives under /usr/bin/python3; prefer it over other interpreters on PATH.
  find_program(ELECTRA_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
  if(NOT ELECTRA_PYTHON)
    find_program(ELECTRA_PYTHON NAMES python3)
  endif()
  set(ELECTRA_HF_PYTHON "" CACHE FILEPATH
      "A python with the pinned transformers (scripts/python_env.sh): runs the transformers round trips")
endif()

# Torch's imported targets carry its flags; keep its ABI define for consumers of ours.
message(STATUS "electra: LibTorch ${Torch_VERSION} (${TORCH_LIBRARIES})")

# NCCL for data parallel on GPUs: a CUDA LibTorch that ships ProcessGroupNCCL's header has it
# compiled in. Its CMake config does not say so to consumers; tell distributed.cpp.
if(TARGET torch_cuda OR TARGET c10_cuda)
  find_file(ELECTRA_NCCL_HEADER torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
  if(ELECTRA_NCCL_HEADER)
    set(ELECTRA_WITH_NCCL ON)
    message(STATUS "electra: CUDA LibTorch with NCCL: data parallel on GPUs through ProcessGroupNCCL")
  endif()
endif()
