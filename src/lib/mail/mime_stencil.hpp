#pragma once
// Many messages that differ only in their recipient, subject, bodies, Message-ID and unsubscribe links (a
// campaign). BuildMessage spends ~80 µs a message creating and freeing some fifty GMime objects; a stencil
// writes From, Date, the custom headers and the MIME frame once, and each message around them with GMime's
// header and body encoders only (~10 µs). The output keeps BuildMessage's guarantees: CRLF line ends, 7-bit
// clean, no line over 998 characters, names and subject in UTF-8 encoded words, bodies 7bit /
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
  std::string head_;      // From, Reply-To, Date and the custom headers, written once
  std::string boundary_;  // of multipart/alternative, random per stencil
};

}  // namespace poste::mail
