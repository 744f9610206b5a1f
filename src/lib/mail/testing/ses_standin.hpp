#pragma once
// For tests only (header-only, never linked into the server): Amazon SES API v2 on a loopback port. Every
// request's AWS Signature V4 is recomputed from what arrived (method, path, query, the signed headers'
// values, the body) with the known secret: an unknown key id is refused like AWS does (403
// UnrecognizedClientException), a wrong scope, a time more than 5 minutes off or a signature that differs
// with 403 InvalidSignatureException / SignatureDoesNotMatch. SendEmail (POST /v2/email/outbound-emails)
// must be JSON with Content.Raw.Data in strict base64 decoding to a MIME message (headers, blank line,
// CRLF), a Destination of 1 to 50 ASCII addresses, a verified FromEmailAddress and no unknown field;
// it answers {"MessageId"} and records the decoded bytes, or the next forced answer (faults).
// GetAccount (GET /v2/email/account) answers an account in production.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/mail/address.hpp"
#include "lib/mail/sigv4.hpp"
#include "lib/net/testing/http_receiver.hpp"

namespace poste::mail::testing {

struct SesSent {
  nlohmann::json request;  // the SendEmail body
  std::string raw;         // Content.Raw.Data decoded
  std::string message_id;  // what the stand-in answered
};

class SesStandIn {
 public:
  SesStandIn(SigV4Credentials credentials, std::string region, std::vector<std::string> verified_identities)
      : credentials_(std::move(credentials)), region_(std::move(region)), verified_(std::move(verified_identities)) {
    receiver_.Handle([this](const net::testing::ReceivedRequest& r) { return Answer(r); });
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(receiver_.port()); }
  net::testing::HttpReceiver& receiver() { return receiver_; }
  void AddConfigurationSet(std::string name) {
    std::lock_guard lock(mu_);
    configuration_sets_.insert(std::move(name));
  }
  void ForceNext(std::vector<net::testing::ScriptedResponse> answers) {
    std::lock_guard lock(mu_);
    for (auto& a : answers) forced_.push_back(std::move(a));
  }
  std::vector<SesSent> Sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }
  std::vector<std::string> Problems() {
    std::lock_guard lock(mu_);
    return problems_;
  }

  // AWS's JSON error: the type in X-Amzn-ErrorType and the text in "message".
  static net::testing::ScriptedResponse Error(int status, const std::string& type, const std::string& message) {
    return {status,
            nlohmann::json({{"message", message}}).dump(),
            {{"x-amzn-ErrorType", type + ":http://internal.amazon.com/coral/com.amazonaws.sesv2/"},
             {"Content-Type", "application/json"}}};
  }

 private:
  using Response = net::testing::ScriptedResponse;

