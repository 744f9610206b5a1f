// SmtpTransport::SendAll: several SMTP connections driven by one thread with poll(). Each connection has at
// most one transaction at MAIL / RCPT / DATA and one whose "." was written; replies are matched to what
// was written, in order. With PIPELINING (RFC 2920) a message's data, its "." and the next message's MAIL,
// RCPT and DATA go in one write ("the actual transfer of message content is explicitly allowed to be the
// first 'command' in a group"), so each message costs one wake-up; without it, commands go one per reply.
#include <poll.h>

#include <algorithm>
#include <deque>
#include <optional>

#include "lib/mail/smtp_session.hpp"

namespace poste::mail {

namespace {

using smtp_detail::OutcomeOf;
using smtp_detail::Refused;
using smtp_detail::Result;
using Clock = std::chrono::steady_clock;

enum class Awaits { kMail, kRcpt, kData, kDot, kRset };

// A transaction whose replies are due.
struct Txn {
  const Delivery* d = nullptr;
  bool mail_ok = false;
  std::size_t rcpt_replies = 0, accepted = 0;
  DeliveryResult refused;  // the last refused RCPT's answer, and every refused recipient
};

struct Conn {
  explicit Conn(smtp_detail::Session& s) : session(s) {}
  smtp_detail::Session& session;
  std::deque<Awaits> expected;                        // replies due, in the order their commands went
  std::deque<std::pair<std::string, Awaits>> unsent;  // commands not written yet
  std::string out;                                    // bytes to write now
  Txn envelope;                                       // at MAIL / RCPT / DATA (d null: none)
  Txn at_dot;                                         // its "." was written (d null: none)
  bool ready = false;                                 // envelope's DATA got 354: waiting for Commit
  bool refused = false;  // could not be opened in this call: takes no more messages (the others go on)
  Clock::time_point deadline;
  bool idle() const { return expected.empty() && unsent.empty() && !envelope.d && !at_dot.d && !ready; }
};

class Driver {
 public:
  Driver(SmtpTransport::State& state, DeliverySource& source, int connections) : state_(state), source_(source) {
    const auto n = static_cast<std::size_t>(std::clamp(connections, 1, SmtpTransport::kMaxConnections));
    if (state_.many.size() < n) state_.many.resize(n);
    for (std::size_t i = 0; i < n; ++i) conns_.emplace_back(state_.many[i]);
  }

  void Run() {
    try {
      Loop();
    } catch (...) {
      // The source threw (its database): a connection inside DATA can only be left by closing it.
      for (auto& c : conns_) {
        if (!c.idle()) Reset(c);
      }
      throw;
    }
  }

 private:
  // The next message to start: one put back first, then the source's; those that cannot be sent at all get
  // their result here.
  const Delivery* Take() {
    for (;;) {
      const Delivery* d = nullptr;
      if (!spare_.empty()) {
        d = spare_.front();
        spare_.pop_front();
      } else if (more_) {
        d = source_.Next();
        if (!d) more_ = false;
      }
      if (!d) return nullptr;
      if (!d->built) {
        source_.Done(*d, Result(DeliveryOutcome::kPermanent, "nothing to send"));
      } else if (d->recipients.empty()) {
        source_.Done(*d, Result(DeliveryOutcome::kPermanent, "no recipients"));
      } else {
        return d;
      }
    }
  }

  void Loop() {
    for (;;) {
      bool usable = false;
      for (auto& c : conns_) {
        while (!c.refused && !c.envelope.d && !c.ready) {
          const Delivery* d = Take();
          if (!d) break;
          Begin(c, d);
        }
        usable = usable || !c.refused;
      }
      if (!usable) {  // no connection could be opened: what is left fails as the last one did
        while (const Delivery* d = Take()) source_.Done(*d, refusal_);
      }
      if (CommitDue()) CommitReady();
      bool due = false;
      for (const auto& c : conns_) due = due || !c.expected.empty() || c.ready;
      if (!due) {
        if (!more_ && spare_.empty()) return;
        continue;
      }
      Wait();
    }
  }

  // Opens the connection when needed and queues the envelope.
  void Begin(Conn& c, const Delivery* d) {
    auto& wire = c.session.wire;
    try {
      // A kept connection the server closed (or said goodbye on) while idle is opened again.
      if (wire && c.idle() && wire->HasUnreadInput()) wire.reset();
      if (!wire) {
        smtp_detail::Open(c.session, state_.options);
        ++state_.sockets;
      }
    } catch (const Refused& r) {
      return Unopened(c, d, r.result);
    } catch (const SmtpWireError& e) {
      return Unopened(c, d, smtp_detail::WireFailure(state_.options, e));
    }
    c.envelope = Txn{};
    c.envelope.d = d;
    QueueEnvelope(c, d);
    Flush(c);
  }

