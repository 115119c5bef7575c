# Downstream tasks (electra_text, no LibTorch): readers, SQuAD windows, metrics.
electra_test(test_metrics SOURCES test_metrics.cpp LIBS electra_text LABELS unit tasks)
electra_test(test_task_readers SOURCES test_task_readers.cpp LIBS electra_text LABELS unit tasks)
electra_test(test_squad SOURCES test_squad.cpp LIBS electra_text LABELS unit tasks)
