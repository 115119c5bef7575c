# Pre-training data (electra_text, no LibTorch): corpus reading, sentence splitting,
# example packing, shards, the prepare driver and the dataset reader.
electra_test(test_data
  SOURCES test_data.cpp test_data_prepare.cpp
  LIBS electra_text nlohmann_json::nlohmann_json
  LABELS unit data)
