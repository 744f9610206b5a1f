#pragma once
// What mime.cpp (BuildMessage) and mime_stencil.cpp (MessageStencil) share: GMime's output options, the
// choice of a body's transfer encoding, the Message-ID domain and the header-line check. Internal to
// lib/mail's MIME writers.
#include <string>
#include <string_view>

#include "lib/mail/mime.hpp"

typedef struct _GMimeFormatOptions GMimeFormatOptions;

namespace poste::mail::detail {

enum class BodyEncoding { k7bit, kQuotedPrintable, kBase64 };

// The options every message is written with (CRLF, RFC 2231 parameters); initialises GMime.
GMimeFormatOptions* FormatOptions();
// 7bit when the text (LF line ends) allows it, quoted-printable when it is mostly ASCII (readable in the raw
// message), base64 otherwise (shorter for non-Latin scripts).
BodyEncoding EncodingFor(std::string_view text);
// The right side of a generated Message-ID: message_id_domain, else the From domain, else "poste.local".
std::string MessageIdDomain(const OutgoingMessage& m);
// A safety net under the field limits: throws AppError::Validation when a header line exceeds kMaxLine.
void CheckHeaderLines(std::string_view bytes);

}  // namespace poste::mail::detail
