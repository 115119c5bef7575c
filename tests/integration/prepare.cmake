# electra-prepare end to end: a generated corpus checked with an independent reader of
# the shard format; plus the Brown corpus when the data directory is known
# (-DELECTRA_DATA_DIR=... at configure time, or ELECTRA_DATA_DIR in the environment of ctest).
add_test(NAME cli.electra_prepare
  COMMAND ${ELECTRA_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/test_prepare_cli.py $<TARGET_FILE:electra-prepare>
          ${PROJECT_SOURCE_DIR}/tests/fixtures/wordpiece_toy_vocab.txt)
set_tests_properties(cli.electra_prepare PROPERTIES LABELS "integration;cli;data" TIMEOUT 600)
set(_prepare_data_dir "$ENV{ELECTRA_DATA_DIR}")
if(ELECTRA_DATA_DIR)
  set(_prepare_data_dir ${ELECTRA_DATA_DIR})
endif()
if(_prepare_data_dir)
  set_tests_properties(cli.electra_prepare PROPERTIES ENVIRONMENT "ELECTRA_DATA_DIR=${_prepare_data_dir}")
endif()