  // Parses the Authorization header and recomputes the signature; empty when it verifies, else the error.
  std::optional<Response> CheckSignature(const net::testing::ReceivedRequest& r) {
    auto header = [&](const std::string& name) {
      auto it = r.headers.find(name);
      return it == r.headers.end() ? std::string() : it->second;
    };
    const std::string auth = header("authorization");
    const std::string prefix = "AWS4-HMAC-SHA256 Credential=";
    if (auth.rfind(prefix, 0) != 0)
      return Fail(403, "IncompleteSignatureException", "Authorization header requires 'Credential' parameter.");
    const auto signed_at = auth.find(", SignedHeaders=");
    const auto signature_at = auth.find(", Signature=");
    if (signed_at == std::string::npos || signature_at == std::string::npos || signature_at < signed_at) {
      return Fail(403, "IncompleteSignatureException",
                  "Authorization header requires 'SignedHeaders' and 'Signature'.");
    }
    const std::string credential = auth.substr(prefix.size(), signed_at - prefix.size());
    const std::string signed_headers = auth.substr(signed_at + 16, signature_at - signed_at - 16);
    // Credential=AKID/20150830/us-east-1/ses/aws4_request
    std::vector<std::string> scope;
    for (std::size_t start = 0;;) {
      auto slash = credential.find('/', start);
      scope.push_back(credential.substr(start, slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    if (scope.size() != 5) return Fail(403, "IncompleteSignatureException", "Credential is malformed.");
    if (scope[0] != credentials_.access_key_id) {
      return Fail(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    }
    const std::string amz_date = header("x-amz-date");
    std::tm tm{};
    if (amz_date.size() != 16 || strptime(amz_date.c_str(), "%Y%m%dT%H%M%SZ", &tm) == nullptr) {
      return Fail(403, "IncompleteSignatureException", "X-Amz-Date is missing or malformed.");
    }
    const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
    const auto skew = std::chrono::abs(std::chrono::system_clock::now() - when);
    if (skew > std::chrono::minutes(5)) {
      return Fail(403, "InvalidSignatureException",
                  "Signature expired: " + amz_date + " is now earlier or later than allowed.");
    }
    if (scope[1] != amz_date.substr(0, 8) || scope[2] != region_ || scope[3] != "ses" || scope[4] != "aws4_request") {
      return Fail(403, "InvalidSignatureException",
                  "Credential should be scoped to a valid date, region " + region_ + " and service ses.");
    }
    // What was signed must include the host and the date.
    std::vector<std::string> names;
    for (std::size_t start = 0;;) {
      auto semi = signed_headers.find(';', start);
      names.push_back(signed_headers.substr(start, semi - start));
      if (semi == std::string::npos) break;
      start = semi + 1;
    }
    if (std::find(names.begin(), names.end(), "host") == names.end() ||
        std::find(names.begin(), names.end(), "x-amz-date") == names.end()) {
      return Fail(403, "InvalidSignatureException", "SignedHeaders must include host and x-amz-date.");
    }
    if (r.method == "POST" && std::find(names.begin(), names.end(), "content-type") == names.end()) {
      return Fail(403, "InvalidSignatureException", "SignedHeaders should include content-type.");
    }
    SigV4Request again{r.method, "http://" + header("host") + r.target, {}, r.body};
    for (const auto& name : names) {
      if (!r.headers.contains(name))
        return Fail(403, "InvalidSignatureException", "Signed header " + name + " is missing.");
      again.headers.emplace_back(name, header(name));
    }
    const SigV4Signature expected = SignV4(again, credentials_, region_, "ses", when);
    if (!crypto::ConstantTimeEquals(expected.authorization, auth)) {
      return Fail(403, "SignatureDoesNotMatch",
                  "The request signature we calculated does not match the signature you provided. Check your AWS "
                  "Secret Access Key and signing method.");
    }
    return std::nullopt;
  }

  std::optional<Response> Fail(int status, const std::string& type, const std::string& message) {
    Record(type + ": " + message);
    return Error(status, type, message);
  }

  Response Answer(const net::testing::ReceivedRequest& r) {
    if (auto refused = CheckSignature(r)) return *refused;
    if (r.method == "GET" && r.target == "/v2/email/account") {
      return {200, R"({"DedicatedIpAutoWarmupEnabled":false,"EnforcementStatus":"HEALTHY",)"
                   R"("ProductionAccessEnabled":true,"SendQuota":{"Max24HourSend":50000.0,"MaxSendRate":14.0,)"
                   R"("SentLast24Hours":12.0},"SendingEnabled":true,"SuppressionAttributes":{}})"};
    }
    if (r.method != "POST" || r.target != "/v2/email/outbound-emails") {
      return *Fail(404, "NotFoundException", r.method + " " + r.target + " is not an SES v2 operation here.");
    }
    auto type = r.headers.find("content-type");
    if (type == r.headers.end() || type->second.rfind("application/json", 0) != 0) {
      return *Fail(400, "BadRequestException", "Content-Type must be application/json.");
    }
    const auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (!body.is_object()) return *Fail(400, "BadRequestException", "The body is not a JSON object.");
    static const std::set<std::string> kFields = {"FromEmailAddress",
                                                  "FromEmailAddressIdentityArn",
                                                  "Destination",
                                                  "ReplyToAddresses",
                                                  "FeedbackForwardingEmailAddress",
                                                  "FeedbackForwardingEmailAddressIdentityArn",
                                                  "Content",
                                                  "EmailTags",
                                                  "ConfigurationSetName",
                                                  "ListManagementOptions"};
    for (const auto& [key, value] : body.items()) {
      if (!kFields.contains(key)) return *Fail(400, "BadRequestException", key + " is not a SendEmail field.");
    }
    if (!body.contains("Content") || !body["Content"].is_object() || !body["Content"].contains("Raw") ||
        body["Content"].size() != 1 || !body["Content"]["Raw"].is_object() ||
        !body["Content"]["Raw"].contains("Data") || !body["Content"]["Raw"]["Data"].is_string()) {
      return *Fail(400, "BadRequestException", "Content must hold Raw.Data only.");
    }
    auto raw = crypto::Base64Decode(body["Content"]["Raw"]["Data"].get<std::string>());
    if (!raw || raw->empty()) return *Fail(400, "BadRequestException", "Raw.Data is not base64.");
    const auto head_end = raw->find("\r\n\r\n");
    const bool has_from =
        head_end != std::string::npos && (raw->rfind("From: ", 0) == 0 || raw->find("\r\nFrom: ") < head_end);
    if (!has_from) {
      return *Fail(400, "MessageRejected", "Illegal header or message: no From header or no end of headers.");
    }
    for (std::size_t i = 0; i < raw->size(); ++i) {
      if ((*raw)[i] == '\n' && (i == 0 || (*raw)[i - 1] != '\r')) {
        return *Fail(400, "MessageRejected", "The raw message has a bare LF.");
      }
    }
    std::size_t recipients = 0;
    if (!body.contains("Destination") || !body["Destination"].is_object()) {
      return *Fail(400, "BadRequestException", "Destination is required with raw content here.");
    }
    for (const auto& [key, list] : body["Destination"].items()) {
      if (key != "ToAddresses" && key != "CcAddresses" && key != "BccAddresses") {
        return *Fail(400, "BadRequestException", "Destination." + key + " is not a field.");
      }
      if (!list.is_array()) return *Fail(400, "BadRequestException", "Destination." + key + " is not a list.");
      for (const auto& address : list) {
        const std::string a = address.is_string() ? address.get<std::string>() : "";
        if (!IsValidAddress(a) || !std::all_of(a.begin(), a.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
          return *Fail(400, "BadRequestException", "Illegal address in Destination." + key + ".");
        }
        ++recipients;
      }
    }
    if (recipients == 0) return *Fail(400, "BadRequestException", "Destination has no address.");
    if (recipients > 50) return *Fail(400, "MessageRejected", "Recipient count exceeds 50.");
    const std::string from = body.contains("FromEmailAddress") && body["FromEmailAddress"].is_string()
                                 ? body["FromEmailAddress"].get<std::string>()
                                 : std::string();
    if (from.empty() || !Verified(from)) {
      return *Fail(400, "MessageRejected",
                   "Email address is not verified. The following identities failed the check in region " + region_ +
                       ": " + from);
    }
    if (body.contains("FeedbackForwardingEmailAddress") &&
        (!body["FeedbackForwardingEmailAddress"].is_string() ||
         !Verified(body["FeedbackForwardingEmailAddress"].get<std::string>()))) {
      return *Fail(400, "MessageRejected", "FeedbackForwardingEmailAddress is not verified.");
    }
    std::lock_guard lock(mu_);
    if (body.contains("ConfigurationSetName") &&
        (!body["ConfigurationSetName"].is_string() ||
         !configuration_sets_.contains(body["ConfigurationSetName"].get<std::string>()))) {
      problems_.push_back("ConfigurationSetName: unknown");
      return Error(404, "NotFoundException", "Configuration set does not exist.");
    }
    if (!forced_.empty()) {
      Response forced = std::move(forced_.front());
      forced_.erase(forced_.begin());
      return forced;
    }
    std::string id = "0100018c" + crypto::HexEncode(std::to_string(sent_.size() + 1)) + "-ses-000000";
    sent_.push_back({body, *raw, id});
    return {200, nlohmann::json({{"MessageId", id}}).dump(), {{"Content-Type", "application/json"}}};
  }

  // An address is verified when it or its domain is an identity.
  bool Verified(const std::string& address) const {
    const auto at = address.rfind('@');
    const std::string domain = at == std::string::npos ? "" : address.substr(at + 1);
    return std::any_of(verified_.begin(), verified_.end(),
                       [&](const std::string& v) { return v == address || v == domain; });
  }

  void Record(const std::string& problem) {
    std::lock_guard lock(mu_);
    problems_.push_back(problem);
  }

  SigV4Credentials credentials_;
  std::string region_;
  std::vector<std::string> verified_;
  std::mutex mu_;
  std::set<std::string> configuration_sets_;
  std::vector<Response> forced_;
  std::vector<SesSent> sent_;
  std::vector<std::string> problems_;
  net::testing::HttpReceiver receiver_;  // last: its thread stops before the members it uses go
};

}  // namespace poste::mail::testing
