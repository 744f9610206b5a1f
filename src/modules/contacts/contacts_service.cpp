#include "modules/contacts/contacts_service.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/error.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/validate/email.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/contacts/contacts_csv.hpp"
#include "modules/contacts/contacts_store.hpp"
#include "modules/webhooks/webhook_events.hpp"

namespace poste::contacts {

namespace {

AppError NoContact() { return AppError::NotFound("No such contact."); }

// The user agent as stored: cut at kMaxUserAgentBytes on a character boundary, control characters dropped.
std::string CleanUserAgent(std::string_view ua) {
  std::string out;
  for (char c : ua) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) continue;
    out += c;
  }
  if (out.size() > kMaxUserAgentBytes) {
    std::size_t cut = kMaxUserAgentBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

}  // namespace

ContactsService::ContactsService(db::Database& db, jobs::JobQueue& queue, std::string ip_key, ContactsOptions options)
    : db_(db), queue_(queue), ip_key_(std::move(ip_key)), options_(std::move(options)) {}

std::int64_t ContactsService::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ContactsService::HashIp(std::string_view ip) const {
  if (ip.empty()) return {};
  return crypto::HexEncode(crypto::HmacSha256(ip_key_, ip));
}

std::optional<std::int64_t> ContactsService::Submit(std::int64_t site_id, const Submission& submission,
                                                    const ClientInfo& client) {
  const auto now = Now();
  const auto verdict = CheckSpam(submission, now, options_.min_fill_ms);
  if (verdict != SpamVerdict::kAccept) {
    spdlog::info("contact form on site {} dropped as spam ({})", site_id,
                 verdict == SpamVerdict::kHoneypot ? "honeypot" : "too fast");
    return std::nullopt;
  }
  auto errors = Validate(submission);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  Contact c;
  c.site_id = site_id;
  c.name = std::string(validate::ascii::Trim(submission.name));
  c.email = validate::NormalizeEmail(submission.email);
  c.subject = std::string(validate::ascii::Trim(submission.subject));
  c.message = submission.message;
  c.page = std::string(validate::ascii::Trim(submission.page));
  c.consent = submission.consent;
  c.ip_hash = HashIp(client.ip);
  c.user_agent = CleanUserAgent(client.user_agent);
  const auto id = db_.WriteValue([&](soci::session& s) {
    const auto id = store::Insert(s, c, now);
    jobs::EnqueueOptions options;
    options.max_attempts = options_.notify_max_attempts;
    options.idempotency_key = "contact.notify:" + std::to_string(id);
    queue_.EnqueueIn(s, kNotifyJobKind, nlohmann::json{{"site_id", site_id}, {"contact_id", id}}.dump(), options);
    webhooks::EmitIn(queue_, s, site_id, "contact.received",
                     {{"contact_id", id},
                      {"name", c.name},
                      {"email", c.email},
                      {"subject", c.subject},
                      {"message", c.message},
                      {"page", c.page},
                      {"consent", c.consent},
                      {"created_at", now}});
    return id;
  });
  queue_.NotifyEnqueued();
  return id;
}

ContactPage ContactsService::List(std::int64_t site_id, const ContactFilter& filter) {
  return db_.ReadValue([&](soci::session& s) { return store::List(s, site_id, filter); });
}

Contact ContactsService::Get(std::int64_t site_id, std::int64_t id) {
  auto found = db_.ReadValue([&](soci::session& s) { return store::Get(s, site_id, id); });
  if (!found) throw NoContact();
  return *found;
}

Contact ContactsService::Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                                const ContactPatch& patch) {
  const auto now = Now();
  return db_.WriteValue([&](soci::session& s) {
    auto before = store::Get(s, site_id, id);
    if (!before) throw NoContact();
    auto after = store::Update(s, site_id, id, patch, now);
    if (!after) throw NoContact();
    nlohmann::json changes = nlohmann::json::object();
    if (before->read != after->read) changes["read"] = {{"from", before->read}, {"to", after->read}};
    if (before->archived != after->archived) {
      changes["archived"] = {{"from", before->archived}, {"to", after->archived}};
    }
    if (!changes.empty()) {
      audit::Record(s, audit::EntryFrom(origin, "contact.update", "contact", std::to_string(id), site_id, changes));
    }
    return *after;
  });
}

void ContactsService::Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  db_.Write([&](soci::session& s) {
    auto before = store::Get(s, site_id, id);
    if (!before || !store::Delete(s, site_id, id)) throw NoContact();
    // Who wrote and when, not what: the message itself is gone on purpose (a deletion request).
    audit::Record(s, audit::EntryFrom(origin, "contact.delete", "contact", std::to_string(id), site_id,
                                      {{"created_at", before->created_at}}));
  });
}

std::string ContactsService::ExportCsv(std::int64_t site_id, ContactFilter filter) {
  std::string out = CsvHeader();
  filter.limit = kMaxListLimit;
  filter.cursor.reset();
  int rows = 0;
  db_.Read([&](soci::session& s) {
    while (rows < kMaxExportRows) {
      auto page = store::List(s, site_id, filter);
      for (const auto& c : page.items) {
        if (rows++ == kMaxExportRows) break;
        out += CsvRow(c);
      }
      if (!page.next_cursor) break;
      filter.cursor = page.next_cursor;
    }
  });
  return out;
}

void ContactsService::HandleNotify(const jobs::Job& job) {
  const auto payload = nlohmann::json::parse(job.payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("site_id") || !payload["site_id"].is_number_integer() ||
      !payload.contains("contact_id") || !payload["contact_id"].is_number_integer()) {
    throw jobs::PermanentError("contact.notify: malformed payload");
  }
  const std::int64_t site_id = payload["site_id"], contact_id = payload["contact_id"];
  auto contact = db_.ReadValue([&](soci::session& s) { return store::Get(s, site_id, contact_id); });
  if (!contact || contact->notify_status == NotifyStatus::kSent) return;  // deleted since, or already done
  const bool last_attempt = job.attempts >= job.max_attempts;
  const auto record = [&](NotifyStatus status, const std::string& error) {
    const auto now = Now();
    db_.Write([&](soci::session& s) { store::SetNotify(s, site_id, contact_id, status, error, now); });
  };
  if (!options_.send_mail) {
    // Until the mail module exists: say why on the contact, and let the queue retry with its backoff.
    record(last_attempt ? NotifyStatus::kFailed : NotifyStatus::kPending, std::string(kNoMailAccount));
    throw std::runtime_error(std::string(kNoMailAccount));
  }
  const std::string to = options_.contact_address ? options_.contact_address(site_id) : std::string();
  if (to.empty()) {
    record(NotifyStatus::kFailed, "the site has no contact address");
    throw jobs::PermanentError("contact.notify: the site has no contact address");
  }
  Notification n;
  n.site_id = site_id;
  n.to = to;
  n.reply_to = contact->email;
  n.subject = contact->subject.empty() ? "New message from " + contact->name : "Contact: " + contact->subject;
  n.text = "From: " + contact->name + " <" + contact->email + ">\n" +
           (contact->page.empty() ? "" : "Page: " + contact->page + "\n") + "\n" + contact->message + "\n";
  try {
    options_.send_mail(n);
  } catch (const std::exception& error) {
    record(last_attempt ? NotifyStatus::kFailed : NotifyStatus::kPending, error.what());
    throw;
  }
  record(NotifyStatus::kSent, "");
}

}  // namespace poste::contacts
