#include "lib/mail/sendgrid_events.hpp"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "lib/crypto/encoding.hpp"
#include "lib/mail/address.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {

namespace {

constexpr std::size_t kMaxFieldBytes = 1000;
constexpr int kMaxDepth = 3;  // the array, an event, a value such as "category": [...]

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The P-256 public key of a base64 DER SubjectPublicKeyInfo, or null.
Pkey LoadKey(std::string_view key_base64) {
  if (key_base64.empty() || key_base64.size() > kMaxSendGridKeyBytes) return nullptr;
  auto der = crypto::Base64Decode(key_base64);
  if (!der || der->empty()) return nullptr;
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())));
  if (!key || p != reinterpret_cast<const unsigned char*>(der->data()) + der->size()) return nullptr;
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC) return nullptr;
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_group_name(key.get(), group, sizeof group, &len) != 1) return nullptr;
  if (std::string_view(group, len) != "prime256v1" && std::string_view(group, len) != "P-256") return nullptr;
  return key;
}

// One line of valid UTF-8, at most kMaxFieldBytes: control characters (CR/LF too) become spaces.
std::string Clean(const nlohmann::json& value) {
  if (!value.is_string()) return {};
  const auto& text = value.get_ref<const std::string&>();
  if (!validate::IsValidUtf8(text)) return {};
  std::string out(validate::Utf8Prefix(text, kMaxFieldBytes));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string Field(const nlohmann::json& event, const char* name) {
  auto it = event.find(name);
  return it == event.end() ? std::string() : Clean(*it);
}

}  // namespace

bool IsSendGridVerificationKey(std::string_view key_base64) { return LoadKey(key_base64) != nullptr; }

bool VerifySendGridSignature(std::string_view key_base64, std::string_view signature_base64, std::string_view timestamp,
                             std::string_view body) {
  auto key = LoadKey(key_base64);
  if (!key || signature_base64.empty() || signature_base64.size() > 512) return false;
  auto signature = crypto::Base64Decode(signature_base64);
  if (!signature || signature->empty()) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) return false;
  if (EVP_DigestVerifyUpdate(ctx.get(), timestamp.data(), timestamp.size()) != 1 ||
      EVP_DigestVerifyUpdate(ctx.get(), body.data(), body.size()) != 1) {
    return false;
  }
  return EVP_DigestVerifyFinal(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                               signature->size()) == 1;
}

std::optional<std::vector<SendGridEvent>> ParseSendGridEvents(std::string_view body, std::string* why) {
  const auto fail = [&](const char* reason) -> std::optional<std::vector<SendGridEvent>> {
    if (why) *why = reason;
    return std::nullopt;
  };
  bool too_deep = false;
  nlohmann::json json = nlohmann::json::parse(
      body,
      [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > kMaxDepth) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep) return fail("nested too deeply");
  if (json.is_discarded()) return fail("not JSON");
  if (!json.is_array()) return fail("not a JSON array");
  if (json.size() > kMaxSendGridEvents) return fail("too many events");
  std::vector<SendGridEvent> events;
  events.reserve(json.size());
  for (const auto& item : json) {
    if (!item.is_object()) continue;
    SendGridEvent e;
    e.event = Field(item, "event");
    e.email = Field(item, "email");
    if (e.event.empty() || !IsValidAddress(e.email)) continue;
    e.type = Field(item, "type");
    e.reason = Field(item, "reason");
    e.status = Field(item, "status");
    e.sg_event_id = Field(item, "sg_event_id");
    e.sg_message_id = Field(item, "sg_message_id");
    e.smtp_id = Field(item, "smtp-id");
    if (auto ts = item.find("timestamp"); ts != item.end() && ts->is_number_integer()) {
      const auto seconds = ts->get<std::int64_t>();
      if (seconds > 0 && seconds < 32503680000) e.timestamp = seconds;  // before year 3000
    }
    events.push_back(std::move(e));
  }
  return events;
}

std::string SendGridMessageIdPrefix(std::string_view sg_message_id) {
  return std::string(sg_message_id.substr(0, sg_message_id.find('.')));
}

}  // namespace poste::mail
