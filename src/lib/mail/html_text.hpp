#pragma once
// The text part of a message derived from its HTML, for clients that show text only and for spam filters
// that expect both parts to say the same thing.
#include <cstddef>
#include <string>
#include <string_view>

namespace poste::mail {

inline constexpr std::size_t kTextWidth = 76;

// Readable text from any HTML, never failing: block elements become line breaks (paragraphs, headings and
// lists a blank line), <br> a line break, links "text (url)" (just the text when it already is the URL;
// javascript: and fragment links keep only their text), list items "- " (numbered in <ol>), nested lists and
// blockquotes ("> ") indented, images their alt text, <hr> a rule, entities decoded, script / style / head
// dropped, whitespace collapsed outside <pre>, lines wrapped at kTextWidth characters where a space allows.
// Unclosed tags, stray '<', deep nesting and invalid UTF-8 (replaced by U+FFFD) are handled; the output is
// valid UTF-8 with LF line ends, ending in one LF (empty for an HTML without text).
std::string HtmlToText(std::string_view html);

}  // namespace poste::mail
