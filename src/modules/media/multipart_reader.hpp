#pragma once
// A streaming multipart/form-data reader (RFC 7578 over RFC 2046): fed the body chunk by chunk as it
// arrives, it reports each part's headers, its bytes and its end, holding no more than one chunk plus a
// delimiter in memory, whatever the parts' sizes. Boundaries split across chunks, transport padding after a
// boundary and a preamble are handled; a missing final boundary, oversized or malformed part headers and
// too many parts are refused with 400.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace poste::media {

// The parameters of a header value such as Content-Type or Content-Disposition:
// `token *(";" name "=" (token | quoted-string))`, names lower-cased; `filename*` (RFC 8187, UTF-8 only) is
// decoded into "filename*". nullopt when malformed.
struct HeaderValue {
  std::string value;  // lower-cased: "multipart/form-data", "form-data", "attachment"
  std::vector<std::pair<std::string, std::string>> params;
  std::optional<std::string> Param(std::string_view name) const;
};
std::optional<HeaderValue> ParseHeaderValue(std::string_view text);

// The file name a Content-Disposition carries (filename* preferred over filename); nullopt when none.
std::optional<std::string> DispositionFilename(const HeaderValue& disposition);

// The boundary of a multipart/form-data Content-Type; nullopt when the type is something else or the boundary
// is missing or invalid (1..70 characters of RFC 2046's bchars, not ending in a space).
std::optional<std::string> FormDataBoundary(std::string_view content_type);

struct MultipartLimits {
  std::size_t max_header_bytes = 8 * 1024;  // one part's header block
  std::size_t max_parts = 16;
};

class MultipartReader {
 public:
  struct Part {
    std::string name;                     // the form field's name
    std::optional<std::string> filename;  // set for a file part
    std::string content_type;             // "" when the part has none
  };
  struct Handler {
    std::function<void(const Part&)> begin;
    std::function<void(std::string_view)> data;
    std::function<void()> end;
  };

  MultipartReader(std::string boundary, Handler handler, MultipartLimits limits = {});

  // Throws AppError 400 on malformed input; the handler's own exceptions pass through.
  void Feed(std::string_view chunk);
  // At the end of the body: throws AppError 400 unless the closing boundary was seen.
  void Finish();
  bool Done() const { return state_ == State::kEpilogue; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kBoundaryLine, kHeaders, kData, kEpilogue };
  bool Step();  // one step of the state machine; false when it needs more input
  void HeaderLine(std::string_view line);
  [[noreturn]] static void Malformed(const std::string& why);

  std::string delimiter_;  // CRLF "--" boundary
  Handler handler_;
  MultipartLimits limits_;
  State state_ = State::kPreamble;
  std::string buffer_;
  std::size_t header_bytes_ = 0;
  std::size_t parts_ = 0;
  Part part_;
  bool has_disposition_ = false;
};

}  // namespace poste::media
