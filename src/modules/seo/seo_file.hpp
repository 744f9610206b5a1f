#pragma once
// Writing a file so that readers (a web server serving data/sites/<slug>/seo.json) see the old bytes or the new
// ones, never a mix or a truncated file.
#include <string>
#include <string_view>

namespace poste::seo {

// Creates the parent directories, writes `bytes` to a new temporary file beside `path` (O_EXCL, mode 0644),
// fsyncs it, renames it over `path` and fsyncs the directory. On failure the temporary file is removed and
// std::runtime_error says what failed; `path` is left as it was.
void WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace poste::seo
