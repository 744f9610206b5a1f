#include "lib/web/message.hpp"

#include <algorithm>

namespace poste::web {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (IEquals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

void Headers::Set(std::string name, std::string value) {
  Remove(name);
  items_.emplace_back(std::move(name), std::move(value));
}

void Headers::Add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }

void Headers::Remove(std::string_view name) {
  std::erase_if(items_, [&](const auto& kv) { return IEquals(kv.first, name); });
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Response Response::Empty(int status) {
  Response r;
  r.status = status;
  return r;
}

void SplitTarget(std::string_view target, std::string& path, std::string& query) {
  auto q = target.find('?');
  if (q == std::string_view::npos) {
    path.assign(target);
    query.clear();
  } else {
    path.assign(target.substr(0, q));
    query.assign(target.substr(q + 1));
  }
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<std::string> PercentDecode(std::string_view in, bool form) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (form && c == '+') {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string{};
    return PercentDecode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

}  // namespace poste::web
