# Vocabulary training (WordPiece trainer, SentencePiece through its shim, corpus inputs,
# and the electra-vocab command line when the tools are built).
set(_vocab_tool_depends)
if(TARGET electra-vocab)
  set(_vocab_tool_depends DEPENDS electra-vocab)
endif()
electra_test(test_vocab_training SOURCES test_vocab_training.cpp
  LIBS electra_text LABELS unit vocab ${_vocab_tool_depends})
if(TARGET electra-vocab)
  target_compile_definitions(test_vocab_training PRIVATE ELECTRA_VOCAB_TOOL="$<TARGET_FILE:electra-vocab>")
endif()

# SentencePiece in a process that has LibTorch loaded (the protobuf clash the shim avoids).
electra_test(test_sentencepiece_torch SOURCES test_sentencepiece_torch.cpp
  LIBS electra::electra electra_text LABELS unit vocab torch)
