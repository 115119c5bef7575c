#pragma once
// The tagged spdlog loggers behind electra/util/logging.h, for the library and its tools only.
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "electra/util/logging.h"

namespace electra {

std::shared_ptr<spdlog::logger> logger(const std::string& tag);

}  // namespace electra
