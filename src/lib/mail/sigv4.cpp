#include "lib/mail/sigv4.hpp"

#include <algorithm>
#include <ctime>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/error.hpp"
#include "lib/net/http_url.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;

bool IsUnreserved(char c) { return ascii::IsAlnum(c) || c == '-' || c == '_' || c == '.' || c == '~'; }

// AWS's URI encoding: every byte but the unreserved ones as %XX, upper-case hex.
std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      auto u = static_cast<unsigned char>(c);
      out += {'%', kHex[u >> 4], kHex[u & 15]};
    }
  }
  return out;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      if (auto byte = crypto::HexDecode(s.substr(i + 1, 2))) {
        out += *byte;
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      params.emplace_back(UriEncode(PercentDecode(pair.substr(0, eq)), false),
                          eq == std::string_view::npos ? "" : UriEncode(PercentDecode(pair.substr(eq + 1)), false));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) out += (out.empty() ? "" : "&") + name + "=" + value;
  return out;
}

// Header values: surrounding spaces trimmed, inner runs of spaces made one.
std::string TrimValue(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : ascii::Trim(value)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string Hex(std::string_view bytes) { return crypto::HexEncode(bytes); }

}  // namespace

SigV4Signature SignV4(const SigV4Request& request, const SigV4Credentials& credentials, std::string_view region,
                      std::string_view service, std::chrono::system_clock::time_point when) {
  auto url = net::ParseHttpUrl(request.url);
  if (!url) throw AppError::BadRequest("The request URL cannot be signed.");
  std::string_view target = url->target;
  auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char stamp[17];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  SigV4Signature out;
  out.amz_date = stamp;
  std::string date = out.amz_date.substr(0, 8);

  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) headers.emplace_back(ascii::ToLower(name), TrimValue(value));
  auto has = [&](std::string_view name) {
    return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; });
  };
  auto add = [&](std::string name, std::string value) {
    out.added_headers.emplace_back(name, value);
    headers.emplace_back(ascii::ToLower(name), std::move(value));
  };
  if (!has("host")) {
    bool default_port = (url->scheme == "https" && url->port == 443) || (url->scheme == "http" && url->port == 80);
    add("Host", url->host + (default_port || url->port == 0 ? "" : ":" + std::to_string(url->port)));
  }
  if (!has("x-amz-date")) add("X-Amz-Date", out.amz_date);
  if (!credentials.session_token.empty() && !has("x-amz-security-token")) {
    add("X-Amz-Security-Token", credentials.session_token);
  }
  // Sorted by name; a repeated header is one line with its values in order, comma-separated.
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.back() = ',';
      canonical_headers += headers[i].second + "\n";
      continue;
    }
    canonical_headers += headers[i].first + ":" + headers[i].second + "\n";
    out.signed_headers += (out.signed_headers.empty() ? "" : ";") + headers[i].first;
  }

  // Non-S3 services encode the (already encoded) path once more.
  std::string canonical_uri = path.empty() ? "/" : UriEncode(path, true);
  out.canonical_request = request.method + "\n" + canonical_uri + "\n" + CanonicalQuery(query) + "\n" +
                          canonical_headers + "\n" + out.signed_headers + "\n" + Hex(crypto::Sha256(request.body));
  std::string scope = date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  out.string_to_sign =
      "AWS4-HMAC-SHA256\n" + out.amz_date + "\n" + scope + "\n" + Hex(crypto::Sha256(out.canonical_request));
  std::string key = crypto::HmacSha256("AWS4" + credentials.secret_access_key, date);
  key = crypto::HmacSha256(key, region);
  key = crypto::HmacSha256(key, service);
  key = crypto::HmacSha256(key, "aws4_request");
  std::string signature = Hex(crypto::HmacSha256(key, out.string_to_sign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + signature;
  return out;
}

bool IsValidAwsRegion(std::string_view region) {
  if (region.size() < 4 || region.size() > 32 || !ascii::IsLower(region.front())) return false;
  if (region.back() == '-' || region.find("--") != std::string_view::npos) return false;
  return std::all_of(region.begin(), region.end(),
                     [](char c) { return ascii::IsLower(c) || ascii::IsDigit(c) || c == '-'; });
}

}  // namespace poste::mail
