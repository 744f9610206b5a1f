#include "lib/mail/sns.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>

#include "lib/crypto/encoding.hpp"
#include "lib/mail/address.hpp"
#include "lib/mail/sigv4.hpp"
#include "lib/net/http_url.hpp"
#include "lib/net/target_policy.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {

namespace {

constexpr std::size_t kMaxFieldBytes = 2048;  // URLs, ARNs, ids
constexpr std::size_t kMaxDetailBytes = 1000;
constexpr int kMaxDepth = 8;

// The JSON of outside text with a bound on nesting; discarded when malformed or too deep.
nlohmann::json ParseBounded(std::string_view text, int max_depth) {
  bool too_deep = false;
  auto json = nlohmann::json::parse(
      text,
      [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > max_depth) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep) return nlohmann::json(nlohmann::json::value_t::discarded);
  return json;
}

// One line of valid UTF-8 at most max_bytes (control characters become spaces); empty when not a string.
std::string Clean(const nlohmann::json* value, std::size_t max_bytes) {
  if (!value || !value->is_string()) return {};
  const auto& text = value->get_ref<const std::string&>();
  if (!validate::IsValidUtf8(text)) return {};
  std::string out(validate::Utf8Prefix(text, max_bytes));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

const nlohmann::json* Find(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

std::string StripBrackets(std::string id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  return id;
}

// A recipient as SES gives it: an address, or "Name <address>".
std::string RecipientAddress(const nlohmann::json* value) {
  auto text = Clean(value, 320 + 200);
  if (IsValidAddress(text)) return text;
  const auto open = text.rfind('<');
  const auto close = text.rfind('>');
  if (open != std::string::npos && close == text.size() - 1 && close > open) {
    auto inner = text.substr(open + 1, close - open - 1);
    if (IsValidAddress(inner)) return inner;
  }
  return {};
}

bool IsAwsSnsHost(std::string_view host) {
  constexpr std::string_view kPrefix = "sns.";
  for (std::string_view suffix : {std::string_view(".amazonaws.com"), std::string_view(".amazonaws.com.cn")}) {
    if (host.size() > kPrefix.size() + suffix.size() && host.substr(0, kPrefix.size()) == kPrefix &&
        host.substr(host.size() - suffix.size()) == suffix) {
      return IsValidAwsRegion(host.substr(kPrefix.size(), host.size() - kPrefix.size() - suffix.size()));
    }
  }
  return false;
}

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

int DigitsAt(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::optional<SnsMessage> ParseSnsMessage(std::string_view body, std::string* why) {
  const auto fail = [&](std::string reason) -> std::optional<SnsMessage> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  if (body.size() > kMaxSnsBodyBytes) return fail("the body is too large");
  const auto json = ParseBounded(body, 1);
  if (json.is_discarded()) return fail("not JSON (or nested)");
  if (!json.is_object()) return fail("not a JSON object");
  const auto text = [&](const char* name, bool required, std::string& into, bool free_text) -> bool {
    const auto* value = Find(json, name);
    if (!value) {
      if (required) return fail(std::string(name) + " is missing"), false;
      return true;
    }
    if (!value->is_string()) return fail(std::string(name) + " is not a string"), false;
    const auto& s = value->get_ref<const std::string&>();
    if (!validate::IsValidUtf8(s)) return fail(std::string(name) + " is not UTF-8"), false;
    if (!free_text && (s.size() > kMaxFieldBytes || validate::HasControlChars(s, false))) {
      return fail(std::string(name) + " is malformed"), false;
    }
    into = s;
    return true;
  };
  SnsMessage m;
  if (!text("Type", true, m.type, false)) return std::nullopt;
  const bool notification = m.type == "Notification";
  if (!notification && m.type != "SubscriptionConfirmation" && m.type != "UnsubscribeConfirmation") {
    return fail("unknown Type");
  }
  if (!text("MessageId", true, m.message_id, false) || !text("TopicArn", true, m.topic_arn, false) ||
      !text("Message", true, m.message, true) || !text("Timestamp", true, m.timestamp, false) ||
      !text("SignatureVersion", true, m.signature_version, false) || !text("Signature", true, m.signature, false) ||
      !text("SigningCertURL", true, m.signing_cert_url, false)) {
    return std::nullopt;
  }
  if (m.signature_version != "1" && m.signature_version != "2") return fail("unknown SignatureVersion");
  if (notification) {
    if (const auto* subject = Find(json, "Subject"); subject && !subject->is_null()) {
      std::string s;
      if (!text("Subject", false, s, true)) return std::nullopt;
      m.subject = std::move(s);
    }
  } else if (!text("Token", true, m.token, false) || !text("SubscribeURL", true, m.subscribe_url, false)) {
    return std::nullopt;
  }
  return m;
}

std::string SnsStringToSign(const SnsMessage& m) {
  std::string out;
  const auto add = [&](std::string_view key, std::string_view value) {
    out.append(key).append("\n").append(value).append("\n");
  };
  add("Message", m.message);
  add("MessageId", m.message_id);
  if (m.type == "Notification") {
    if (m.subject) add("Subject", *m.subject);
    add("Timestamp", m.timestamp);
    add("TopicArn", m.topic_arn);
    add("Type", m.type);
  } else {
    add("SubscribeURL", m.subscribe_url);
    add("Timestamp", m.timestamp);
    add("Token", m.token);
    add("TopicArn", m.topic_arn);
    add("Type", m.type);
  }
  return out;
}

bool VerifySnsSignature(const SnsMessage& message, std::string_view certificate_pem, std::int64_t now_unix) {
  if (certificate_pem.empty() || certificate_pem.size() > 64 * 1024) return false;
  const EVP_MD* md = message.signature_version == "1"   ? EVP_sha1()
                     : message.signature_version == "2" ? EVP_sha256()
                                                        : nullptr;
  if (!md) return false;
  auto signature = crypto::Base64Decode(message.signature);
  if (!signature || signature->empty()) return false;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  if (!bio) return false;
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return false;
  time_t now = static_cast<time_t>(now_unix);
  if (X509_cmp_time(X509_get0_notBefore(cert.get()), &now) > 0 ||
      X509_cmp_time(X509_get0_notAfter(cert.get()), &now) < 0) {
    return false;
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> key(X509_get_pubkey(cert.get()));
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get()) != 1) return false;
  const auto signed_text = SnsStringToSign(message);
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
                          reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size()) == 1;
}

bool IsValidSnsHostEntry(std::string_view entry) {
  if (entry.empty() || entry.size() > 300) return false;
  std::string_view host = entry;
  // "host:port" (an IPv6 literal goes in brackets: "[::1]:8443").
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    const auto rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!rest.empty() && (rest[0] != ':' || DigitsAt(rest, 1, rest.size() - 1) <= 0 || rest.size() > 6)) return false;
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    const auto port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5 || DigitsAt(port, 0, port.size()) <= 0 ||
        DigitsAt(port, 0, port.size()) > 65535) {
      return false;
    }
    host = host.substr(0, colon);
  }
  if (host.find('/') != std::string_view::npos) return false;
  return !host.empty() && net::TargetPolicy::IsValidEntry(host);
}

