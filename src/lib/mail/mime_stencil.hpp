#pragma once
// Many messages that differ only in their recipient, subject, bodies, Message-ID and unsubscribe links (a
// campaign). BuildMessage spends ~70 µs a message creating and freeing some fifty GMime objects; a stencil
// writes From, Date, the custom headers and the MIME frame once, and each message around them (~3 µs for a
// 4 KB newsletter): plain ASCII headers and the bodies' transfer encodings written as GMime writes them, GMime
// itself for the headers that need encoded words or folding. The output keeps BuildMessage's guarantees: CRLF
// line ends, 7-bit clean, no line over 998 characters, names and subject in UTF-8 encoded words, bodies 7bit /
// quoted-printable / base64 as their bytes require, text and HTML as multipart/alternative. No attachments.
#include <string>

#include "lib/mail/mime.hpp"

namespace poste::mail {

class MessageStencil {
 public:
  // `common` gives from, reply_to, headers, date and message_id_domain to every message. Throws
  // AppError::Validation for attachments (BuildMessage sends those), or for the fields BuildMessage refuses.
  explicit MessageStencil(const OutgoingMessage& common);

  // The message for `m`'s to, cc, subject, html, text (derived from the HTML when empty, as BuildMessage
  // does), list_unsubscribe_url / _mailto and message_id; `m`'s other fields are the stencil's. Validates `m`
  // as BuildMessage does (AppError::Validation). Thread-safe.
  BuiltMessage Build(const OutgoingMessage& m) const;

 private:
  OutgoingMessage common_;
  std::string head_;               // From, Reply-To, Date and the custom headers, written once
  std::string boundary_;           // of multipart/alternative, random per stencil
  std::string message_id_domain_;  // of generated Message-IDs
};

}  // namespace poste::mail
