#pragma once
// Mail templates of a site: their structs, JSON mapping and validation. The Mustache work itself (parsing,
// syntax errors with line and column, the variables used, rendering) is lib/mail/template.hpp's; this file
// only decides what a stored template may hold. Storage is in mail_template_store.hpp.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/error.hpp"
#include "lib/mail/template.hpp"

namespace poste::mail {

inline constexpr std::size_t kMaxTemplateNameChars = 200;  // code points
inline constexpr std::size_t kMaxTemplateDescriptionChars = 2000;
inline constexpr std::size_t kMaxTemplateSubjectBytes = 900;  // one header line (mail::kMaxHeaderValue)
inline constexpr int kMaxTemplateListLimit = 200;

struct MailTemplate {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::string name;
  std::string description;
  std::string subject;  // Mustache sources
  std::string html;
  std::string text;  // "": derived from the rendered HTML when sending
  std::optional<std::int64_t> created_by;
  std::int64_t created_at = 0;  // epoch ms
  std::int64_t updated_at = 0;

  TemplateSource Source() const { return {subject, html, text}; }
};

struct NewMailTemplate {
  std::string name;
  std::string description;
  std::string subject;
  std::string html;
  std::string text;
};

// Absent = unchanged.
struct MailTemplatePatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
};

struct MailTemplateFilter {
  std::string q;  // in the name, case-insensitive (ASCII)
  int limit = 50;
  std::optional<std::int64_t> cursor;  // next_cursor of the previous page: templates with a smaller id
};

struct MailTemplatePage {
  std::vector<MailTemplate> items;  // newest first
  std::optional<std::int64_t> next_cursor;
};

// Reads {"name", "subject", "html", "text"?, "description"?}: a field of the wrong type is an error in
// `errors`; required fields missing are errors too. Unknown fields are ignored.
NewMailTemplate NewMailTemplateFromJson(const nlohmann::json& json, std::vector<FieldError>& errors);
MailTemplatePatch MailTemplatePatchFromJson(const nlohmann::json& json, std::vector<FieldError>& errors);

// Everything but the Mustache syntax: name 1..200 characters on one line; description up to 2000
// characters; subject required, one line (no control character), at most 900 bytes; html required; html
// and text without control characters but CR, LF and TAB, each at most mail::kMaxTemplateBytes; all valid
// UTF-8 (code "invalid_utf8"). Compile() then checks the syntax.
std::vector<FieldError> Validate(const NewMailTemplate& t);
std::vector<FieldError> Validate(const MailTemplatePatch& patch);

// Validates and compiles the sources: AppError::Validation with the field errors of every broken part
// (syntax errors say "line L, column C: ..." under code "template_syntax").
CompiledTemplate CompileChecked(const TemplateSource& source);

// The distinct names a template uses, in order of first use ("variables"), and those a send requires
// (used outside any section: "required_variables").
std::vector<std::string> VariableNames(const CompiledTemplate& compiled);
std::vector<std::string> RequiredVariableNames(const CompiledTemplate& compiled);

// {id, site_id, name, description, subject, html, text, variables[], required_variables[], created_by|null,
//  created_at, updated_at}; the variables come from `compiled` (the template's own sources).
nlohmann::json ToJson(const MailTemplate& t, const CompiledTemplate& compiled);
// The same, compiling the template's sources (a template that no longer compiles lists no variables).
nlohmann::json ToJson(const MailTemplate& t);

}  // namespace poste::mail
