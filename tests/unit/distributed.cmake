# Data-parallel communication: environment parsing, two ranks over loopback, rendezvous failures.
electra_test(test_distributed
  SOURCES test_distributed.cpp
  LIBS electra::electra
  LABELS unit dist)
electra_reuse_pch(test_distributed)
