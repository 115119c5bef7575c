#pragma once
// Which task head a fine-tuning model carries; no LibTorch here, so configs can name them.
#include <string>

namespace electra {

enum class HeadKind { sequence_classification, question_answering, token_classification };
std::string to_string(HeadKind kind);  // the transformers architecture name

// The sentence-level head. `transformers` (its ElectraClassificationHead, the default):
// dropout -> dense(H,H) -> gelu -> dropout -> out_proj. `linear` (the official TF code's head):
// dropout -> out_proj, saved as classifier.out_proj.*; transformers cannot rebuild that head,
// so a directory with it records "classifier_head": "linear" in config.json for this library.
enum class ClassifierHead { transformers, linear };
ClassifierHead parse_classifier_head(const std::string& name);
std::string to_string(ClassifierHead head);

}  // namespace electra
