# Vocabulary training (WordPiece trainer, SentencePiece through its shim, corpus inputs).
electra_test(test_vocab_training SOURCES test_vocab_training.cpp
  LIBS electra_text LABELS unit vocab)

# SentencePiece in a process that has LibTorch loaded (the protobuf clash the shim avoids).
electra_test(test_sentencepiece_torch SOURCES test_sentencepiece_torch.cpp
  LIBS electra::electra electra_text LABELS unit vocab torch)
