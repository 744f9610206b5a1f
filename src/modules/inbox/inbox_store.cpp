#include "modules/inbox/inbox_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "db/dialect.hpp"
#include "db/like.hpp"
#include "db/query.hpp"

namespace poste::inbox::store {

namespace {

using db::Query;

constexpr const char* kAccountColumns =
    "id, owner_user_id, site_id, name, host, port, tls, username, password, mailbox, uidvalidity, last_uid,"
    " last_sync_at, last_error, created_at, updated_at";

struct AccountRow {
  long long id = 0, owner = 0, site = 0, uidvalidity = 0, last_uid = 0, last_sync = 0, created = 0, updated = 0;
  int port = 0;
  soci::indicator owner_ind = soci::i_ok, site_ind = soci::i_ok, sync_ind = soci::i_ok;
  Account a;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(owner, owner_ind);
    q.Into(site, site_ind);
    q.Into(a.name);
    q.Into(a.host);
    q.Into(port);
    q.Into(a.tls);
    q.Into(a.username);
    q.Into(a.sealed_password);
    q.Into(a.mailbox);
    q.Into(uidvalidity);
    q.Into(last_uid);
    q.Into(last_sync, sync_ind);
    q.Into(a.last_error);
    q.Into(created);
    q.Into(updated);
  }
  Account Get() const {
    Account out = a;
    out.id = id, out.port = port, out.uidvalidity = uidvalidity, out.last_uid = last_uid;
    out.created_at = created, out.updated_at = updated;
    if (owner_ind == soci::i_ok) out.owner_user_id = owner;
    if (site_ind == soci::i_ok) out.site_id = site;
    if (sync_ind == soci::i_ok) out.last_sync_at = last_sync;
    return out;
  }
};

nlohmann::json AddressesToJson(const std::vector<Address>& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : list) out.push_back({{"name", a.name}, {"email", a.email}});
  return out;
}

std::vector<Address> AddressesFromJson(const std::string& text) {
  std::vector<Address> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& item : j) {
    if (!item.is_object()) continue;
    out.push_back({item.value("name", ""), item.value("email", "")});
  }
  return out;
}

std::vector<std::string> StringsFromJson(const std::string& text) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& item : j) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

// A list row's columns, then the whole message's. A list takes the text body's first kSnippetSourceChars
// characters only (enough for the snippet's ~200 bytes unless the text starts with hundreds of blank
// characters), and neither the HTML body nor the headers it does not show: no body leaves the database.
constexpr int kSnippetSourceChars = 500;

std::string SummaryColumns(const std::string& text) {
  return "id, account_id, uidvalidity, uid, thread_id, message_id, subject, from_name, from_email, to_json, sent_at, " +
         text + ", size, truncated, is_read, archived, attachment_count, created_at";
}
const std::string kListColumns = SummaryColumns("substr(text_body, 1, " + std::to_string(kSnippetSourceChars) + ")");
const std::string kMessageColumns =
    SummaryColumns("text_body") + ", in_reply_to, refs, cc_json, reply_to_json, html_body";

struct SummaryRow {
  long long id = 0, account = 0, uidvalidity = 0, uid = 0, thread = 0, sent = 0, size = 0, created = 0;
  int truncated = 0, read = 0, archived = 0, attachments = 0;
  soci::indicator sent_ind = soci::i_ok;
  std::string to, text;  // the whole text body, or its start (kListColumns)
  MessageSummary m;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(account);
    q.Into(uidvalidity);
    q.Into(uid);
    q.Into(thread);
    q.Into(m.message_id);
    q.Into(m.subject);
    q.Into(m.from.name);
    q.Into(m.from.email);
    q.Into(to);
    q.Into(sent, sent_ind);
    q.Into(text);
    q.Into(size);
    q.Into(truncated);
    q.Into(read);
    q.Into(archived);
    q.Into(attachments);
    q.Into(created);
  }
  MessageSummary Get() const {
    MessageSummary out = m;
    out.id = id, out.account_id = account, out.uidvalidity = uidvalidity, out.uid = uid, out.thread_id = thread;
    out.size = size, out.created_at = created;
    out.truncated = truncated != 0, out.read = read != 0, out.archived = archived != 0;
    out.attachment_count = attachments;
    if (sent_ind == soci::i_ok) out.sent_at = sent;
    out.to = AddressesFromJson(to);
    out.snippet = Snippet(text);
    return out;
  }
};

