#pragma once
// Learning-rate schedules as pure functions of the step (0 = the first update).
#include <cstdint>

namespace electra {

struct LinearSchedule {
  double peak = 5e-4;
  int64_t warmup_steps = 10000;
  int64_t total_steps = 1000000;

  // Linear warmup from 0, then linear decay to 0 at total_steps (the official code: the
  // decay runs over the whole run, warmup overrides it while step < warmup_steps).
  double operator()(int64_t step) const {
    if (warmup_steps > 0 && step < warmup_steps) return peak * static_cast<double>(step) / warmup_steps;
    if (step >= total_steps) return 0.0;
    return peak * (1.0 - static_cast<double>(step) / total_steps);
  }
};

}  // namespace electra
