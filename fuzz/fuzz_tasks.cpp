// Task files: TSV, CSV and JSONL tables, GLUE files, SQuAD JSON and CoNLL, chosen by the first byte.
#include "electra/tasks/conll.h"
#include "electra/tasks/glue.h"
#include "electra/tasks/squad.h"
#include "electra/tasks/tabular.h"
#include "electra/util/error.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  electra::fuzz::InputFile input(data + 1, size - 1);
  if (!input.ok()) return 0;
  try {
    switch (data[0] % 6) {
      case 0:
      case 1:
      case 2: {
        electra::TableOptions options;
        options.format = data[0] % 6 == 0 ? electra::TableFormat::tsv
                         : data[0] % 6 == 1 ? electra::TableFormat::csv
                                            : electra::TableFormat::jsonl;
        options.quoting = options.format == electra::TableFormat::csv;
        options.columns.text_a = "text";
        options.columns.text_b = "pair";
        options.columns.label = "label";
        (void)electra::read_table(input.path(), options);
        break;
      }
      case 3:
        (void)electra::read_glue(electra::GlueTask::mrpc, input.path(), true);
        break;
      case 4:
        (void)electra::read_squad(input.path());
        break;
      default:
        (void)electra::read_conll(input.path());
    }
  } catch (const electra::Error&) {
  }
  return 0;
}
