#pragma once
// A site's mail templates: create, list, change and delete them (each change audited), preview them with
// sample data, and render them for the send path and campaigns. A template is checked when saved (a
// Mustache syntax error is a 422 naming the part, the line and the column), so what is stored always
// compiles. No HTTP here.
//
// For the send path and campaigns:
//   auto prepared = templates.Prepare(site_id, template_id);          // 404 when the site has no such template
//   mail::RenderedMessage m = RenderForSend(*prepared, variables);   // 422 listing the missing variables
// Prepare compiles once; RenderForSend is thread-safe and does no SQL, so a campaign renders each recipient
// with the same PreparedTemplate from several workers. RenderForSend(site_id, id, variables) does both for a
// single message.
//
// Every member that takes a site id blocks (SQL): call it through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "lib/mail/template.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/mail/mail_template_types.hpp"

namespace poste::db {
class Database;
}

namespace poste::mail {

// A stored template with its compiled form.
struct PreparedTemplate {
  MailTemplate source;
  CompiledTemplate compiled;
};

// What a preview shows: the three parts rendered with the sample variables, and the names the variables
// lacked (rendered as nothing; a send would refuse them).
struct TemplatePreview {
  RenderedMessage rendered;
  bool text_derived = false;  // the template has no text part: `rendered.text` is derived from the HTML
  std::vector<std::string> missing;
};

// Renders for sending: AppError::Validation (422) with one field error per missing required variable
// (field "variables.<name>", code "missing_variable") before rendering anything; "variables" when the
// variables are not a JSON object or are nested too deeply. The text part is as the template has it (empty
// when it has none: the message builder derives it from the HTML).
RenderedMessage RenderForSend(const PreparedTemplate& prepared, const nlohmann::json& variables);

// The JSON of a template: ToJson(t, compiled) of mail_template_types.hpp.
nlohmann::json ToJson(const PreparedTemplate& prepared);

class MailTemplatesService {
 public:
  explicit MailTemplatesService(db::Database& db, std::function<std::int64_t()> now_ms = {});

  MailTemplatePage List(std::int64_t site_id, const MailTemplateFilter& filter);
  // 404 when the site has no such template.
  PreparedTemplate Get(std::int64_t site_id, std::int64_t id);
  // 422 with field errors (syntax errors included); 409 ("name") when the site has a template of that name.
  PreparedTemplate Create(const audit::Origin& origin, std::int64_t site_id, const NewMailTemplate& t);
  PreparedTemplate Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                          const MailTemplatePatch& patch);
  void Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);

  // Renders with sample data; missing variables are listed, not refused. 422 ("variables") when the
  // variables are not an object; 404 when there is no such template.
  TemplatePreview Preview(std::int64_t site_id, std::int64_t id, const nlohmann::json& variables);

  // For the send path and campaigns (see the top of this file). 404 when there is no such template.
  std::shared_ptr<const PreparedTemplate> Prepare(std::int64_t site_id, std::int64_t id);
  RenderedMessage RenderForSend(std::int64_t site_id, std::int64_t id, const nlohmann::json& variables);

 private:
  std::int64_t Now() const;

  db::Database& db_;
  std::function<std::int64_t()> now_ms_;
};

}  // namespace poste::mail
