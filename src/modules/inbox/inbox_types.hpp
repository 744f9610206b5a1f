#pragma once
// The inbox module's structs, their JSON mapping and their validation: IMAP accounts (a user's own, or a
// site's shared inbox), the messages synced from them, their attachments, and the list filters. Storage
// is in inbox_store.hpp.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::inbox {

inline constexpr std::size_t kMaxNameChars = 200;
inline constexpr std::size_t kMaxHostBytes = 253;
inline constexpr std::size_t kMaxUsernameBytes = 320;
inline constexpr std::size_t kMaxPasswordBytes = 1024;
inline constexpr std::size_t kMaxMailboxBytes = 200;
inline constexpr std::size_t kMaxQueryChars = 200;
inline constexpr int kMaxListLimit = 200;

// Who may see an account: its owner (a personal inbox), or everyone who can access its site.
struct Account {
  std::int64_t id = 0;
  std::optional<std::int64_t> owner_user_id;
  std::optional<std::int64_t> site_id;
  std::string name;
  std::string host;
  int port = 0;
  std::string tls;  // "none" | "starttls" | "implicit"
  std::string username;
  std::string sealed_password;  // never serialised
  std::string mailbox = "INBOX";
  std::int64_t uidvalidity = 0;
  std::int64_t last_uid = 0;
  std::optional<std::int64_t> last_sync_at;
  std::string last_error;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// What a client sends to create (every required field set) or change (absent = unchanged) an account.
struct AccountInput {
  std::optional<std::string> name;
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<std::string> tls;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<std::string> mailbox;
  std::optional<std::int64_t> site_id;  // create only: a site's shared inbox
};

// Reads the JSON body; wrong types are field errors. `creating` allows site_id.
AccountInput AccountInputFromJson(const nlohmann::json& json, bool creating, std::vector<FieldError>& errors);
// Checks what is set; with `creating`, name, host, username and password are required. Hosts are names or
// IP literals; ports 1..65535; mailbox names printable ASCII; no control characters anywhere.
std::vector<FieldError> Validate(const AccountInput& input, bool creating);

// {id, name, owner: "user"|"site", site_id, host, port, tls, username, password_set, mailbox, uidvalidity,
//  last_uid, last_sync_at, last_error, created_at, updated_at}: never the password.
nlohmann::json ToJson(const Account& account);

struct Address {
  std::string name;
  std::string email;
};

// A list row (ListMessages, ThreadMessages): what a list shows, without the bodies.
struct MessageSummary {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::int64_t uidvalidity = 0;
  std::int64_t uid = 0;
  std::int64_t thread_id = 0;
  std::string message_id;  // without <>
  std::string subject;
  Address from;
  std::vector<Address> to;
  std::optional<std::int64_t> sent_at;  // epoch ms, from the Date header
  std::string snippet;                  // Snippet() of the text body
  std::int64_t size = 0;
  bool truncated = false;  // larger than inbox.max_message_bytes: headers only
  bool read = false;
  bool archived = false;
  int attachment_count = 0;
  std::int64_t created_at = 0;
};

// The whole message (GetMessage): the summary's fields and the bodies.
struct Message : MessageSummary {
  std::string in_reply_to;
  std::vector<std::string> references;
  std::vector<Address> cc;
  std::vector<Address> reply_to;
  std::string text;
  std::string html;
};

struct Attachment {
  int position = 0;
  std::string filename;
  std::string content_type;
  std::string content_id;
  bool inline_part = false;
  std::int64_t size = 0;
  std::string path;  // relative to the data dir; "" when not kept (over the size limit)
};

struct MessageFilter {
  std::optional<std::int64_t> account_id;
  std::optional<std::int64_t> thread_id;
  bool unread_only = false;
  bool archived = false;  // false: the inbox (not archived); true: the archive
  std::string q;          // in subject, sender or text, case-insensitive (ASCII)
  int limit = 50;
  std::optional<std::int64_t> cursor;  // messages with a smaller id
};

struct MessagePage {
  std::vector<MessageSummary> items;  // newest (highest id) first
  std::optional<std::int64_t> next_cursor;
};

// The start of a text on one line (runs of white space made one space), whole code points only, about 200
// bytes: what a list shows of a message.
std::string Snippet(std::string_view text);
// A list item: everything but the bodies, with the snippet.
nlohmann::json SummaryJson(const MessageSummary& message);
// The whole message: the summary (its snippet made from the text body), the text body, the HTML body exactly
// as received with "html_sanitized": false (the client must show it sandboxed), and the attachments with
// their download paths.
nlohmann::json DetailJson(const Message& message, const std::vector<Attachment>& attachments);
nlohmann::json AddressJson(const Address& address);

// A file name safe on any file system: [A-Za-z0-9._-] kept, the rest '_', no leading dot, at most 100
// bytes; "attachment" when nothing is left.
std::string SafeFileName(std::string_view name);

}  // namespace poste::inbox