// kMessageColumns.
struct MessageRow : SummaryRow {
  std::string in_reply_to, refs, cc, reply_to, html;

  void BindTo(Query& q) {
    SummaryRow::BindTo(q);
    q.Into(in_reply_to);
    q.Into(refs);
    q.Into(cc);
    q.Into(reply_to);
    q.Into(html);
  }
  Message Get() const {
    Message out;
    static_cast<MessageSummary&>(out) = SummaryRow::Get();
    out.in_reply_to = in_reply_to;
    out.references = StringsFromJson(refs);
    out.cc = AddressesFromJson(cc);
    out.reply_to = AddressesFromJson(reply_to);
    out.text = text;
    out.html = html;
    return out;
  }
};

std::vector<std::int64_t> ThreadIds(Query& q, const std::string& sql) {
  long long thread = 0;
  q.Into(thread);
  std::vector<std::int64_t> out;
  if (q.Execute(sql)) {
    do {
      if (thread > 0) out.push_back(thread);
    } while (q.Fetch());
  }
  return out;
}

}  // namespace

std::int64_t InsertAccount(soci::session& s, const Account& a, std::int64_t now_ms) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  q.Execute(
      "INSERT INTO inbox_accounts (owner_user_id, site_id, name, host, port, tls, username, password, mailbox,"
      " created_at, updated_at) VALUES (" +
      q.Int(a.owner_user_id) + ", " + q.Int(a.site_id) + ", " + q.Text(a.name) + ", " + q.Text(a.host) + ", " +
      q.Int(a.port) + ", " + q.Text(a.tls) + ", " + q.Text(a.username) + ", " + q.Text(a.sealed_password) + ", " +
      q.Text(a.mailbox) + ", " + q.Int(now_ms) + ", " + q.Int(now_ms) + ") RETURNING id");
  return id;
}

std::optional<Account> GetAccount(soci::session& s, std::int64_t id) {
  Query q(s);
  AccountRow row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kAccountColumns) + " FROM inbox_accounts WHERE id = " + q.Int(id))) {
    return std::nullopt;
  }
  return row.Get();
}

bool InScope(const Account& a, const AccountScope& scope) {
  if (a.owner_user_id) return scope.owner_user_id && *scope.owner_user_id == *a.owner_user_id;
  if (!a.site_id) return false;
  return scope.all_sites || std::find(scope.site_ids.begin(), scope.site_ids.end(), *a.site_id) != scope.site_ids.end();
}

namespace {
// The WHERE condition of a scope ("1 = 0" when it allows nothing).
std::string ScopeCondition(Query& q, const AccountScope& scope) {
  std::vector<std::string> any;
  if (scope.owner_user_id) any.push_back("owner_user_id = " + q.Int(*scope.owner_user_id));
  if (scope.all_sites) {
    any.push_back("site_id IS NOT NULL");
  } else if (!scope.site_ids.empty()) {
    any.push_back("site_id IN (" + q.IntList(scope.site_ids) + ")");
  }
  if (any.empty()) return "1 = 0";
  std::string out;
  for (const auto& c : any) out += (out.empty() ? "(" : " OR ") + c;
  return out + ")";
}
}  // namespace

std::vector<Account> ListAccounts(soci::session& s, const AccountScope& scope) {
  Query q(s);
  AccountRow row;
  row.BindTo(q);
  std::vector<Account> out;
  if (q.Execute("SELECT " + std::string(kAccountColumns) + " FROM inbox_accounts WHERE " + ScopeCondition(q, scope) +
                " ORDER BY id LIMIT 1000")) {
    do {
      out.push_back(row.Get());
    } while (q.Fetch());
  }
  return out;
}

