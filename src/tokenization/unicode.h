#pragma once
// Internal: the Unicode facts the BERT basic tokenizer needs (reference doc section 6).
// UTF-8 decoding never reads past the end of its input and never fails: ill-formed
// bytes decode to U+FFFD, one replacement per maximal ill-formed subpart (the
// Unicode / WHATWG rule, the same as Python's errors="replace").
// Character properties come from utf8proc; ASCII is answered without it.
#include <cstddef>
#include <string>
#include <string_view>

namespace electra::unicode {

constexpr char32_t kReplacement = 0xFFFD;

struct Decoded {
  char32_t cp;         // kReplacement when the bytes are ill-formed
  std::size_t length;  // bytes consumed, >= 1
  bool valid;          // false: ill-formed bytes (cp == kReplacement)
};

// Decodes the code point starting at byte `pos` (pos < text.size()). Overlong
// forms, surrogates (U+D800..U+DFFF), values above U+10FFFF, lone continuation
// bytes and truncated sequences are ill-formed.
Decoded decode_utf8(std::string_view text, std::size_t pos);

// Appends the UTF-8 encoding of a valid scalar value.
void append_utf8(std::string& out, char32_t cp);

// BERT's character classes.
bool is_whitespace(char32_t cp);   // ' ', \t, \n, \r, or category Zs
bool is_control(char32_t cp);      // any category C* except \t, \n, \r
bool is_punctuation(char32_t cp);  // ASCII 33-47, 58-64, 91-96, 123-126, or category P*
bool is_cjk(char32_t cp);          // CJK ideograph blocks that get spaces around them
// Zl and Zp (U+2028, U+2029): not BERT whitespace, but Python's str.split(), which
// BERT's whitespace_tokenize uses, splits on them; so they separate words too.
bool is_line_separator(char32_t cp);
bool is_nonspacing_mark(char32_t cp);  // category Mn (what accent stripping drops)

// Simple lowercase mapping. The context-dependent final sigma is handled by the caller.
char32_t to_lower(char32_t cp);
// Properties used for the Final_Sigma condition of full lowercasing.
bool is_cased(char32_t cp);
bool is_case_ignorable(char32_t cp);

// Canonical combining class (0 for starters).
int combining_class(char32_t cp);
// Full canonical decomposition (NFD, without reordering) of one code point into
// out[0..n); returns n, which is at most kMaxDecomposition.
constexpr std::size_t kMaxDecomposition = 8;
std::size_t decompose(char32_t cp, char32_t* out);

// Unicode version of the character database in use (e.g. "15.0.0").
const char* database_version();

}  // namespace electra::unicode
