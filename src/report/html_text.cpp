#include "report/html_text.h"

#include <cmath>
#include <cstdio>

namespace electra {

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_number(double value, int digits) {
  if (std::isnan(value)) return "n/a";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return "0";
  char buffer[64];
  const double magnitude = std::fabs(value);
  // %g switches to an exponent below 1e-4 already; learning rates (2e-4, 5e-5) read better so.
  if (magnitude >= 1e6 || magnitude < 1e-3) {
    std::snprintf(buffer, sizeof buffer, "%.*e", digits - 1, value);
    // 2.000e-04 -> 2e-04: drop the mantissa's trailing zeros.
    std::string text = buffer;
    const auto e = text.find('e');
    auto end = e;
    while (end > 0 && text[end - 1] == '0') --end;
    if (end > 0 && text[end - 1] == '.') --end;
    return text.substr(0, end) + text.substr(e);
  }
  // Whole numbers (steps, tokens/s) in full: %g would write 18000 as 1.8e+04.
  if (value == std::round(value) || magnitude >= std::pow(10.0, digits)) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
  }
  return buffer;
}

}  // namespace electra