  // A connection the server would not open (down, or at its limit of connections) takes no more messages in
  // this call; its message goes on another one, or fails when none is left.
  void Unopened(Conn& c, const Delivery* d, DeliveryResult result) {
    c.session.wire.reset();
    c.refused = true;
    refusal_ = std::move(result);
    for (const auto& other : conns_) {
      if (!other.refused) {
        spare_.push_front(d);
        return;
      }
    }
    source_.Done(*d, refusal_);
  }

  void QueueEnvelope(Conn& c, const Delivery* d) {
    Queue(c, "MAIL FROM:<" + d->envelope_from + ">\r\n", Awaits::kMail);
    for (const auto& r : d->recipients) Queue(c, "RCPT TO:<" + r + ">\r\n", Awaits::kRcpt);
    Queue(c, "DATA\r\n", Awaits::kData);
  }

  void Queue(Conn& c, std::string command, Awaits awaits) { c.unsent.emplace_back(std::move(command), awaits); }

  // Writes what may go now: every queued command when the server pipelines, else one when no reply is due.
  void Flush(Conn& c) {
    while (!c.unsent.empty() && (c.session.pipelining || c.expected.empty())) {
      c.out += c.unsent.front().first;
      c.expected.push_back(c.unsent.front().second);
      c.unsent.pop_front();
    }
    if (c.out.empty()) return;
    try {
      c.session.wire->Write(c.out);
      c.out.clear();
      c.deadline = Clock::now() + state_.options.total_timeout;
    } catch (const SmtpWireError& e) {
      Fail(c, e);
    }
  }

  // Whether the messages at 354 are committed now: when no other connection's 354 is due, or the first of
  // them has waited kGroupWait. The connections of a campaign reach 354 within a fraction of a millisecond of
  // each other; one transaction for all of them costs this thread (and the database) a fraction of one each.
  bool CommitDue() {
    bool ready = false, coming = false;
    for (const auto& c : conns_) {
      ready = ready || c.ready;
      coming = coming || (!c.ready && c.envelope.d);
    }
    if (!ready) {
      ready_since_.reset();
      return false;
    }
    if (!ready_since_) ready_since_ = Clock::now();
    return !coming || Clock::now() - *ready_since_ >= kGroupWait;
  }

  // The messages at 354 are committed together, then each one's data and "." go out at once. The next
  // message of a pipelining connection is prepared before the commit, so that nothing but writes runs
  // between a commit and its "." (a crash there would lose the message).
  void CommitReady() {
    std::vector<Conn*> ready;
    std::vector<const Delivery*> group, following;
    for (auto& c : conns_) {
      if (!c.ready) continue;
      ready.push_back(&c);
      group.push_back(c.envelope.d);
      following.push_back(c.session.pipelining ? Take() : nullptr);
    }
    if (ready.empty()) return;
    ready_since_.reset();
    const std::vector<char> ok = source_.Commit(group);
    for (std::size_t i = 0; i < ready.size(); ++i) {
      Conn& c = *ready[i];
      c.ready = false;
      Txn txn = std::move(c.envelope);
      c.envelope = Txn{};
      if (i >= ok.size() || !ok[i]) {
        // Not to be sent (the campaign stopped this recipient): inside DATA, closing is the only way out.
        // The message taken to follow it goes first on the next connection free.
        Reset(c);
        if (following[i]) spare_.push_front(following[i]);
        source_.Done(*txn.d, Result(DeliveryOutcome::kTemporary, "not sent: the campaign stopped this recipient"));
        continue;
      }
      AppendDotStuffed(c.out, txn.d->built->bytes);
      c.expected.push_back(Awaits::kDot);
      c.at_dot = std::move(txn);
      if (following[i]) {
        c.envelope.d = following[i];
        QueueEnvelope(c, following[i]);
      }
      Flush(c);
    }
  }

  void Wait() {
    std::vector<pollfd> fds;
    std::vector<Conn*> polled;
    auto deadline = Clock::time_point::max();
    for (auto& c : conns_) {
      if (c.expected.empty()) continue;
      fds.push_back({c.session.wire->fd(), POLLIN, 0});
      polled.push_back(&c);
      deadline = std::min(deadline, c.deadline);
    }
    if (fds.empty()) return;
    if (ready_since_) deadline = std::min(deadline, *ready_since_ + kGroupWait);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    const int rc = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(left + 1, 0, 60000)));
    if (rc < 0) return;  // EINTR: the deadlines are checked next time
    const auto now = Clock::now();
    for (std::size_t i = 0; i < fds.size(); ++i) {
      Conn& c = *polled[i];
      if (fds[i].revents != 0) {
        Read(c);
      } else if (now >= c.deadline) {
        Fail(c, SmtpWireError("timed out waiting for the server", SmtpWireError::Kind::kTimeout));
      }
    }
  }

