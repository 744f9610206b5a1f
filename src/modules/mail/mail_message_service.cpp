#include "modules/mail/mail_message_service.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>

#include "db/database.hpp"
#include "db/dialect.hpp"
#include "jobs/job_queue.hpp"
#include "lib/ids.hpp"
#include "lib/mail/delivery.hpp"
#include "lib/mail/provider_http.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_limits_store.hpp"
#include "modules/mail/mail_message_store.hpp"
#include "modules/mail/mail_message_time.hpp"
#include "modules/mail/mail_transport.hpp"
#include "modules/webhooks/webhook_events.hpp"

namespace poste::mail {

namespace {

AppError NoMessage() { return AppError::NotFound("No such message."); }

bool Settled(MessageState s) {
  return s == MessageState::kSent || s == MessageState::kFailed || s == MessageState::kCancelled;
}

std::string DomainOf(const std::string& email) {
  const std::string ascii = AsciiAddress(email);
  const auto at = ascii.rfind('@');
  return at == std::string::npos ? "localhost" : ascii.substr(at + 1);
}

bool IsIdempotencyKey(const std::string& key) {
  return !key.empty() && key.size() <= kMaxIdempotencyKey &&
         std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

double RandomJitter() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(-1.0, 1.0)(gen);
}

// The data of email.sent / email.failed webhook events.
nlohmann::json EventData(const Message& m) {
  nlohmann::json to = nlohmann::json::array();
  for (const auto* list : {&m.request.to, &m.request.cc, &m.request.bcc}) {
    for (const auto& r : *list) to.push_back(r.email);
  }
  return {{"message_id", m.id},
          {"header_message_id", m.message_id},
          {"to", to},
          {"attempts", m.attempts},
          {"provider_message_id", m.provider_message_id},
          {"error", m.state == MessageState::kFailed ? m.last_error : std::string()}};
}

}  // namespace

MailMessagesService::MailMessagesService(db::Database& db, jobs::JobQueue& queue, MailAccountsService& accounts,
                                         MessagesOptions options)
    : db_(db), queue_(queue), accounts_(accounts), options_(std::move(options)) {}

std::int64_t MailMessagesService::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

OutgoingMessage MailMessagesService::Outgoing(const Message& m, const Mailbox& from,
                                              std::vector<FieldError>* errors) const {
  const auto& r = m.request;
  OutgoingMessage out;
  out.from = from;
  out.to = r.to;
  out.cc = r.cc;
  out.bcc = r.bcc;
  out.reply_to = r.reply_to;
  out.subject = r.subject;
  out.html = r.html;
  out.text = r.text;
  out.in_reply_to = r.in_reply_to;
  out.references = r.references;
  out.headers = r.headers;
  out.list_unsubscribe_url = r.list_unsubscribe_url;
  out.list_unsubscribe_mailto = r.list_unsubscribe_mailto;
  out.message_id = m.message_id;
  for (const auto& file : r.files) out.attachments.push_back(file);
  for (std::size_t i = 0; i < r.attachments.size(); ++i) {
    std::optional<Attachment> found;
    if (options_.media_attachment) found = options_.media_attachment(m.site_id, r.attachments[i]);
    if (found) {
      out.attachments.push_back(std::move(*found));
    } else if (errors) {
      errors->push_back({"attachments[" + std::to_string(i) + "]", "not_found", "no such media item on the site"});
    } else {
      throw AppError::Validation(
          {{"attachments[" + std::to_string(i) + "]", "not_found", "the media item no longer exists"}});
    }
  }
  return out;
}

void MailMessagesService::QueueJob(soci::session& s, const Message& m, std::int64_t run_at_ms,
                                   const std::string& key_suffix) {
  jobs::EnqueueOptions job;
  job.run_at_ms = run_at_ms;
  job.max_attempts = 3;  // the job itself fails only on infrastructure errors; sends are counted on the message
  job.idempotency_key = std::string(kSendJobKind) + ":" + std::to_string(m.id) + ":" + key_suffix;
  queue_.EnqueueIn(s, kSendJobKind, nlohmann::json{{"site_id", m.site_id}, {"message_id", m.id}}.dump(), job);
}

Enqueued MailMessagesService::Enqueue(const audit::Origin& origin, std::int64_t site_id, MessageRequest request,
                                      const SendOptions& options) {
  std::vector<FieldError> errors;
  if (options.idempotency_key) {
    if (!IsIdempotencyKey(*options.idempotency_key)) {
      throw AppError::Validation(
          {{"idempotency_key", "invalid_format", "1 to 200 printable ASCII characters without spaces"}});
    }
    auto first = db_.ReadValue(
        [&](soci::session& s) { return message_store::FindByIdempotencyKey(s, site_id, *options.idempotency_key); });
    if (first) return {std::move(*first), false};
  }
  if (options.send_at) {
    std::string why;
    const std::string zone = options_.site_timezone ? options_.site_timezone(site_id) : "UTC";
    auto at = ParseSendAt(*options.send_at, zone, &why);
    if (!at) {
      errors.push_back({"send_at", "invalid_format", why});
    } else {
      request.send_at_ms = *at;
    }
  }
  std::optional<Account> account;
  try {
    account = accounts_.Resolve(site_id, request.account_id);
  } catch (const AppError& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
    errors.push_back({"account_id", "not_found", "no such mail account on the site"});
  }
  Message m;
  m.site_id = site_id;
  m.account_id = account && account->id != 0 ? std::optional<std::int64_t>(account->id) : std::nullopt;
  m.request = std::move(request);
  m.idempotency_key = options.idempotency_key;
  m.created_by = options.created_by;
  m.message_id = BracketMessageId(RandomHex(16) + "@" + DomainOf(account ? account->from.email : "x@localhost"));
  if (account) {
    auto outgoing = Outgoing(m, account->from, &errors);
    ValidateMessage(outgoing, errors);
  }
  ThrowIfAny(std::move(errors));
  const auto now = Now();
  try {
    auto stored = db_.WriteValue([&](soci::session& s) {
      m.id = message_store::Insert(s, m, now);
      QueueJob(s, m, std::max(now, m.request.send_at_ms.value_or(now)), "0");
      return *message_store::Get(s, site_id, m.id);
    });
    queue_.NotifyEnqueued();
    (void)origin;  // messages are logged in their own table, not in the audit log
    return {std::move(stored), true};
  } catch (const std::exception& e) {
    // Two requests with the same key at once: the second one answers the first's message.
    if (!options.idempotency_key || !db::IsUniqueViolation(e)) throw;
    auto first = db_.ReadValue(
        [&](soci::session& s) { return message_store::FindByIdempotencyKey(s, site_id, *options.idempotency_key); });
    if (!first) throw;
    return {std::move(*first), false};
  }
}

Message MailMessagesService::Get(std::int64_t site_id, std::int64_t id) {
  auto found = db_.ReadValue([&](soci::session& s) { return message_store::Get(s, site_id, id); });
  if (!found) throw NoMessage();
  return std::move(*found);
}

MessagePage MailMessagesService::List(std::int64_t site_id, std::optional<MessageState> state, int limit,
                                      std::optional<std::int64_t> cursor) {
  MessageFilter filter;
  filter.state = state;
  filter.limit = limit;
  filter.cursor = cursor;
  return List(site_id, filter);
}

MessagePage MailMessagesService::List(std::int64_t site_id, const MessageFilter& filter) {
  return db_.ReadValue([&](soci::session& s) { return message_store::List(s, site_id, filter); });
}

Message MailMessagesService::Cancel(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  return db_.WriteValue([&](soci::session& s) {
    auto m = message_store::GetForUpdate(s, site_id, id);
    if (!m) throw NoMessage();
    if (m->state != MessageState::kQueued) {
      throw AppError::Conflict("Only a queued message can be cancelled; this one is " +
                               std::string(MessageStateName(m->state)) + ".");
    }
    m->state = MessageState::kCancelled;
    message_store::SaveOutcome(s, *m, Now());
    audit::Record(s, audit::EntryFrom(origin, "mail_message.cancel", "mail_message", std::to_string(id), site_id,
                                      {{"subject", m->request.subject}}));
    return *message_store::Get(s, site_id, id);
  });
}

void MailMessagesService::HandleSend(const jobs::Job& job) {
  auto payload = nlohmann::json::parse(job.payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("site_id") || !payload["site_id"].is_number_integer() ||
      !payload.contains("message_id") || !payload["message_id"].is_number_integer()) {
    throw jobs::PermanentError("mail.send: malformed payload");
  }
  const std::int64_t site_id = payload["site_id"], id = payload["message_id"];
  if (auto watch = payload.find("watch_attempt"); watch != payload.end()) {
    if (!watch->is_number_integer()) throw jobs::PermanentError("mail.send: malformed payload");
    Recover(site_id, id, watch->get<int>());
    return;
  }

  // Claim the message for this try under its row lock: a cancel either happened before (we stop here) or
  // waits for this transaction and then finds the message sending (and is refused). The claim also queues
  // the watch of this try: if no outcome is recorded within the lease (the worker died, the last job
  // attempt failed), Recover puts the message back to queued or fails it, instead of leaving it sending.
  std::optional<Message> message;
  std::optional<Account> account;
  db_.Write([&](soci::session& s) {
    auto m = message_store::GetForUpdate(s, site_id, id);
    if (!m || Settled(m->state)) return;
    const auto now = Now();
    auto found = accounts_.ResolveIn(s, site_id, m->account_id.value_or(0));
    if (!found) {
      m->state = MessageState::kFailed;
      m->last_error = "the mail account was deleted before the message was sent";
      message_store::SaveOutcome(s, *m, now);
      return;
    }
    if (found->id != 0) {
      auto slot = limits_store::Reserve(s, site_id, found->id, found->limits, now);
      if (!slot.granted) {
        QueueJob(s, *m, now + slot.wait_ms, "wait:" + RandomHex(8));
        return;
      }
    }
    m->state = MessageState::kSending;
    ++m->attempts;
    message_store::SaveOutcome(s, *m, now);
    QueueWatch(s, *m, now + SendingLease(), "");
    message = std::move(m);
    account = std::move(found);
  });
  if (!message) {
    queue_.NotifyEnqueued();
    return;
  }
  const int attempt = message->attempts;

  // Recorded as sent right before the point of no return (Delivery::on_commit), and only while this try
  // still holds the message (same attempt, still sending): once the server may have it, a failure of what
  // follows (the outcome's write, this worker) can no longer send it again.
  bool committed = false, lost_claim = false;
  DeliveryResult result;
  if (options_.fault) options_.fault("before_send");
  try {
    const auto outgoing = Outgoing(*message, account->from, nullptr);
    auto built = BuildMessage(outgoing);
    if (options_.dkim_signature) {
      built.bytes.insert(0, options_.dkim_signature(site_id, account->from.email, built.bytes));
    }
    Delivery delivery;
    delivery.message = &outgoing;
    delivery.built = &built;
    delivery.envelope_from = AsciiAddress(account->from.email);
    delivery.recipients = EnvelopeRecipients(outgoing);
    delivery.on_commit = [&] {
      committed = db_.WriteValue(
          [&](soci::session& s) { return message_store::MarkCommitted(s, site_id, id, attempt, Now()); });
      lost_claim = !committed;
      return committed;
    };
    result = accounts_.TransportFor(*account)->Send(delivery);
  } catch (const AppError& e) {
    result.outcome = DeliveryOutcome::kPermanent;
    result.answer = "the message could not be built: " + e.message();
    for (const auto& f : e.fields()) result.answer += " " + f.field + ": " + f.message;
  } catch (const std::exception& e) {
    result.outcome = DeliveryOutcome::kPermanent;
    result.answer = std::string("the message could not be built: ") + e.what();
  }
  if (lost_claim) {  // another try took the message over (a lease expired): nothing was sent by this one
    spdlog::warn("mail message {} of site {}: try {} lost its claim before sending", id, site_id, attempt);
    return;
  }
  if (options_.fault) options_.fault("after_send");

  result.answer = CleanAnswer(result.answer);  // whatever the server sent: storable, one line, bounded
  db_.Write([&](soci::session& s) {
    auto m = message_store::GetForUpdate(s, site_id, id);
    // Only this try's outcome: the message is still ours when nobody claimed it since (same attempt) and it
    // is sending, or sent by our own commit.
    if (!m || m->attempts != attempt) return;
    if (m->state != MessageState::kSending && !(committed && m->state == MessageState::kSent)) return;
    const auto now = Now();
    m->refused_recipients = result.refused_recipients;
    switch (result.outcome) {
      case DeliveryOutcome::kSent:
        m->state = MessageState::kSent;
        if (!m->sent_at) m->sent_at = now;
        m->provider_message_id = result.provider_message_id;
        if (!result.refused_recipients.empty()) m->last_error = "some recipients were refused: " + result.answer;
        break;
      case DeliveryOutcome::kTemporary:
        m->last_error = result.answer;
        m->sent_at.reset();
        if (m->attempts >= options_.max_attempts) {
          m->state = MessageState::kFailed;
        } else {
          m->state = MessageState::kQueued;
          const double jitter = options_.jitter ? options_.jitter() : RandomJitter();
          QueueJob(s, *m, now + jobs::JobQueue::RetryDelayMs(m->attempts, jitter),
                   "retry" + std::to_string(m->attempts));
        }
        break;
      case DeliveryOutcome::kPermanent:
        m->state = MessageState::kFailed;
        m->sent_at.reset();
        m->last_error = result.answer;
        break;
    }
    message_store::SaveOutcome(s, *m, now);
    if (m->state == MessageState::kSent || m->state == MessageState::kFailed) {
      webhooks::EmitIn(queue_, s, site_id, m->state == MessageState::kSent ? "email.sent" : "email.failed",
                       EventData(*m));
    }
  });
  if (result.outcome != DeliveryOutcome::kSent) {
    spdlog::info("mail message {} of site {}: {} ({})", id, site_id,
                 result.outcome == DeliveryOutcome::kTemporary ? "temporary failure" : "permanent failure",
                 result.answer);
  }
  queue_.NotifyEnqueued();
}

std::int64_t MailMessagesService::SendingLease() const {
  return options_.sending_lease_ms > 0 ? options_.sending_lease_ms : 15 * 60 * 1000;
}

void MailMessagesService::QueueWatch(soci::session& s, const Message& m, std::int64_t run_at_ms,
                                     const std::string& key_suffix) {
  jobs::EnqueueOptions job;
  job.run_at_ms = run_at_ms;
  job.max_attempts = 3;
  job.idempotency_key =
      std::string(kSendJobKind) + ":" + std::to_string(m.id) + ":watch" + std::to_string(m.attempts) + key_suffix;
  queue_.EnqueueIn(s, kSendJobKind,
                   nlohmann::json{{"site_id", m.site_id}, {"message_id", m.id}, {"watch_attempt", m.attempts}}.dump(),
                   job);
}

bool MailMessagesService::Recover(std::int64_t site_id, std::int64_t id, int attempt) {
  bool recovered = false;
  db_.Write([&](soci::session& s) {
    auto m = message_store::GetForUpdate(s, site_id, id);
    if (!m || m->state != MessageState::kSending || m->attempts != attempt) return;  // the try ended, or a new one
    const auto now = Now();
    if (m->updated_at > now - SendingLease()) {  // not yet expired (a clock moved): look again at the lease's end
      QueueWatch(s, *m, m->updated_at + SendingLease(), ":" + RandomHex(8));
      return;
    }
    // Nothing was committed by that try (a commit makes the message sent), so nothing was sent: retry it.
    m->last_error = "the try " + std::to_string(attempt) + " stopped before an outcome was recorded";
    if (m->attempts >= options_.max_attempts) {
      m->state = MessageState::kFailed;
      webhooks::EmitIn(queue_, s, site_id, "email.failed", EventData(*m));
    } else {
      m->state = MessageState::kQueued;
      QueueJob(s, *m, now, "recover" + std::to_string(attempt));
    }
    message_store::SaveOutcome(s, *m, now);
    recovered = true;
  });
  if (recovered) {
    spdlog::warn("mail message {} of site {}: try {} left it sending; recovered", id, site_id, attempt);
    queue_.NotifyEnqueued();
  }
  return recovered;
}

}  // namespace poste::mail
