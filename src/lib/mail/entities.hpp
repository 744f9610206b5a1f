#pragma once
// Text clean-up shared by the HTML-to-text conversion and the MIME parser: HTML character references and
// UTF-8 repair, line ends.
#include <string>
#include <string_view>

namespace poste::mail {

// Decodes character references (&amp; &#233; &#x1F600; and the common named ones); unknown ones stay as
// written. Code points that are not characters (NUL, surrogates, > U+10FFFF) become U+FFFD.
std::string DecodeEntities(std::string_view text);

// `text` with each invalid UTF-8 sequence replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view text);

// `text` with CRLF and lone CR turned into LF: GMime writes (and its parser reads) LF, and CRLF is applied
// on output; a lone CR would otherwise survive as a bare CR.
std::string ToLf(std::string_view text);

}  // namespace poste::mail
