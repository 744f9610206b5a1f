#include "modules/mail/mail_template_types.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lib/validate/text.hpp"

namespace poste::mail {

namespace {

void Text(const nlohmann::json& json, const char* name, std::optional<std::string>& into,
          std::vector<FieldError>& errors) {
  auto it = json.find(name);
  if (it == json.end() || it->is_null()) return;
  if (!it->is_string()) return errors.push_back({name, "invalid_type", "must be a string"});
  into = it->get<std::string>();
}

// Valid UTF-8, the allowed control characters, a length: the first problem of the field, if any.
void CheckText(std::string_view value, const char* field, bool multiline, std::size_t max_chars, std::size_t max_bytes,
               std::vector<FieldError>& errors) {
  if (value.size() > max_bytes) {
    errors.push_back({field, "too_long", "at most " + std::to_string(max_bytes) + " bytes"});
  } else if (!validate::IsValidUtf8(value)) {
    errors.push_back({field, "invalid_utf8", "must be valid UTF-8"});
  } else if (validate::HasControlChars(value, multiline)) {
    errors.push_back({field, multiline ? "invalid_characters" : "header_injection",
                      multiline ? "holds control characters" : "must be one line without control characters"});
  } else if (validate::Utf8Length(value) > max_chars) {
    errors.push_back({field, "too_long", "at most " + std::to_string(max_chars) + " characters"});
  }
}

void CheckName(std::string_view name, std::vector<FieldError>& errors) {
  const auto before = errors.size();
  CheckText(name, "name", false, kMaxTemplateNameChars, kMaxTemplateNameChars * 4, errors);
  if (errors.size() == before && name.find_first_not_of(" \t") == std::string_view::npos) {
    errors.push_back({"name", "required", "is required"});
  }
  if (errors.size() > before && errors.back().code == "header_injection") {
    errors.back().code = "invalid_characters";
  }
}

void CheckSubject(std::string_view subject, std::vector<FieldError>& errors) {
  const auto before = errors.size();
  CheckText(subject, "subject", false, kMaxTemplateSubjectBytes, kMaxTemplateSubjectBytes, errors);
  if (errors.size() == before && subject.find_first_not_of(" \t") == std::string_view::npos) {
    errors.push_back({"subject", "required", "is required"});
  }
}

void CheckBody(std::string_view body, const char* field, bool required, std::vector<FieldError>& errors) {
  const auto before = errors.size();
  CheckText(body, field, true, kMaxTemplateBytes, kMaxTemplateBytes, errors);
  if (required && errors.size() == before && body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    errors.push_back({field, "required", "is required"});
  }
}

}  // namespace

NewMailTemplate NewMailTemplateFromJson(const nlohmann::json& json, std::vector<FieldError>& errors) {
  auto patch = MailTemplatePatchFromJson(json, errors);
  for (auto [name, value] : {std::pair{"name", &patch.name}, {"subject", &patch.subject}, {"html", &patch.html}}) {
    const bool wrong_type = std::any_of(errors.begin(), errors.end(), [&](const auto& e) { return e.field == name; });
    if (!*value && !wrong_type) errors.push_back({name, "required", "is required"});
  }
  return {patch.name.value_or(""), patch.description.value_or(""), patch.subject.value_or(""), patch.html.value_or(""),
          patch.text.value_or("")};
}

MailTemplatePatch MailTemplatePatchFromJson(const nlohmann::json& json, std::vector<FieldError>& errors) {
  MailTemplatePatch p;
  Text(json, "name", p.name, errors);
  Text(json, "description", p.description, errors);
  Text(json, "subject", p.subject, errors);
  Text(json, "html", p.html, errors);
  Text(json, "text", p.text, errors);
  return p;
}

std::vector<FieldError> Validate(const NewMailTemplate& t) {
  std::vector<FieldError> errors;
  CheckName(t.name, errors);
  CheckText(t.description, "description", true, kMaxTemplateDescriptionChars, kMaxTemplateDescriptionChars * 4, errors);
  CheckSubject(t.subject, errors);
  CheckBody(t.html, "html", true, errors);
  CheckBody(t.text, "text", false, errors);
  return errors;
}

std::vector<FieldError> Validate(const MailTemplatePatch& p) {
  std::vector<FieldError> errors;
  if (p.name) CheckName(*p.name, errors);
  if (p.description) {
    CheckText(*p.description, "description", true, kMaxTemplateDescriptionChars, kMaxTemplateDescriptionChars * 4,
              errors);
  }
  if (p.subject) CheckSubject(*p.subject, errors);
  if (p.html) CheckBody(*p.html, "html", true, errors);
  if (p.text) CheckBody(*p.text, "text", false, errors);
  return errors;
}

CompiledTemplate CompileChecked(const TemplateSource& source) {
  std::vector<FieldError> errors;
  CheckSubject(source.subject, errors);
  CheckBody(source.html, "html", true, errors);
  CheckBody(source.text, "text", false, errors);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  return CompiledTemplate::Compile(source);
}

std::vector<std::string> VariableNames(const CompiledTemplate& compiled) {
  std::vector<std::string> out;
  for (const auto& v : compiled.Variables()) {
    if (std::find(out.begin(), out.end(), v.name) == out.end()) out.push_back(v.name);
  }
  return out;
}

std::vector<std::string> RequiredVariableNames(const CompiledTemplate& compiled) {
  return compiled.MissingVariables(nlohmann::json::object());
}

nlohmann::json ToJson(const MailTemplate& t, const CompiledTemplate& compiled) {
  return {{"id", t.id},
          {"site_id", t.site_id},
          {"name", t.name},
          {"description", t.description},
          {"subject", t.subject},
          {"html", t.html},
          {"text", t.text},
          {"variables", VariableNames(compiled)},
          {"required_variables", RequiredVariableNames(compiled)},
          {"created_by", t.created_by ? nlohmann::json(*t.created_by) : nlohmann::json()},
          {"created_at", t.created_at},
          {"updated_at", t.updated_at}};
}

nlohmann::json ToJson(const MailTemplate& t) {
  try {
    return ToJson(t, CompiledTemplate::Compile(t.Source()));
  } catch (const AppError&) {
    return ToJson(t, CompiledTemplate::Compile({}));
  }
}

}  // namespace poste::mail
