#include "modules/mail/mail_template_service.hpp"

#include <soci/soci.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "db/dialect.hpp"
#include "lib/error.hpp"
#include "lib/mail/html_text.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/mail/mail_template_store.hpp"

namespace poste::mail {

namespace {

AppError NoTemplate() { return AppError::NotFound("No such mail template."); }

AppError NameTaken() {
  return AppError::Conflict("The site already has a template of this name.",
                            {{"name", "taken", "another template of the site has this name"}});
}

void CheckVariablesObject(const nlohmann::json& variables) {
  if (!variables.is_object() && !variables.is_null()) {
    throw AppError::Validation({{"variables", "invalid_type", "must be an object"}});
  }
}

}  // namespace

RenderedMessage RenderForSend(const PreparedTemplate& prepared, const nlohmann::json& variables) {
  CheckVariablesObject(variables);
  auto missing = prepared.compiled.MissingVariables(variables);
  if (!missing.empty()) {
    std::vector<FieldError> errors;
    for (auto& name : missing) {
      errors.push_back({"variables." + name, "missing_variable", "the template uses {{" + name + "}}"});
    }
    throw AppError::Validation(std::move(errors));
  }
  return prepared.compiled.Render(variables);
}

nlohmann::json ToJson(const PreparedTemplate& prepared) { return ToJson(prepared.source, prepared.compiled); }

MailTemplatesService::MailTemplatesService(db::Database& db, std::function<std::int64_t()> now_ms)
    : db_(db), now_ms_(std::move(now_ms)) {}

std::int64_t MailTemplatesService::Now() const {
  if (now_ms_) return now_ms_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

MailTemplatePage MailTemplatesService::List(std::int64_t site_id, const MailTemplateFilter& filter) {
  return db_.ReadValue([&](soci::session& s) { return template_store::List(s, site_id, filter); });
}

PreparedTemplate MailTemplatesService::Get(std::int64_t site_id, std::int64_t id) {
  auto found = db_.ReadValue([&](soci::session& s) { return template_store::Get(s, site_id, id); });
  if (!found) throw NoTemplate();
  auto compiled = CompiledTemplate::Compile(found->Source());
  return {std::move(*found), std::move(compiled)};
}

PreparedTemplate MailTemplatesService::Create(const audit::Origin& origin, std::int64_t site_id,
                                              const NewMailTemplate& t) {
  auto errors = Validate(t);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  auto compiled = CompileChecked({t.subject, t.html, t.text});
  const auto now = Now();
  auto stored = db_.WriteValue([&](soci::session& s) {
    std::int64_t id = 0;
    try {
      id = template_store::Insert(s, site_id, t, origin.user_id, now);
    } catch (const std::exception& error) {
      if (db::IsUniqueViolation(error)) throw NameTaken();
      throw;
    }
    audit::Record(s, audit::EntryFrom(origin, "mail_template.create", "mail_template", std::to_string(id), site_id,
                                      {{"name", t.name}}));
    return template_store::Get(s, site_id, id);
  });
  if (!stored) throw NoTemplate();
  return {std::move(*stored), std::move(compiled)};
}

PreparedTemplate MailTemplatesService::Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                                              const MailTemplatePatch& patch) {
  auto errors = Validate(patch);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  const auto now = Now();
  std::optional<CompiledTemplate> compiled;
  auto stored = db_.WriteValue([&](soci::session& s) {
    auto before = template_store::Get(s, site_id, id);
    if (!before) throw NoTemplate();
    MailTemplate after = *before;
    nlohmann::json changed = nlohmann::json::array();
    const auto apply = [&](const std::optional<std::string>& value, std::string& field, const char* name) {
      if (!value || *value == field) return;
      field = *value;
      changed.push_back(name);
    };
    apply(patch.name, after.name, "name");
    apply(patch.description, after.description, "description");
    apply(patch.subject, after.subject, "subject");
    apply(patch.html, after.html, "html");
    apply(patch.text, after.text, "text");
    // The whole template must compile once patched (the syntax check of a part may depend on no other, but
    // the required-html rule and the limits are checked on the result).
    compiled.emplace(CompileChecked(after.Source()));
    if (changed.empty()) return after;
    try {
      if (!template_store::Update(s, after, now)) throw NoTemplate();
    } catch (const AppError&) {
      throw;
    } catch (const std::exception& error) {
      if (db::IsUniqueViolation(error)) throw NameTaken();
      throw;
    }
    nlohmann::json changes = {{"fields", changed}};
    if (before->name != after.name) changes["name"] = {{"from", before->name}, {"to", after.name}};
    audit::Record(
        s, audit::EntryFrom(origin, "mail_template.update", "mail_template", std::to_string(id), site_id, changes));
    after.updated_at = now;
    return after;
  });
  return {std::move(stored), std::move(*compiled)};
}

void MailTemplatesService::Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  db_.Write([&](soci::session& s) {
    auto before = template_store::Get(s, site_id, id);
    if (!before || !template_store::Delete(s, site_id, id)) throw NoTemplate();
    audit::Record(s, audit::EntryFrom(origin, "mail_template.delete", "mail_template", std::to_string(id), site_id,
                                      {{"name", before->name}}));
  });
}

TemplatePreview MailTemplatesService::Preview(std::int64_t site_id, std::int64_t id, const nlohmann::json& variables) {
  CheckVariablesObject(variables);
  auto prepared = Get(site_id, id);
  TemplatePreview out;
  out.missing = prepared.compiled.MissingVariables(variables);
  out.rendered = prepared.compiled.Render(variables);
  if (prepared.source.text.empty()) {
    out.rendered.text = HtmlToText(out.rendered.html);
    out.text_derived = true;
  }
  return out;
}

std::shared_ptr<const PreparedTemplate> MailTemplatesService::Prepare(std::int64_t site_id, std::int64_t id) {
  return std::make_shared<const PreparedTemplate>(Get(site_id, id));
}

RenderedMessage MailTemplatesService::RenderForSend(std::int64_t site_id, std::int64_t id,
                                                    const nlohmann::json& variables) {
  return mail::RenderForSend(Get(site_id, id), variables);
}

}  // namespace poste::mail