std::vector<std::int64_t> VisibleAccountIds(soci::session& s, const AccountScope& scope) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  std::vector<std::int64_t> out;
  if (q.Execute("SELECT id FROM inbox_accounts WHERE " + ScopeCondition(q, scope) + " ORDER BY id")) {
    do {
      out.push_back(id);
    } while (q.Fetch());
  }
  return out;
}

void UpdateAccount(soci::session& s, const Account& a, bool reset_position, std::int64_t now_ms) {
  Query q(s);
  std::string sql = "UPDATE inbox_accounts SET name = " + q.Text(a.name) + ", host = " + q.Text(a.host) +
                    ", port = " + q.Int(a.port) + ", tls = " + q.Text(a.tls) + ", username = " + q.Text(a.username) +
                    ", password = " + q.Text(a.sealed_password) + ", mailbox = " + q.Text(a.mailbox) +
                    ", updated_at = " + q.Int(now_ms);
  if (reset_position) sql += ", uidvalidity = 0, last_uid = 0, last_error = ''";
  q.Execute(sql + " WHERE id = " + q.Int(a.id));
}

bool DeleteAccount(soci::session& s, std::int64_t id) {
  const long long account = id;
  long long matched = 0;
  s << "DELETE FROM inbox_accounts WHERE id = :id RETURNING id", soci::use(account), soci::into(matched);
  return s.got_data();
}

void SetSyncPosition(soci::session& s, std::int64_t id, std::int64_t uidvalidity, std::int64_t last_uid) {
  const long long account = id, validity = uidvalidity, uid = last_uid;
  s << "UPDATE inbox_accounts SET uidvalidity = :v, last_uid = :u WHERE id = :id", soci::use(validity), soci::use(uid),
      soci::use(account);
}

void SetSyncResult(soci::session& s, std::int64_t id, const std::string& error, std::int64_t now_ms) {
  const long long account = id, now = now_ms;
  s << "UPDATE inbox_accounts SET last_error = :e, last_sync_at = :now WHERE id = :id", soci::use(error),
      soci::use(now), soci::use(account);
}

std::vector<std::int64_t> AllAccountIds(soci::session& s) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  std::vector<std::int64_t> out;
  if (q.Execute("SELECT id FROM inbox_accounts ORDER BY id")) {
    do {
      out.push_back(id);
    } while (q.Fetch());
  }
  return out;
}

bool HasMessage(soci::session& s, std::int64_t account_id, std::int64_t uidvalidity, std::int64_t uid) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  return q.Execute("SELECT id FROM inbox_messages WHERE account_id = " + q.Int(account_id) +
                   " AND uidvalidity = " + q.Int(uidvalidity) + " AND uid = " + q.Int(uid));
}

bool Rekey(soci::session& s, std::int64_t account_id, const std::string& message_id, std::int64_t uidvalidity,
           std::int64_t uid) {
  if (message_id.empty()) return false;
  Query find(s);
  long long id = 0;
  find.Into(id);
  if (!find.Execute("SELECT id FROM inbox_messages WHERE account_id = " + find.Int(account_id) + " AND message_id = " +
                    find.Text(message_id) + " AND uidvalidity <> " + find.Int(uidvalidity) + " ORDER BY id LIMIT 1")) {
    return false;
  }
  Query q(s);
  q.Execute("UPDATE inbox_messages SET uidvalidity = " + q.Int(uidvalidity) + ", uid = " + q.Int(uid) +
            " WHERE id = " + q.Int(id));
  return true;
}

