#pragma once
// For tests only (header-only, never linked into the server): SendGrid's v3 API on a loopback port, strict
// about what SendGrid's published v3 schema asks of a request. POST /v3/mail/send must carry the API key
// as a Bearer token and application/json; the body must hold personalizations (1 to 1000, each with a To
// list, each address once per personalization, 1000 recipients in all, names with SendGrid's problem
// characters quoted), from, subject, content (text/plain before text/html, no empty value), attachments
// (strict base64, a filename, inline ones with a content_id), headers (strings, ASCII, none of SendGrid's
// reserved names) and no unknown field. A request that breaks a rule gets 400 with SendGrid's error shape
// and its problems are recorded; a good one gets 202 with an X-Message-Id, or the next forced answer
// (faults). GET /v3/scopes answers the key's scopes.
#include <algorithm>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lib/crypto/encoding.hpp"
#include "lib/mail/address.hpp"
#include "lib/net/testing/http_receiver.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail::testing {

class SendGridStandIn {
 public:
  explicit SendGridStandIn(std::string api_key, std::vector<std::string> scopes = {"mail.send", "user.profile.read"})
      : api_key_(std::move(api_key)), scopes_(std::move(scopes)) {
    receiver_.Handle([this](const net::testing::ReceivedRequest& r) { return Answer(r); });
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(receiver_.port()); }
  net::testing::HttpReceiver& receiver() { return receiver_; }

  // The next valid mail/send requests get these answers instead of 202 (429, 500, a delay...).
  void ForceNext(std::vector<net::testing::ScriptedResponse> answers) {
    std::lock_guard lock(mu_);
    for (auto& a : answers) forced_.push_back(std::move(a));
  }
  // The mail/send bodies answered 202, parsed.
  std::vector<nlohmann::json> Accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  // Every rule a request broke, "field: what".
  std::vector<std::string> Problems() {
    std::lock_guard lock(mu_);
    return problems_;
  }

  // The checks, for tests of the checks themselves.
  static std::vector<std::string> CheckMailBody(const nlohmann::json& body) {
    std::vector<std::string> p;
    if (!body.is_object()) return {"body: not a JSON object"};
    static const std::set<std::string> kTop = {
        "personalizations", "from",        "reply_to",     "reply_to_list", "subject",          "content",
        "attachments",      "template_id", "headers",      "categories",    "custom_args",      "send_at",
        "batch_id",         "asm",         "ip_pool_name", "mail_settings", "tracking_settings"};
    for (const auto& [key, value] : body.items()) {
      if (!kTop.contains(key)) p.push_back(key + ": not a field of the v3 mail/send body");
    }
    const auto& ps = body.contains("personalizations") ? body["personalizations"] : nlohmann::json();
    if (!ps.is_array() || ps.empty() || ps.size() > 1000) {
      p.push_back("personalizations: required, an array of 1 to 1000");
    } else {
      std::size_t total = 0;
      for (std::size_t i = 0; i < ps.size(); ++i) {
        const std::string field = "personalizations[" + std::to_string(i) + "]";
        const auto& one = ps[i];
        if (!one.is_object()) {
          p.push_back(field + ": not an object");
          continue;
        }
        static const std::set<std::string> kPersonalization = {
            "to",          "cc",      "bcc", "subject", "headers", "substitutions", "dynamic_template_data",
            "custom_args", "send_at", "from"};
        for (const auto& [key, value] : one.items()) {
          if (!kPersonalization.contains(key)) p.push_back(field + "." + key + ": not a personalization field");
        }
        if (!one.contains("to") || !one["to"].is_array() || one["to"].empty()) {
          p.push_back(field + ".to: required, at least one address");
        }
        std::set<std::string> seen;
        for (const char* list : {"to", "cc", "bcc"}) {
          if (!one.contains(list)) continue;
          if (!one[list].is_array() || one[list].empty()) {
            p.push_back(field + "." + list + ": an array of at least one address");
            continue;
          }
          for (std::size_t k = 0; k < one[list].size(); ++k) {
            const std::string f = field + "." + list + "[" + std::to_string(k) + "]";
            CheckAddress(one[list][k], f, true, p);
            if (one[list][k].is_object() && one[list][k].contains("email") && one[list][k]["email"].is_string()) {
              std::string key = one[list][k]["email"].get<std::string>();
              std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
              if (!seen.insert(key).second) p.push_back(f + ": the address is repeated in the personalization");
            }
            ++total;
          }
        }
      }
      if (total > 1000) p.push_back("personalizations: more than 1000 recipients");
    }
    if (!body.contains("from")) {
      p.push_back("from: required");
    } else {
      CheckAddress(body["from"], "from", false, p);
    }
    if (body.contains("reply_to")) CheckAddress(body["reply_to"], "reply_to", false, p);
    if (!body.contains("subject") || !body["subject"].is_string() || body["subject"].get<std::string>().empty()) {
      p.push_back("subject: required, a non-empty string");
    } else if (!validate::IsValidUtf8(body["subject"].get<std::string>())) {
      p.push_back("subject: not UTF-8");
    }
    CheckContent(body, p);
    CheckAttachments(body, p);
    CheckHeaders(body, p);
    if (body.contains("custom_args")) {
      if (!body["custom_args"].is_object()) p.push_back("custom_args: an object");
      for (const auto& [k, v] : body["custom_args"].items()) {
        if (!v.is_string()) p.push_back("custom_args." + k + ": a string");
      }
    }
    return p;
  }

