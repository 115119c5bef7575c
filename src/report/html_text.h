#pragma once
// Text that goes into the run report's HTML and SVG: every string read from a file passes
// through escape_html (a config value or a folder name may hold '<' or '&'), every number through
// format_number (NaN and infinities print as words, never as "nan" inside an SVG coordinate).
#include <string>
#include <string_view>

namespace electra {

// & < > " ' as character references: safe in element text and in quoted attributes.
std::string escape_html(std::string_view text);

// A number for a table cell or a tick label: up to `digits` significant digits, no trailing
// zeros, an exponent only for very large or very small magnitudes; "n/a" for NaN, "inf"/"-inf".
std::string format_number(double value, int digits = 4);

}  // namespace electra
