#include "modules/webhooks/webhook_signature.hpp"

#include <charconv>
#include <optional>
#include <vector>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"

namespace poste::webhooks {

namespace {

std::string Mac(std::string_view secret, std::int64_t t, std::string_view body) {
  std::string signed_text = std::to_string(t);
  signed_text += '.';
  signed_text += body;
  return crypto::HexEncode(crypto::HmacSha256(secret, signed_text));
}

}  // namespace

std::string SignatureHeader(std::string_view secret, std::int64_t unix_seconds, std::string_view body) {
  return "t=" + std::to_string(unix_seconds) + ",v1=" + Mac(secret, unix_seconds, body);
}

bool VerifySignature(std::string_view header, std::string_view secret, std::string_view body, std::int64_t now_s,
                     std::int64_t tolerance_s) {
  std::optional<std::int64_t> t;
  std::string_view rest = header;
  std::vector<std::string_view> macs;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item.starts_with("t=")) {
      std::int64_t value = 0;
      const auto digits = item.substr(2);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc() || end != digits.data() + digits.size()) return false;
      t = value;
    } else if (item.starts_with("v1=")) {
      macs.push_back(item.substr(3));
    }
  }
  if (!t || macs.empty()) return false;
  if (*t < now_s - tolerance_s || *t > now_s + tolerance_s) return false;
  const std::string expected = Mac(secret, *t, body);
  for (auto mac : macs) {
    if (crypto::ConstantTimeEquals(expected, mac)) return true;
  }
  return false;
}

}  // namespace poste::webhooks