 private:
  static nlohmann::json Errors(const std::vector<std::string>& problems) {
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& problem : problems) {
      errors.push_back({{"message", problem}, {"field", problem.substr(0, problem.find(':'))}, {"help", nullptr}});
    }
    return {{"errors", errors}};
  }

  static void CheckAddress(const nlohmann::json& a, const std::string& field, bool recipient,
                           std::vector<std::string>& p) {
    if (!a.is_object() || !a.contains("email") || !a["email"].is_string()) {
      p.push_back(field + ": an object with an email");
      return;
    }
    for (const auto& [key, value] : a.items()) {
      if (key != "email" && key != "name") p.push_back(field + "." + key + ": not an address field");
    }
    const std::string email = a["email"].get<std::string>();
    const bool ascii = std::all_of(email.begin(), email.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (!ascii || !IsValidAddress(email)) p.push_back(field + ".email: not a valid ASCII address");
    if (!a.contains("name")) return;
    if (!a["name"].is_string()) {
      p.push_back(field + ".name: a string");
      return;
    }
    const std::string name = a["name"].get<std::string>();
    if (!validate::IsValidUtf8(name) || validate::HasControlChars(name, false)) {
      p.push_back(field + ".name: control characters or invalid UTF-8");
    }
    // SendGrid's limitation: such a recipient name must come quoted, else the header it writes is split.
    if (recipient && name.find_first_of("(),:;<>@[]") != std::string::npos && !IsQuotedString(name)) {
      p.push_back(field + ".name: holds , ; or another special character without being a quoted-string");
    }
  }

  static bool IsQuotedString(const std::string& s) {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] == '\\') {
        ++i;
        if (i + 1 >= s.size()) return false;
      } else if (s[i] == '"') {
        return false;
      }
    }
    return true;
  }

  static void CheckContent(const nlohmann::json& body, std::vector<std::string>& p) {
    if (!body.contains("content") || !body["content"].is_array() || body["content"].empty()) {
      p.push_back("content: required, at least one item");
      return;
    }
    const auto& content = body["content"];
    std::set<std::string> types;
    for (std::size_t i = 0; i < content.size(); ++i) {
      const std::string field = "content[" + std::to_string(i) + "]";
      const auto& c = content[i];
      if (!c.is_object() || !c.contains("type") || !c["type"].is_string() || !c.contains("value") ||
          !c["value"].is_string()) {
        p.push_back(field + ": an object with type and value strings");
        continue;
      }
      const std::string type = c["type"].get<std::string>();
      if (c["value"].get<std::string>().empty()) p.push_back(field + ".value: at least one character");
      if (!types.insert(type).second) p.push_back(field + ".type: repeated");
      if (type == "text/plain" && i != 0) p.push_back(field + ": text/plain must come first");
      if (type != "text/plain" && type != "text/html") p.push_back(field + ".type: unexpected " + type);
    }
  }

  static void CheckAttachments(const nlohmann::json& body, std::vector<std::string>& p) {
    if (!body.contains("attachments")) return;
    const auto& list = body["attachments"];
    if (!list.is_array() || list.empty()) {
      p.push_back("attachments: an array of at least one");
      return;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string field = "attachments[" + std::to_string(i) + "]";
      const auto& a = list[i];
      if (!a.is_object()) {
        p.push_back(field + ": an object");
        continue;
      }
      for (const auto& [key, value] : a.items()) {
        if (key != "content" && key != "type" && key != "filename" && key != "disposition" && key != "content_id") {
          p.push_back(field + "." + key + ": not an attachment field");
        } else if (!value.is_string()) {
          p.push_back(field + "." + key + ": a string");
        }
      }
      if (!a.contains("content") || !a["content"].is_string() ||
          !crypto::Base64Decode(a["content"].get<std::string>())) {
        p.push_back(field + ".content: required, base64");
      }
      if (!a.contains("filename") || !a["filename"].is_string() || a["filename"].get<std::string>().empty()) {
        p.push_back(field + ".filename: required");
      }
      const std::string disposition = a.contains("disposition") && a["disposition"].is_string()
                                          ? a["disposition"].get<std::string>()
                                          : "attachment";
      if (disposition != "inline" && disposition != "attachment")
        p.push_back(field + ".disposition: inline or attachment");
      if (disposition == "inline" && (!a.contains("content_id") || !a["content_id"].is_string())) {
        p.push_back(field + ".content_id: required for an inline attachment");
      }
    }
  }

  static void CheckHeaders(const nlohmann::json& body, std::vector<std::string>& p) {
    if (!body.contains("headers")) return;
    if (!body["headers"].is_object()) {
      p.push_back("headers: an object");
      return;
    }
    static const std::set<std::string> kReserved = {
        "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding",
        "to",      "from",     "subject",  "reply-to",       "cc",           "bcc"};
    for (const auto& [name, value] : body["headers"].items()) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      if (kReserved.contains(lower)) p.push_back("headers." + name + ": a reserved header");
      if (!value.is_string()) {
        p.push_back("headers." + name + ": a string");
        continue;
      }
      const std::string v = value.get<std::string>();
      if (!std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
        p.push_back("headers." + name + ": not printable ASCII (encode it)");
      }
    }
  }

  net::testing::ScriptedResponse Answer(const net::testing::ReceivedRequest& r) {
    using net::testing::ScriptedResponse;
    const auto auth = r.headers.find("authorization");
    if (auth == r.headers.end() || auth->second != "Bearer " + api_key_) {
      Record({"authorization: not Bearer with the API key"});
      return {401, Errors({"The provided authorization grant is invalid, expired, or revoked"}).dump()};
    }
    if (r.method == "GET" && r.target == "/v3/scopes") return {200, nlohmann::json({{"scopes", scopes_}}).dump()};
    if (r.method != "POST" || r.target != "/v3/mail/send") {
      Record({r.method + " " + r.target + ": not a SendGrid endpoint"});
      return {404, Errors({"not found"}).dump()};
    }
    const auto type = r.headers.find("content-type");
    if (type == r.headers.end() || type->second.rfind("application/json", 0) != 0) {
      Record({"content-type: not application/json"});
      return {415, Errors({"Content-Type should be application/json."}).dump()};
    }
    const auto body = nlohmann::json::parse(r.body, nullptr, false);
    std::vector<std::string> problems =
        body.is_discarded() ? std::vector<std::string>{"body: not JSON"} : CheckMailBody(body);
    if (!problems.empty()) {
      Record(problems);
      return {400, Errors(problems).dump()};
    }
    std::lock_guard lock(mu_);
    if (!forced_.empty()) {
      ScriptedResponse forced = std::move(forced_.front());
      forced_.erase(forced_.begin());
      return forced;
    }
    accepted_.push_back(body);
    return {202, "", {{"X-Message-Id", "sg-" + std::to_string(accepted_.size()) + "-AbC_dEf"}}};
  }

  void Record(const std::vector<std::string>& problems) {
    std::lock_guard lock(mu_);
    problems_.insert(problems_.end(), problems.begin(), problems.end());
  }

  std::string api_key_;
  std::vector<std::string> scopes_;
  std::mutex mu_;
  std::vector<net::testing::ScriptedResponse> forced_;
  std::vector<nlohmann::json> accepted_;
  std::vector<std::string> problems_;
  net::testing::HttpReceiver receiver_;  // last: its thread stops before the members it uses go
};

}  // namespace poste::mail::testing
