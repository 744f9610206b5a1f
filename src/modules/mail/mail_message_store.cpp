#include "modules/mail/mail_message_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <functional>

#include "db/dialect.hpp"
#include "db/like.hpp"
#include "db/query.hpp"

namespace poste::mail::message_store {

namespace {

using db::Query;

constexpr const char* kColumns =
    "id, site_id, account_id, state, request, message_id, idempotency_key, attempts, provider_message_id,"
    " last_error, refused_recipients, created_by, sent_at, created_at, updated_at";

struct Row {
  long long id = 0, site_id = 0, account_id = 0, created_by = 0, sent_at = 0, created_at = 0, updated_at = 0;
  int attempts = 0;
  soci::indicator account_ind = soci::i_ok, key_ind = soci::i_ok, by_ind = soci::i_ok, sent_ind = soci::i_ok;
  std::string state, request, key, refused;
  Message m;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(account_id, account_ind);
    q.Into(state);
    q.Into(request);
    q.Into(m.message_id);
    q.Into(key, key_ind);
    q.Into(attempts);
    q.Into(m.provider_message_id);
    q.Into(m.last_error);
    q.Into(refused);
    q.Into(created_by, by_ind);
    q.Into(sent_at, sent_ind);
    q.Into(created_at);
    q.Into(updated_at);
  }
  Message Get() const {
    Message out = m;
    out.id = id, out.site_id = site_id, out.attempts = attempts, out.created_at = created_at,
    out.updated_at = updated_at;
    if (account_ind == soci::i_ok) out.account_id = account_id;
    if (key_ind == soci::i_ok) out.idempotency_key = key;
    if (by_ind == soci::i_ok) out.created_by = created_by;
    if (sent_ind == soci::i_ok) out.sent_at = sent_at;
    out.state = ParseMessageState(state).value_or(MessageState::kFailed);
    out.request = RequestFromJson(nlohmann::json::parse(request, nullptr, false));
    auto list = nlohmann::json::parse(refused, nullptr, false);
    if (list.is_array()) {
      for (const auto& r : list) {
        if (r.is_string()) out.refused_recipients.push_back(r);
      }
    }
    return out;
  }
};

std::optional<Message> One(soci::session& s, const std::function<std::string(Query&)>& condition,
                           const std::string& suffix = {}) {
  Query q(s);
  Row row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kColumns) + " FROM mail_messages WHERE " + condition(q) + suffix)) {
    return std::nullopt;
  }
  return row.Get();
}

}  // namespace

std::int64_t Insert(soci::session& s, const Message& m, std::int64_t now_ms) {
  const long long site = m.site_id, now = now_ms, account = m.account_id.value_or(0),
                  send_at = m.request.send_at_ms.value_or(0), by = m.created_by.value_or(0);
  soci::indicator account_ind = m.account_id ? soci::i_ok : soci::i_null,
                  send_ind = m.request.send_at_ms ? soci::i_ok : soci::i_null,
                  key_ind = m.idempotency_key ? soci::i_ok : soci::i_null,
                  by_ind = m.created_by ? soci::i_ok : soci::i_null;
  const std::string state(MessageStateName(m.state)), request = RequestToJson(m.request).dump(),
                                                      key = m.idempotency_key.value_or("");
  long long id = 0;
  s << "INSERT INTO mail_messages (site_id, account_id, state, request, subject, message_id, send_at,"
       " idempotency_key, created_by, created_at, updated_at) VALUES (:site, :account, :state, :request, :subject,"
       " :message_id, :send_at, :key, :by, :created, :updated) RETURNING id",
      soci::use(site), soci::use(account, account_ind), soci::use(state), soci::use(request),
      soci::use(m.request.subject), soci::use(m.message_id), soci::use(send_at, send_ind), soci::use(key, key_ind),
      soci::use(by, by_ind), soci::use(now), soci::use(now), soci::into(id);
  return id;
}

std::optional<Message> Get(soci::session& s, std::int64_t site_id, std::int64_t id) {
  return One(s, [&](Query& q) { return "site_id = " + q.Int(site_id) + " AND id = " + q.Int(id); });
}

std::optional<Message> GetForUpdate(soci::session& s, std::int64_t site_id, std::int64_t id) {
  return One(
      s, [&](Query& q) { return "site_id = " + q.Int(site_id) + " AND id = " + q.Int(id); },
      std::string(db::ForUpdate(db::DialectOf(s))));
}

std::optional<Message> FindByIdempotencyKey(soci::session& s, std::int64_t site_id, const std::string& key) {
  return One(s, [&](Query& q) { return "site_id = " + q.Int(site_id) + " AND idempotency_key = " + q.Text(key); });
}

MessagePage List(soci::session& s, std::int64_t site_id, const MessageFilter& f) {
  const int limit = std::clamp(f.limit, 1, kMaxMessageListLimit);
  Query q(s);
  Row row;
  row.BindTo(q);
  std::string sql = "SELECT " + std::string(kColumns) + " FROM mail_messages WHERE site_id = " + q.Int(site_id);
  if (f.state) sql += " AND state = " + q.Text(std::string(MessageStateName(*f.state)));
  if (!f.recipient.empty()) {
    // The stored request holds each recipient as {"email":"...","name":"..."} (keys sorted): an exact address
    // of To, Cc, Bcc or Reply-To, whatever its case.
    sql += " AND request " + std::string(db::CaseInsensitiveLike(db::DialectOf(s))) + " " +
           q.Text(db::ContainsPattern("\"email\":" + nlohmann::json(f.recipient).dump())) + " ESCAPE '\\'";
  }
  return db::NewestFirst<MessagePage>(q, std::move(sql), f.cursor, limit, [&] { return row.Get(); });
}

bool MarkCommitted(soci::session& s, std::int64_t site_id, std::int64_t id, int attempt, std::int64_t now_ms) {
  const long long site = site_id, message = id, now = now_ms;
  soci::statement st =
      (s.prepare << "UPDATE mail_messages SET state = 'sent', sent_at = :now, updated_at = :now2"
                    " WHERE site_id = :site AND id = :id AND state = 'sending' AND attempts = :attempt",
       soci::use(now), soci::use(now), soci::use(site), soci::use(message), soci::use(attempt));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

void SaveOutcome(soci::session& s, const Message& m, std::int64_t now_ms) {
  const long long site = m.site_id, id = m.id, now = now_ms, sent_at = m.sent_at.value_or(0);
  soci::indicator sent_ind = m.sent_at ? soci::i_ok : soci::i_null;
  const int attempts = m.attempts;
  const std::string state(MessageStateName(m.state)), refused = nlohmann::json(m.refused_recipients).dump();
  s << "UPDATE mail_messages SET state = :state, attempts = :attempts, provider_message_id = :provider,"
       " last_error = :error, refused_recipients = :refused, sent_at = :sent_at, updated_at = :now"
       " WHERE site_id = :site AND id = :id",
      soci::use(state), soci::use(attempts), soci::use(m.provider_message_id), soci::use(m.last_error),
      soci::use(refused), soci::use(sent_at, sent_ind), soci::use(now), soci::use(site), soci::use(id);
}

}  // namespace poste::mail::message_store
