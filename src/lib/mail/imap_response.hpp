#pragma once
// IMAP4rev1 server answers (RFC 3501), read and parsed by Poste itself: the framing of responses (lines and
// {n} literals, with limits), and the few untagged answers a mailbox sync needs (SELECT / EXAMINE data,
// SEARCH, FETCH). Everything here treats the server as untrusted: every number is checked, every size is
// capped, and malformed answers throw ImapError instead of being guessed at.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace poste::mail::imap {

enum class ErrorKind {
  kConnect,   // could not reach the server (refused, DNS, a target the policy refuses)
  kTls,       // TLS or STARTTLS failed
  kAuth,      // the server refused the credentials
  kTimeout,   // the server stopped answering
  kProtocol,  // the server's answer does not follow the protocol or exceeds the limits
  kRefused,   // a command answered NO or BAD (the server's text is in the message)
  kInvalid,   // the caller's input cannot be sent (a mailbox name with CR/LF, ...)
};

class ImapError : public std::runtime_error {
 public:
  ImapError(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

struct ResponseLimits {
  std::size_t max_line = 4u << 20;      // one line of a response (a SEARCH of ~500,000 UIDs fits)
  std::size_t max_literal = 50u << 20;  // larger literals are read and dropped (see Response::literals)
  // A literal announced above this cannot be a real message: the answer is treated as hostile (kProtocol).
  std::size_t max_declared_literal = std::size_t{1} << 31;
  std::size_t max_literals = 64;  // literals in one response
};

// One response: a tagged status, an untagged answer, or a continuation request. Literals are cut out of
// the text: `text` keeps each "{n}" marker where it stood, and `literals` holds their contents in order.
struct Literal {
  std::size_t size = 0;
  std::optional<std::string> bytes;  // nullopt: larger than max_literal, read and dropped
};
struct Response {
  std::string tag;   // "*" (untagged), "+" (continuation) or the command's tag
  std::string text;  // what follows the tag and one space, without the final CRLF
  std::vector<Literal> literals;

  bool untagged() const { return tag == "*"; }
};

// Incremental framing: Feed() the bytes as they arrive, take complete responses with Next().
class ResponseReader {
 public:
  explicit ResponseReader(ResponseLimits limits = {}) : limits_(limits) {}

  void Feed(std::string_view bytes);
  // A complete response, or nullopt when more bytes are needed. Throws ImapError(kProtocol) for a line
  // over max_line, a literal over max_declared_literal, too many literals or a line with no tag.
  std::optional<Response> Next();
  // Bytes fed but not yet consumed (to bound memory in the caller's read loop).
  std::size_t Buffered() const { return buffer_.size() - pos_; }

 private:
  void Compact();

  ResponseLimits limits_;
  std::string buffer_;
  std::size_t pos_ = 0;
  // The response being assembled across literals.
  std::optional<Response> partial_;
  std::size_t literal_left_ = 0;  // bytes of the current literal still to read
  bool in_literal_ = false;
};

// A tagged status line's parts: "OK" / "NO" / "BAD" and the human text (with any [code]).
struct Status {
  std::string condition;  // upper case
  std::string text;
};
// Throws ImapError(kProtocol) unless `text` starts with OK, NO or BAD.
Status ParseStatus(std::string_view text);

// What SELECT / EXAMINE report.
struct MailboxInfo {
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 0;  // 0 when the server did not say
  std::uint32_t exists = 0;
};
// From the untagged answers of a SELECT / EXAMINE. Throws ImapError(kProtocol) when UIDVALIDITY is missing
// or any number it needs is not a valid 32-bit number.
MailboxInfo ParseMailboxInfo(const std::vector<Response>& untagged);

// The UIDs of "* SEARCH ..." answers, ascending and without duplicates. Throws ImapError(kProtocol) for a
// token that is not a number in 1..4294967295.
std::vector<std::uint32_t> ParseSearch(const std::vector<Response>& untagged);

// One "* n FETCH (...)" answer.
struct FetchData {
  std::uint32_t seq = 0;
  std::optional<std::uint32_t> uid;
  std::vector<std::string> flags;        // e.g. "\\Seen"
  std::optional<std::uint64_t> size;     // RFC822.SIZE
  std::optional<std::string> body;       // BODY[] / BODY[HEADER] contents; nullopt if absent or dropped
  bool body_dropped = false;             // the body was larger than max_literal
  std::optional<std::size_t> body_size;  // the body's size as the server announced it
};
// nullopt when `response` is not a FETCH answer; throws ImapError(kProtocol) when it is one but malformed.
std::optional<FetchData> ParseFetch(const Response& response);

// A number in 0..4294967295 made of digits only (no sign, no spaces), else nullopt.
std::optional<std::uint32_t> ParseNumber32(std::string_view text);

// A mailbox name (or other string) as an IMAP quoted string. Throws ImapError(kInvalid) for NUL, CR, LF or
// non-ASCII bytes (modified UTF-7 names are out of scope) and for names over 1000 bytes.
std::string Quote(std::string_view text);

}  // namespace poste::mail::imap
