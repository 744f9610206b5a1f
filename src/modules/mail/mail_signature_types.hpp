#pragma once
// Signatures: one per user and site, an HTML and a text version, stored exactly as given (nothing is
// sanitised silently); what cannot be stored faithfully is refused instead. Storage: mail_signature_store.hpp.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/error.hpp"

namespace poste::mail {

inline constexpr std::size_t kMaxSignatureBytes = 64 * 1024;  // per version

struct MailSignature {
  std::int64_t site_id = 0;
  std::int64_t user_id = 0;
  std::string html;
  std::string text;
  std::int64_t created_at = 0;  // epoch ms
  std::int64_t updated_at = 0;
};

// What PUT sets: both versions (an absent one is empty).
struct SignatureInput {
  std::string html;
  std::string text;
};

// Reads {"html"?, "text"?}; a field of the wrong type is an error in `errors`; unknown fields are ignored.
SignatureInput SignatureInputFromJson(const nlohmann::json& json, std::vector<FieldError>& errors);

// Each version: at most kMaxSignatureBytes ("too_long"), valid UTF-8 ("invalid_utf8"), no control
// character but CR, LF and TAB ("invalid_characters").
std::vector<FieldError> Validate(const SignatureInput& input);

// {set, html, text, created_at|null, updated_at|null}: `set` false (and empty versions) when the user has none.
nlohmann::json ToJson(const std::optional<MailSignature>& signature);

}  // namespace poste::mail
