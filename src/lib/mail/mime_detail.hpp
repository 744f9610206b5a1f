#pragma once
// What mime.cpp (BuildMessage), mime_stencil.cpp (MessageStencil) and mime_validate.cpp share: GMime's output
// options, the choice and writing of a body's transfer encoding, the Message-ID domain, the checks of the
// fields a stencil's messages differ by, and the header-line check. Internal to lib/mail's MIME writers.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lib/mail/mime.hpp"

typedef struct _GMimeFormatOptions GMimeFormatOptions;
typedef struct _InternetAddressMailbox InternetAddressMailbox;

namespace poste::mail::detail {

enum class BodyEncoding { k7bit, kQuotedPrintable, kBase64 };

// The options every message is written with (CRLF, RFC 2231 parameters); initialises GMime.
GMimeFormatOptions* FormatOptions();

// The body scans read eight bytes at once (little-endian loads) and mark the high bit of each byte that is of
// interest, exactly (no carry crosses from one byte to the next): FirstMarked gives the first one's offset.
namespace bytes {
inline constexpr std::uint64_t kOnes = 0x0101010101010101ull;
inline constexpr std::uint64_t kHighs = kOnes * 0x80;
inline constexpr std::uint64_t kLows = kOnes * 0x7f;
static_assert(std::endian::native == std::endian::little, "the first byte read is the lowest");

inline std::uint64_t Load(const char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}
// The bytes equal to `byte`.
constexpr std::uint64_t Equal(std::uint64_t word, unsigned char byte) {
  const std::uint64_t x = word ^ (kOnes * byte);
  return ~(((x & kLows) + kLows) | x | kLows);
}
// The bytes from 0x80 up.
constexpr std::uint64_t High(std::uint64_t word) { return word & kHighs; }
// The bytes outside printable ASCII (0x20 to 0x7E).
constexpr std::uint64_t NotPrintable(std::uint64_t word) {
  const std::uint64_t below_space = ~((word | kHighs) - kOnes * 0x20) & kHighs & ~word;
  const std::uint64_t from_del = (((word & kLows) + kOnes) | word) & kHighs;
  return below_space | from_del;
}
constexpr std::size_t FirstMarked(std::uint64_t marks) { return static_cast<std::size_t>(std::countr_zero(marks)) / 8; }
}  // namespace bytes

// GMime writes an address's domain through libidn2 (a third of the cost of an address header), keeping the
// domain as it is when the result differs only in case or the conversion fails. An ASCII domain without an
// A-label ("xn--") can convert to nothing else (UTS #46 maps ASCII only to lower case): such a mailbox gets its
// address as its IDN form (GMime's documented idn_addr field), and GMime makes no call.
void KeepAsciiDomain(InternetAddressMailbox* mailbox);

// What one pass over a body finds. Line ends may be CRLF, CR or LF (ToLf's reading of them).
struct BodyScan {
  bool valid_utf8 = true;  // as validate::IsValidUtf8
  // Of the text with LF line ends: 7bit when it allows it (no 8-bit byte, no NUL, no line over 996 bytes),
  // quoted-printable when it is mostly ASCII (readable in the raw message), base64 otherwise (shorter for
  // non-Latin scripts). Invalid sequences count as 8-bit bytes.
  BodyEncoding encoding = BodyEncoding::k7bit;
};
BodyScan ScanBody(std::string_view text);

// Appends `text` (CRLF, CR or LF line ends) in `encoding`, with CRLF line ends: the bytes GMime's encoder
// writes for ToLf(text) (for base64, for the text with CRLF line ends, RFC 2045 §6.8), each LF then written
// as CRLF. Quoted-printable: lines of at most 76 characters with soft breaks ("="), '=', controls and 8-bit
// bytes as =XX, a space or tab before a line end or at the end as =20 / =09, a soft break after the last
// line when the text does not end with a line end. Base64: lines of 76 characters, the last one ended too.
void AppendBody(std::string& out, std::string_view text, BodyEncoding encoding);

// "Name: value" and CRLF as GMime writes an unstructured header: the value in UTF-8 encoded words (RFC 2047)
// where it is not ASCII, folded at 78 characters.
void AppendTextHeader(std::string& out, std::string_view name, const std::string& value);
// "Name: " and the mailboxes and CRLF as GMime writes an address list: names quoted or in UTF-8 encoded
// words as they need, IDN domains in punycode, folded at 78 characters. Nothing for no mailbox.
void AppendAddressHeader(std::string& out, std::string_view name, const std::vector<Mailbox>& boxes);

// The right side of a generated Message-ID: message_id_domain, else the From domain, else "poste.local".
std::string MessageIdDomain(const OutgoingMessage& m);

// The checks ValidateMessage runs on the recipients ("to" required, at most kMaxRecipients, each mailbox),
// on a message id and on the unsubscribe links, errors named as ValidateMessage names them.
void CheckRecipients(const std::vector<Mailbox>& to, const std::vector<Mailbox>& cc, const std::vector<Mailbox>& bcc,
                     std::vector<FieldError>& errors);
void CheckMessageId(std::string_view id, std::string_view field, std::vector<FieldError>& errors);
void CheckUnsubscribeLinks(const OutgoingMessage& m, std::vector<FieldError>& errors);

// A safety net under the field limits: throws AppError::Validation when a header line exceeds kMaxLine.
void CheckHeaderLines(std::string_view bytes);

}  // namespace poste::mail::detail
