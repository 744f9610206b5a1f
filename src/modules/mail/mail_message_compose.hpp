#pragma once
// What a single message is made of before it is queued, beyond what the caller wrote: a template of the site
// rendered with the caller's variables (POST .../mail/messages with "template_id"), and the sender's
// signature for the site ("signature": true). Used by the messages routes and by inbox replies and forwards.
//
// Rules (documented in docs/openapi/mail_accounts.yaml):
// - A template fills what the request left empty: its subject when the request has none, its html and text
//   when the request has neither (a request with its own html or text keeps its own bodies, both). Its required
//   variables are checked first (422, "variables.<name>", "missing_variable"); a template the site does not have is a
//   422 on "template_id" ("not_found"), like an account_id of another site.
// - The signature is the sender's for the site; a sender without one gets nothing appended (not an error).
//   HTML bodies get the HTML version (else the text one, escaped), text bodies the text version (else the
//   HTML one as text), after the usual "-- " separator line.
#include <cstdint>
#include <optional>

#include "modules/mail/mail_message_types.hpp"
#include "modules/mail/mail_signature_types.hpp"

namespace poste::mail {

class MailTemplatesService;
class MailSignaturesService;

// Appends the signature to the bodies the request has (a body left empty stays empty: the text part derived
// from the HTML then carries the signature too).
void AppendSignature(MessageRequest& request, const MailSignature& signature);

class MessageComposer {
 public:
  MessageComposer(MailTemplatesService& templates, MailSignaturesService& signatures);

  // Applies the template and the signature, then requires a subject and a body. Blocks (SQL): call it
  // through blocking(). AppError::Validation (422) with field errors.
  void Apply(std::int64_t site_id, std::optional<std::int64_t> sender, const ComposeRequest& compose,
             MessageRequest& request);

 private:
  MailTemplatesService& templates_;
  MailSignaturesService& signatures_;
};

}  // namespace poste::mail