  void Read(Conn& c) {
    // A server that answers and closes at once: its answers are taken before the close is.
    std::optional<SmtpWireError> closed;
    try {
      c.session.wire->ReadAvailable();
    } catch (const SmtpWireError& e) {
      closed = e;
    }
    try {
      while (!c.expected.empty()) {
        auto reply = c.session.wire->TakeReply();
        if (!reply) break;
        const Awaits what = c.expected.front();
        c.expected.pop_front();
        Handle(c, what, *reply);
        if (!c.session.wire) return;  // the reply ended the connection
      }
      c.deadline = Clock::now() + state_.options.total_timeout;
    } catch (const SmtpWireError& e) {
      return Fail(c, e);
    }
    if (closed) return Fail(c, *closed);
    Flush(c);
  }

  void Handle(Conn& c, Awaits what, const SmtpReply& reply) {
    Txn& t = c.envelope;
    const bool positive = reply.code / 100 == 2;
    switch (what) {
      case Awaits::kMail:
        t.mail_ok = positive;
        if (!positive) {
          t.refused = Result(OutcomeOf(reply.code), reply.text);
          if (!c.session.pipelining) return Finish(c, t.refused);  // RCPT and DATA are not sent
        }
        return;
      case Awaits::kRcpt: {
        const std::size_t i = t.rcpt_replies++;
        if (!t.mail_ok) return;  // pipelined after a refused MAIL: its answer is the one that counts
        if (positive) {
          ++t.accepted;
        } else {
          t.refused.outcome = OutcomeOf(reply.code);
          t.refused.answer = reply.text;
          if (i < t.d->recipients.size()) t.refused.refused_recipients.push_back(t.d->recipients[i]);
        }
        if (!c.session.pipelining && t.rcpt_replies == t.d->recipients.size() && t.accepted == 0) {
          return Finish(c, t.refused);  // DATA is not sent
        }
        return;
      }
      case Awaits::kData:
        if (reply.code == 354 && t.mail_ok && t.accepted > 0) {
          c.ready = true;
          return;
        }
        if (reply.code == 354) {  // data invited for nobody (a broken server): only closing ends it
          auto result = t.refused;
          if (result.answer.empty()) result.answer = "the server invited the data of a refused transaction";
          return Fail(c, result);
        }
        if (!t.mail_ok || t.accepted == 0) return Finish(c, t.refused);
        {
          auto result = Result(OutcomeOf(reply.code), reply.text);
          result.refused_recipients = std::move(t.refused.refused_recipients);
          return Finish(c, std::move(result));
        }
      case Awaits::kDot: {
        auto result = Result(OutcomeOf(reply.code), reply.text);
        if (result.outcome == DeliveryOutcome::kSent) result.provider_message_id = QueueIdOf(reply.text);
        result.refused_recipients = std::move(c.at_dot.refused.refused_recipients);
        const Delivery* d = c.at_dot.d;
        c.at_dot = Txn{};
        return source_.Done(*d, std::move(result));
      }
      case Awaits::kRset:
        if (!positive) Fail(c, Result(DeliveryOutcome::kTemporary, "not sent: the server refused RSET: " + reply.text));
        return;
    }
  }

  // The envelope's transaction failed before its data: its result, and RSET so the connection can go on.
  void Finish(Conn& c, DeliveryResult result) {
    const Delivery* d = c.envelope.d;
    c.envelope = Txn{};
    // Commands of the failed transaction not written yet (a server without PIPELINING) are dropped.
    c.unsent.clear();
    Queue(c, "RSET\r\n", Awaits::kRset);
    source_.Done(*d, std::move(result));
  }

  // The connection failed: every message on it gets the failure (one past its "." may still have arrived:
  // the server did not say), and the connection is opened again for the next.
  void Fail(Conn& c, const SmtpWireError& e) { Fail(c, smtp_detail::WireFailure(state_.options, e)); }
  void Fail(Conn& c, const DeliveryResult& result) {
    const Delivery* dot = c.at_dot.d;
    const Delivery* envelope = c.envelope.d;
    Reset(c);
    if (dot) source_.Done(*dot, result);
    if (envelope) source_.Done(*envelope, result);
  }

  void Reset(Conn& c) {
    c.session.wire.reset();
    c.expected.clear();
    c.unsent.clear();
    c.out.clear();
    c.envelope = Txn{};
    c.at_dot = Txn{};
    c.ready = false;
  }

  SmtpTransport::State& state_;
  DeliverySource& source_;
  std::vector<Conn> conns_;
  bool more_ = true;                   // the source may have more
  std::deque<const Delivery*> spare_;  // taken from the source, to start before its next
  DeliveryResult refusal_;             // why the last connection could not be opened
  static constexpr auto kGroupWait = std::chrono::milliseconds(1);
  std::optional<Clock::time_point> ready_since_;  // when the first message waiting for a commit got its 354
};

}  // namespace

void SmtpTransport::SendAll(DeliverySource& source, int connections) { Driver(*state_, source, connections).Run(); }

}  // namespace poste::mail