std::int64_t InsertMessage(soci::session& s, const Message& m, std::int64_t now_ms) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  const std::string refs = nlohmann::json(m.references).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  q.Execute(
      "INSERT INTO inbox_messages (account_id, uidvalidity, uid, message_id, in_reply_to, refs, subject,"
      " from_name, from_email, to_json, cc_json, reply_to_json, sent_at, text_body, html_body, size, truncated,"
      " is_read, created_at) VALUES (" +
      q.Int(m.account_id) + ", " + q.Int(m.uidvalidity) + ", " + q.Int(m.uid) + ", " + q.Text(m.message_id) + ", " +
      q.Text(m.in_reply_to) + ", " + q.Text(refs) + ", " + q.Text(m.subject) + ", " + q.Text(m.from.name) + ", " +
      q.Text(m.from.email) + ", " + q.Text(dump(AddressesToJson(m.to))) + ", " + q.Text(dump(AddressesToJson(m.cc))) +
      ", " + q.Text(dump(AddressesToJson(m.reply_to))) + ", " + q.Int(m.sent_at) + ", " + q.Text(m.text) + ", " +
      q.Text(m.html) + ", " + q.Int(m.size) + ", " + q.Int(m.truncated ? 1 : 0) + ", " + q.Int(m.read ? 1 : 0) + ", " +
      q.Int(now_ms) + ") RETURNING id");
  std::set<std::string> refs_set(m.references.begin(), m.references.end());
  if (!m.in_reply_to.empty()) refs_set.insert(m.in_reply_to);
  refs_set.erase("");
  refs_set.erase(m.message_id);
  for (const auto& ref : refs_set) {
    Query r(s);
    r.Execute("INSERT INTO inbox_message_refs (message_row, account_id, ref) VALUES (" + r.Int(id) + ", " +
              r.Int(m.account_id) + ", " + r.Text(ref) + ")");
  }
  return id;
}

std::int64_t AssignThread(soci::session& s, std::int64_t account_id, std::int64_t message_row) {
  std::string message_id;
  {
    Query q(s);
    q.Into(message_id);
    q.Execute("SELECT message_id FROM inbox_messages WHERE id = " + q.Int(message_row));
  }
  std::vector<std::string> refs;
  {
    Query q(s);
    std::string ref;
    q.Into(ref);
    if (q.Execute("SELECT ref FROM inbox_message_refs WHERE message_row = " + q.Int(message_row))) {
      do {
        refs.push_back(ref);
      } while (q.Fetch());
    }
  }
  std::set<std::int64_t> threads;
  const auto add = [&](const std::vector<std::int64_t>& ids) { threads.insert(ids.begin(), ids.end()); };
  std::vector<std::string> names = refs;  // the Message-IDs this message shares a thread with
  if (!message_id.empty()) names.push_back(message_id);
  if (!refs.empty()) {
    Query q(s);  // the messages it names
    std::string in;
    for (const auto& r : refs) in += (in.empty() ? "" : ", ") + q.Text(r);
    add(ThreadIds(q, "SELECT DISTINCT thread_id FROM inbox_messages WHERE account_id = " + q.Int(account_id) +
                         " AND message_id IN (" + in + ") AND id <> " + q.Int(message_row)));
  }
  if (!names.empty()) {
    Query q(s);  // the messages naming it, or naming the same ancestors
    std::string in;
    for (const auto& r : names) in += (in.empty() ? "" : ", ") + q.Text(r);
    add(ThreadIds(q,
                  "SELECT DISTINCT m.thread_id FROM inbox_message_refs r JOIN inbox_messages m ON m.id = r.message_row"
                  " WHERE r.account_id = " +
                      q.Int(account_id) + " AND r.ref IN (" + in + ") AND m.id <> " + q.Int(message_row)));
  }
  std::int64_t thread = message_row;
  if (!threads.empty()) thread = std::min(thread, *threads.begin());
  Query q(s);
  std::string sql = "UPDATE inbox_messages SET thread_id = " + q.Int(thread) + " WHERE id = " + q.Int(message_row);
  if (!threads.empty()) {
    sql += " OR (account_id = " + q.Int(account_id) + " AND thread_id IN (" + q.IntList(threads) + "))";
  }
  q.Execute(sql);
  return thread;
}

void InsertAttachment(soci::session& s, std::int64_t message_row, const Attachment& a) {
  Query q(s);
  q.Execute(
      "INSERT INTO inbox_attachments (message_row, position, filename, content_type, content_id, is_inline,"
      " size, path) VALUES (" +
      q.Int(message_row) + ", " + q.Int(a.position) + ", " + q.Text(a.filename) + ", " + q.Text(a.content_type) + ", " +
      q.Text(a.content_id) + ", " + q.Int(a.inline_part ? 1 : 0) + ", " + q.Int(a.size) + ", " + q.Text(a.path) + ")");
}

