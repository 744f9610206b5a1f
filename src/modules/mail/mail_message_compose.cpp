#include "modules/mail/mail_message_compose.hpp"

#include <nlohmann/json.hpp>

#include "lib/error.hpp"
#include "lib/html_escape.hpp"
#include "lib/mail/html_text.hpp"
#include "modules/mail/mail_signature_service.hpp"
#include "modules/mail/mail_template_service.hpp"

namespace poste::mail {

void AppendSignature(MessageRequest& r, const MailSignature& sig) {
  if (sig.html.empty() && sig.text.empty()) return;
  if (!r.html.empty()) {
    const std::string html = sig.html.empty() ? TextAsHtml(sig.text) : sig.html;
    r.html += "\n<div class=\"poste-signature\">-- <br>\n" + html + "</div>\n";
  }
  if (!r.text.empty()) {
    const std::string text = sig.text.empty() ? HtmlToText(sig.html) : sig.text;
    if (!r.text.ends_with('\n')) r.text += '\n';
    r.text += "\n-- \n" + text;
    if (!r.text.ends_with('\n')) r.text += '\n';
  }
}

MessageComposer::MessageComposer(MailTemplatesService& templates, MailSignaturesService& signatures)
    : templates_(templates), signatures_(signatures) {}

void MessageComposer::Apply(std::int64_t site_id, std::optional<std::int64_t> sender, const ComposeRequest& compose,
                            MessageRequest& r) {
  if (compose.template_id) {
    std::shared_ptr<const PreparedTemplate> prepared;
    try {
      prepared = templates_.Prepare(site_id, *compose.template_id);
    } catch (const AppError& e) {
      if (e.code() != ErrorCode::kNotFound) throw;
      throw AppError::Validation({{"template_id", "not_found", "no such mail template on the site"}});
    }
    auto rendered = RenderForSend(*prepared, compose.variables);  // 422 naming the missing variables
    if (r.subject.empty()) r.subject = std::move(rendered.subject);
    // The bodies go together: a request with its own html or text keeps its own bodies.
    if (r.html.empty() && r.text.empty()) {
      r.html = std::move(rendered.html);
      r.text = std::move(rendered.text);
    }
  }
  if (compose.signature && sender) {
    if (auto signature = signatures_.SignatureFor(site_id, *sender)) AppendSignature(r, *signature);
  }
  std::vector<FieldError> errors;
  RequireContent(r, errors);
  if (r.html.size() > kMaxBodyBytes) errors.push_back({"html", "too_long", "at most 2 MiB"});
  if (r.text.size() > kMaxBodyBytes) errors.push_back({"text", "too_long", "at most 2 MiB"});
  ThrowIfAny(std::move(errors));
}

}  // namespace poste::mail
