#pragma once
// The contacts module's structs, their JSON mapping and their validation: messages sent through a site's
// contact form, and the filters of the admin list. Storage is in contacts_store.hpp.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::contacts {

inline constexpr std::size_t kMaxNameChars = 200;  // code points
inline constexpr std::size_t kMaxSubjectChars = 200;
inline constexpr std::size_t kMaxMessageChars = 10000;
inline constexpr std::size_t kMaxPageBytes = 2048;
inline constexpr std::size_t kMaxUserAgentBytes = 512;  // longer user agents are cut, not refused
inline constexpr std::size_t kMaxQueryChars = 200;      // the q filter

// What a visitor posts. `website` is the honeypot (a field hidden from people: only bots fill it);
// `started_at` is when the form was shown (epoch ms, set by the page), for the minimum fill time.
struct Submission {
  std::string name;
  std::string email;
  std::string subject;
  std::string message;
  std::string page;  // the page the form was on (a path or a URL)
  bool consent = false;
  std::string website;
  std::optional<std::int64_t> started_at;
};

// The honeypot field's name in JSON and form bodies.
inline constexpr std::string_view kHoneypotField = "website";

// Reads a JSON object / a form's fields. A field of the wrong type (or a consent value that is not a
// boolean) is a field error in `errors`; unknown fields are ignored.
Submission SubmissionFromJson(const nlohmann::json& json, std::vector<FieldError>& errors);
Submission SubmissionFromForm(const std::map<std::string, std::string, std::less<>>& form,
                              std::vector<FieldError>& errors);

// name 1..200, email valid (normalised first), subject 0..200, message 1..10000 code points; single-line
// fields without control characters, the message may span lines; page at most 2048 bytes, single line.
std::vector<FieldError> Validate(const Submission& submission);

enum class SpamVerdict { kAccept, kHoneypot, kTooFast };
// kHoneypot when the honeypot is filled; kTooFast when started_at is less than min_fill_ms before now, or
// more than a minute in the future (a forged value). No started_at: accepted (API clients need not send it).
SpamVerdict CheckSpam(const Submission& submission, std::int64_t now_ms, std::int64_t min_fill_ms);

enum class NotifyStatus { kPending, kSent, kFailed };
std::string_view NotifyStatusName(NotifyStatus status);
NotifyStatus ParseNotifyStatus(std::string_view name);  // unknown -> kPending

struct Contact {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::string name;
  std::string email;
  std::string subject;
  std::string message;
  std::string page;
  bool consent = false;
  std::string ip_hash;  // hex HMAC-SHA256 of the client IP; "" when unknown
  std::string user_agent;
  bool read = false;
  bool archived = false;
  NotifyStatus notify_status = NotifyStatus::kPending;
  std::string notify_error;
  std::int64_t created_at = 0;  // epoch ms
  std::int64_t updated_at = 0;
};

// Absent = unchanged.
struct ContactPatch {
  std::optional<bool> read;
  std::optional<bool> archived;
};

// inbox (the default): not archived; unread / read: not archived and (un)read; archived; all.
enum class StatusFilter { kInbox, kUnread, kRead, kArchived, kAll };
std::optional<StatusFilter> ParseStatusFilter(std::string_view text);

struct ContactFilter {
  StatusFilter status = StatusFilter::kInbox;
  std::optional<std::int64_t> from_ms;  // created_at >= from_ms
  std::optional<std::int64_t> to_ms;    // created_at < to_ms
  std::string q;                        // in name, email, subject or message, case-insensitive (ASCII)
  int limit = 50;                       // clamped to 1..kMaxListLimit
  std::optional<std::int64_t> cursor;   // the next_cursor of the previous page: contacts with a smaller id
};
inline constexpr int kMaxListLimit = 200;

struct ContactPage {
  std::vector<Contact> items;  // newest (highest id) first
  std::optional<std::int64_t> next_cursor;
};

// {id, site_id, name, email, subject, message, page, consent, ip_hash, user_agent, read, archived,
//  notify_status, notify_error, created_at, updated_at}.
nlohmann::json ToJson(const Contact& contact);

}  // namespace poste::contacts
