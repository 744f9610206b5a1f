#include "lib/mail/provider_http.hpp"

#include "lib/mail/entities.hpp"

namespace poste::mail {

DeliveryOutcome OutcomeOfStatus(int status) {
  if (status >= 200 && status < 300) return DeliveryOutcome::kSent;
  if (status == 408 || status == 429 || status >= 500) return DeliveryOutcome::kTemporary;
  return DeliveryOutcome::kPermanent;
}

DeliveryOutcome OutcomeOfHttpError(net::HttpErrorKind kind) {
  switch (kind) {
    case net::HttpErrorKind::kInvalidRequest:
    case net::HttpErrorKind::kRefusedTarget:
      return DeliveryOutcome::kPermanent;
    case net::HttpErrorKind::kResolve:
    case net::HttpErrorKind::kConnect:
    case net::HttpErrorKind::kTimeout:
    case net::HttpErrorKind::kTls:
    case net::HttpErrorKind::kTransfer:
      break;
  }
  return DeliveryOutcome::kTemporary;
}

DeliveryResult ResultOfHttpError(const net::HttpError& error) {
  DeliveryResult result;
  result.outcome = OutcomeOfHttpError(error.kind());
  result.answer = CleanAnswer(error.what());
  return result;
}

std::string CleanAnswer(std::string_view text, std::size_t max_bytes) {
  // Runs of spaces shrink, so a little more than max_bytes is read; what lies beyond is never shown.
  const bool cut = text.size() > max_bytes + 8;
  const std::string valid = SanitizeUtf8(text.substr(0, max_bytes + 8));
  std::string out;
  out.reserve(std::min(valid.size(), max_bytes + 3));
  bool space = false;
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const auto c = static_cast<unsigned char>(valid[i]);
    const auto next = [&](std::size_t k) {
      return i + k < valid.size() ? static_cast<unsigned char>(valid[i + k]) : 0;
    };
    // Bytes of a control character: C0 and DEL, C1 (0xC2 0x80..0x9F), the line and paragraph separators
    // U+2028 / U+2029 (line ends to JavaScript and some log viewers), as validate::HasControlChars sees them.
    const std::size_t control = c < 0x20 || c == 0x7f                                      ? 1
                                : c == 0xc2 && next(1) < 0xa0                              ? 2
                                : c == 0xe2 && next(1) == 0x80 && (next(2) & 0xfe) == 0xa8 ? 3
                                                                                           : 0;
    if (control > 0 || c == ' ') {
      i += control > 0 ? control - 1 : 0;
      space = !out.empty();
      continue;
    }
    // The length of this character, so that a cut never splits one.
    const std::size_t length = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (out.size() + (space ? 1 : 0) + length > max_bytes) {
      out += "...";
      return out;
    }
    if (space) out.push_back(' ');
    space = false;
    out.append(valid, i, length);
    i += length - 1;
  }
  if (cut) out += "...";
  return out;
}

std::string HttpAnswer(int status, std::string_view body) {
  std::string answer = "HTTP " + std::to_string(status);
  std::string cleaned = CleanAnswer(body, kMaxAnswer - answer.size() - 2);
  return cleaned.empty() ? answer : answer + ": " + cleaned;
}

}  // namespace poste::mail
