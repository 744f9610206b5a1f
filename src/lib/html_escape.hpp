#pragma once
// Text put into HTML pages and mail bodies: one escaping for every module that writes HTML by hand.
#include <string>
#include <string_view>

namespace poste {

// & < > " ' as character references: safe in element content and in quoted attribute values.
void AppendHtmlEscaped(std::string& out, std::string_view text);
std::string HtmlEscaped(std::string_view text);

// Plain text as HTML: escaped, and each line break (LF, CRLF or a lone CR) a <br>.
std::string TextAsHtml(std::string_view text);

}  // namespace poste
