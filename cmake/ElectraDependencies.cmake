# Every third-party dependency is found here, nowhere else.
find_package(Torch REQUIRED)
find_package(nlohmann_json 3.9 REQUIRED)
find_package(spdlog REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
# Linked only by the SentencePiece shim (src/tokenization/spm_shim), never by a library
# that can share a process with LibTorch: its bundled protobuf clashes with LibTorch's.
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
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
endif()

# Torch's imported targets carry its flags; keep its ABI define for consumers of ours.
message(STATUS "electra: LibTorch ${Torch_VERSION} (${TORCH_LIBRARIES})")