void SetAttachmentCount(soci::session& s, std::int64_t message_row, int count) {
  Query q(s);
  q.Execute("UPDATE inbox_messages SET attachment_count = " + q.Int(count) + " WHERE id = " + q.Int(message_row));
}

std::optional<Message> GetMessage(soci::session& s, const std::vector<std::int64_t>& account_ids, std::int64_t id) {
  if (account_ids.empty()) return std::nullopt;
  Query q(s);
  MessageRow row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + kMessageColumns + " FROM inbox_messages WHERE id = " + q.Int(id) + " AND account_id IN (" +
                 q.IntList(account_ids) + ")")) {
    return std::nullopt;
  }
  return row.Get();
}

MessagePage ListMessages(soci::session& s, const std::vector<std::int64_t>& account_ids, const MessageFilter& f) {
  if (account_ids.empty()) return {};
  const int limit = std::clamp(f.limit, 1, kMaxListLimit);
  Query q(s);
  SummaryRow row;
  row.BindTo(q);
  std::string sql =
      "SELECT " + kListColumns + " FROM inbox_messages WHERE account_id IN (" + q.IntList(account_ids) + ")";
  if (f.account_id) sql += " AND account_id = " + q.Int(*f.account_id);
  if (f.thread_id) sql += " AND thread_id = " + q.Int(*f.thread_id);
  if (f.unread_only) sql += " AND is_read = 0";
  sql += f.archived ? " AND archived = 1" : " AND archived = 0";
  if (!f.q.empty()) {
    const std::string like(db::CaseInsensitiveLike(db::DialectOf(s)));
    const std::string pattern = db::ContainsPattern(f.q);
    std::string any;
    for (const char* column : {"subject", "from_name", "from_email", "text_body"}) {
      any += (any.empty() ? "" : " OR ") + std::string(column) + " " + like + " " + q.Text(pattern) + " ESCAPE '\\'";
    }
    sql += " AND (" + any + ")";
  }
  return db::NewestFirst<MessagePage>(q, std::move(sql), f.cursor, limit, [&] { return row.Get(); });
}

std::vector<MessageSummary> ThreadMessages(soci::session& s, const std::vector<std::int64_t>& account_ids,
                                           std::int64_t thread_id) {
  std::vector<MessageSummary> out;
  if (account_ids.empty()) return out;
  Query q(s);
  SummaryRow row;
  row.BindTo(q);
  if (q.Execute("SELECT " + kListColumns + " FROM inbox_messages WHERE thread_id = " + q.Int(thread_id) +
                " AND account_id IN (" + q.IntList(account_ids) + ") ORDER BY id LIMIT 500")) {
    do {
      out.push_back(row.Get());
    } while (q.Fetch());
  }
  return out;
}

std::vector<Attachment> Attachments(soci::session& s, std::int64_t message_row) {
  Query q(s);
  Attachment a;
  int position = 0, is_inline = 0;
  long long size = 0;
  q.Into(position);
  q.Into(a.filename);
  q.Into(a.content_type);
  q.Into(a.content_id);
  q.Into(is_inline);
  q.Into(size);
  q.Into(a.path);
  std::vector<Attachment> out;
  if (q.Execute("SELECT position, filename, content_type, content_id, is_inline, size, path FROM inbox_attachments"
                " WHERE message_row = " +
                q.Int(message_row) + " ORDER BY position")) {
    do {
      Attachment copy = a;
      copy.position = position, copy.inline_part = is_inline != 0, copy.size = size;
      out.push_back(std::move(copy));
    } while (q.Fetch());
  }
  return out;
}

void SetRead(soci::session& s, std::int64_t message_row, bool read) {
  Query q(s);
  q.Execute("UPDATE inbox_messages SET is_read = " + q.Int(read ? 1 : 0) + " WHERE id = " + q.Int(message_row));
}

void SetArchived(soci::session& s, std::int64_t message_row, bool archived) {
  Query q(s);
  q.Execute("UPDATE inbox_messages SET archived = " + q.Int(archived ? 1 : 0) + " WHERE id = " + q.Int(message_row));
}

}  // namespace poste::inbox::store
