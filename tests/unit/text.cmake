# Text layer (electra_text, no LibTorch): vocabulary and WordPiece tokenizer.

# Expected WordPiece output of tests/fixtures/wordpiece_inputs.json, computed by
# scripts/reference_wordpiece.py from the BERT rules. Generated when test_text is
# built (so a clean build followed by `ctest` has them), regenerated when the
# script, the inputs or the vocabulary change. test_text fails when the toy-vocab
# files are missing.
set(_wordpiece_script ${PROJECT_SOURCE_DIR}/scripts/reference_wordpiece.py)
set(_wordpiece_inputs ${PROJECT_SOURCE_DIR}/tests/fixtures/wordpiece_inputs.json)
set(_wordpiece_toy_vocab ${PROJECT_SOURCE_DIR}/tests/fixtures/wordpiece_toy_vocab.txt)
set(_wordpiece_outputs)
if(NOT ELECTRA_FIXTURES_DIR)
  set(ELECTRA_FIXTURES_DIR ${CMAKE_BINARY_DIR}/fixtures)
endif()

# electra_wordpiece_expected(NAME VOCAB [--cased]): writes fixtures/wordpiece_expected_NAME.json.
function(electra_wordpiece_expected name vocab)
  set(output ${ELECTRA_FIXTURES_DIR}/wordpiece_expected_${name}.json)
  add_custom_command(OUTPUT ${output}
    COMMAND ${ELECTRA_PYTHON} ${_wordpiece_script} --vocab ${vocab} --inputs ${_wordpiece_inputs}
            --output ${output} ${ARGN}
    DEPENDS ${_wordpiece_script} ${_wordpiece_inputs} ${vocab}
    COMMENT "WordPiece reference output (${name})" VERBATIM)
  set(_wordpiece_outputs ${_wordpiece_outputs} ${output} PARENT_SCOPE)
endfunction()

electra_wordpiece_expected(toy_uncased ${_wordpiece_toy_vocab})
electra_wordpiece_expected(toy_cased ${_wordpiece_toy_vocab} --cased)
# The real BERT uncased vocabulary, when the data directory is known at configure
# time (-DELECTRA_DATA_DIR=... or the ELECTRA_DATA_DIR environment variable).
set(_data_dir "$ENV{ELECTRA_DATA_DIR}")
if(ELECTRA_DATA_DIR)
  set(_data_dir ${ELECTRA_DATA_DIR})
endif()
set(_bert_vocab ${_data_dir}/vocab/bert-base-uncased-vocab.txt)
if(_data_dir AND EXISTS ${_bert_vocab})
  electra_wordpiece_expected(bert_uncased ${_bert_vocab})
else()
  message(STATUS "electra: no BERT vocabulary under ELECTRA_DATA_DIR; test_text will skip its real-vocabulary checks")
endif()

add_custom_target(wordpiece_expected DEPENDS ${_wordpiece_outputs})

electra_test(test_text SOURCES test_vocab.cpp test_wordpiece.cpp
  LIBS electra_text nlohmann_json::nlohmann_json LABELS unit text DEPENDS wordpiece_expected)
# The reference script checks itself on the examples of BERT's own tests.
add_test(NAME text.reference_wordpiece.self_test
  COMMAND ${ELECTRA_PYTHON} ${_wordpiece_script} --self-test)
set_tests_properties(text.reference_wordpiece.self_test PROPERTIES LABELS "unit;text")
# tokenizer.json (Hugging Face fast tokenizers) for WordPiece: writer, reader, model folders.
electra_test(test_tokenizer_json SOURCES test_tokenizer_json.cpp
  LIBS electra_text nlohmann_json::nlohmann_json LABELS unit text)
