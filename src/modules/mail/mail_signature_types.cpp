#include "modules/mail/mail_signature_types.hpp"

#include <nlohmann/json.hpp>

#include "lib/validate/text.hpp"

namespace poste::mail {

namespace {

void CheckVersion(std::string_view value, const char* field, std::vector<FieldError>& errors) {
  if (value.size() > kMaxSignatureBytes) {
    errors.push_back({field, "too_long", "at most " + std::to_string(kMaxSignatureBytes) + " bytes"});
  } else if (!validate::IsValidUtf8(value)) {
    errors.push_back({field, "invalid_utf8", "must be valid UTF-8"});
  } else if (validate::HasControlChars(value, true)) {
    errors.push_back({field, "invalid_characters", "holds control characters"});
  }
}

}  // namespace

SignatureInput SignatureInputFromJson(const nlohmann::json& json, std::vector<FieldError>& errors) {
  SignatureInput out;
  for (auto [name, into] : {std::pair{"html", &out.html}, {"text", &out.text}}) {
    auto it = json.find(name);
    if (it == json.end() || it->is_null()) continue;
    if (!it->is_string()) {
      errors.push_back({name, "invalid_type", "must be a string"});
      continue;
    }
    *into = it->get<std::string>();
  }
  return out;
}

std::vector<FieldError> Validate(const SignatureInput& input) {
  std::vector<FieldError> errors;
  CheckVersion(input.html, "html", errors);
  CheckVersion(input.text, "text", errors);
  return errors;
}

nlohmann::json ToJson(const std::optional<MailSignature>& s) {
  if (!s) {
    return {{"set", false}, {"html", ""}, {"text", ""}, {"created_at", nullptr}, {"updated_at", nullptr}};
  }
  return {{"set", true},
          {"html", s->html},
          {"text", s->text},
          {"created_at", s->created_at},
          {"updated_at", s->updated_at}};
}

}  // namespace poste::mail
