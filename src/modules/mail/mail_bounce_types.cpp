#include "modules/mail/mail_bounce_types.hpp"

#include <nlohmann/json.hpp>

namespace poste::mail {

namespace {

nlohmann::json OrNull(const std::optional<std::int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

std::string_view BounceKindName(BounceKind kind) {
  switch (kind) {
    case BounceKind::kHard:
      return "hard";
    case BounceKind::kSoft:
      return "soft";
    case BounceKind::kComplaint:
      return "complaint";
  }
  return "soft";
}

std::optional<BounceKind> ParseBounceKind(std::string_view name) {
  if (name == "hard") return BounceKind::kHard;
  if (name == "soft") return BounceKind::kSoft;
  if (name == "complaint") return BounceKind::kComplaint;
  return std::nullopt;
}

bool IsBounceSource(std::string_view source) { return source == "dsn" || source == "sendgrid" || source == "ses"; }

nlohmann::json ToJson(const BounceRecord& b) {
  return {{"id", b.id},
          {"email", b.email},
          {"kind", BounceKindName(b.kind)},
          {"source", b.source},
          {"message_id", OrNull(b.message_id)},
          {"campaign_id", OrNull(b.campaign_id)},
          {"recipient_id", OrNull(b.recipient_id)},
          {"status", b.status},
          {"detail", b.detail},
          {"occurred_at", b.occurred_at},
          {"created_at", b.created_at}};
}

nlohmann::json ToJson(const BounceMailbox& m) {
  return {{"inbox_account_id", m.inbox_account_id}, {"created_at", m.created_at}, {"updated_at", m.updated_at}};
}

std::string CutUtf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut));
}

}  // namespace poste::mail
