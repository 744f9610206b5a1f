#include "lib/web/content_disposition.hpp"

namespace poste::web {

std::string ContentDisposition(std::string_view disposition, std::string_view filename) {
  if (filename.empty()) filename = "download";
  std::string ascii, encoded;
  for (unsigned char c : filename) {
    ascii += (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '_' : static_cast<char>(c);
    const bool attr_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (attr_char) {
      encoded += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return std::string(disposition) + "; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace poste::web
