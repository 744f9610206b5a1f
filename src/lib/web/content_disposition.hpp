#pragma once
// The Content-Disposition header of a download (RFC 6266): one builder for every module that serves files.
#include <string>
#include <string_view>

namespace poste::web {

// `disposition; filename="ascii fallback"; filename*=UTF-8''percent-encoded`. The fallback keeps printable
// ASCII but '"' and '\' ('_' for those and every other byte, so a UTF-8 name reads with '_' per byte); the
// encoded form keeps RFC 8187's attr-chars and percent-encodes every other byte. No CR, LF or other control
// byte can reach the header. An empty filename is sent as "download".
std::string ContentDisposition(std::string_view disposition, std::string_view filename);

}  // namespace poste::web
