#pragma once
// Markdown (CommonMark + GitHub tables, strikethrough, task lists, autolinks) to HTML that is safe to put in a
// page: raw HTML in the input is escaped (md4c's MD_FLAG_NOHTML), and link and image URLs whose scheme is not
// http, https, mailto, tel or ftp (javascript:, vbscript:, data:, ...) lose their href / src. md4c itself
// lets such URLs through; the check here decodes HTML entities and percent-encoding and ignores whitespace
// and control characters, as browsers do, before looking at the scheme.
#include <string>
#include <string_view>

namespace poste::markdown {

std::string RenderMarkdown(std::string_view markdown);

// Whether a link URL may be kept: no scheme (relative, fragment, query), or http / https / mailto / tel / ftp,
// after decoding entities and percent-escapes (repeatedly), dropping whitespace and control characters and
// folding ASCII case. A ':' before any '/', '?' or '#' with anything else in front of it is refused.
bool IsSafeUrl(std::string_view url);

}  // namespace poste::markdown