bool SnsUrlAllowed(std::string_view url, const std::vector<std::string>& extra_hosts) {
  auto parsed = net::ParseHttpUrl(url);
  if (!parsed) return false;
  const bool v6 = parsed->host.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + parsed->host + "]" : parsed->host;
  const std::string host_port = host + ":" + std::to_string(parsed->port);
  for (const auto& extra : extra_hosts) {
    const std::string lowered = validate::ascii::ToLower(extra);
    if (lowered == host || lowered == host_port) return true;
  }
  return parsed->scheme == "https" && parsed->port == 443 && !parsed->host_is_ip && IsAwsSnsHost(parsed->host);
}

std::optional<std::vector<SesEvent>> ParseSesNotification(std::string_view message, std::string* why) {
  const auto fail = [&](const char* reason) -> std::optional<std::vector<SesEvent>> {
    if (why) *why = reason;
    return std::nullopt;
  };
  const auto json = ParseBounded(message, kMaxDepth);
  if (json.is_discarded()) return fail("not JSON (or nested too deeply)");
  if (!json.is_object()) return fail("not a JSON object");
  auto type = Clean(Find(json, "notificationType"), 64);
  if (type.empty()) type = Clean(Find(json, "eventType"), 64);
  if (type.empty()) return fail("neither notificationType nor eventType");
  const auto* mail = Find(json, "mail");
  if (!mail || !mail->is_object()) return fail("no mail object");
  SesEvent base;
  base.ses_message_id = Clean(Find(*mail, "messageId"), 256);
  if (const auto* headers = Find(*mail, "commonHeaders")) {
    base.header_message_id = StripBrackets(Clean(Find(*headers, "messageId"), 256));
  }
  std::vector<SesEvent> events;
  const auto each_recipient = [&](const nlohmann::json& list, auto&& fill) {
    if (!list.is_array()) return;
    for (const auto& r : list) {
      if (events.size() >= kMaxSesRecipients) return;
      if (!r.is_object()) continue;
      SesEvent e = base;
      e.email = RecipientAddress(Find(r, "emailAddress"));
      if (e.email.empty()) continue;
      fill(e, r);
      events.push_back(std::move(e));
    }
  };
  if (type == "Bounce") {
    const auto* bounce = Find(json, "bounce");
    if (!bounce || !bounce->is_object()) return fail("no bounce object");
    const auto bounce_type = Clean(Find(*bounce, "bounceType"), 64);
    base.kind = bounce_type == "Permanent"   ? SesEventKind::kPermanentBounce
                : bounce_type == "Transient" ? SesEventKind::kTransientBounce
                                             : SesEventKind::kUndeterminedBounce;
    base.feedback_id = Clean(Find(*bounce, "feedbackId"), 256);
    base.occurred_at_ms = ParseIsoTimestampMs(Clean(Find(*bounce, "timestamp"), 64)).value_or(0);
    const auto sub_type = Clean(Find(*bounce, "bounceSubType"), 64);
    const auto* list = Find(*bounce, "bouncedRecipients");
    if (!list) return fail("no bouncedRecipients");
    each_recipient(*list, [&](SesEvent& e, const nlohmann::json& r) {
      e.status = Clean(Find(r, "status"), 32);
      e.detail = Clean(Find(r, "diagnosticCode"), kMaxDetailBytes);
      if (e.detail.empty()) e.detail = bounce_type + (sub_type.empty() ? "" : " / " + sub_type);
    });
  } else if (type == "Complaint") {
    const auto* complaint = Find(json, "complaint");
    if (!complaint || !complaint->is_object()) return fail("no complaint object");
    base.kind = SesEventKind::kComplaint;
    base.feedback_id = Clean(Find(*complaint, "feedbackId"), 256);
    base.occurred_at_ms = ParseIsoTimestampMs(Clean(Find(*complaint, "timestamp"), 64)).value_or(0);
    const auto feedback = Clean(Find(*complaint, "complaintFeedbackType"), 64);
    const auto* list = Find(*complaint, "complainedRecipients");
    if (!list) return fail("no complainedRecipients");
    each_recipient(*list,
                   [&](SesEvent& e, const nlohmann::json&) { e.detail = feedback.empty() ? "complaint" : feedback; });
  }
  return events;
}

std::optional<std::int64_t> ParseIsoTimestampMs(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+hh:mm|-hh:mm)
  if (s.size() < 20 || s.size() > 40) return std::nullopt;
  const int year = DigitsAt(s, 0, 4), month = DigitsAt(s, 5, 2), day = DigitsAt(s, 8, 2);
  const int hour = DigitsAt(s, 11, 2), minute = DigitsAt(s, 14, 2), second = DigitsAt(s, 17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int d = digits; d < 3; ++d) millis *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (pos == s.size() - 1 && (s[pos] == 'Z' || s[pos] == 'z')) {
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    const int oh = DigitsAt(s, pos + 1, 2), om = DigitsAt(s, pos + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  const std::int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

}  // namespace poste::mail
