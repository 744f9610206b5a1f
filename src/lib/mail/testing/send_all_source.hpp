#pragma once
// What the SendAll tests share (smtp_send_all_test.cpp, smtp_send_all_faults_test.cpp): a DeliverySource that
// hands out K sample deliveries and records Commit groups and Done results, checks that every delivery got
// one result and that the server received what was handed out, and the fixture run with and without
// PIPELINING.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "lib/ids.hpp"
#include "lib/mail/mime.hpp"
#include "lib/mail/smtp_client.hpp"
#include "lib/mail/smtp_wire.hpp"
#include "lib/mail/testing/scripted_smtp_server.hpp"
#include "lib/net/testing/loopback.hpp"

namespace poste::mail::testing {

using Reply = ScriptedSmtpServer::Reply;
using Envelope = ScriptedSmtpServer::Envelope;

inline std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

inline SmtpOptions LoopbackOptions(int port) {
  SmtpOptions o;
  o.host = "127.0.0.1";
  o.port = static_cast<std::uint16_t>(port);
  o.tls = SmtpTls::kNone;
  o.policy = SmtpTargetPolicy({"127.0.0.1"});
  o.helo_name = "poste.test";
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.total_timeout = std::chrono::milliseconds(10000);
  return o;
}

inline int ClosedPort() { return net::testing::ClosedLoopbackPort(); }

struct Sample {
  OutgoingMessage message;
  BuiltMessage built;
  Delivery delivery;
  std::string token;

  // `padding` lines of text (70 characters each, every other one starting with a dot) make it bigger.
  explicit Sample(const std::vector<std::string>& to, std::size_t padding = 0) {
    token = "sa" + RandomHex(8);
    message.from = {"Poste Test", "sender@poste.test"};
    for (const auto& t : to) message.to.push_back({"", t});
    message.subject = "SendAll " + token;
    message.text = "Hello\n.\nA line that starts with a dot above. " + token;
    for (std::size_t i = 0; i < padding; ++i) message.text += (i % 2 ? "\n." : "\nx") + std::string(69, 'a' + i % 26);
    built = BuildMessage(message);
    delivery.message = &message;
    delivery.built = &built;
    delivery.envelope_from = "sender@poste.test";
    delivery.recipients = EnvelopeRecipients(message);
  }
};

// Hands out its messages in order and records what SendAll does with them: Commit groups, Done results,
// and (for the server's threads, under a lock) which recipients were committed.
class TestSource : public DeliverySource {
 public:
  // A message to the given recipients.
  std::size_t Add(std::vector<std::string> to, std::size_t padding = 0) {
    samples_.push_back(std::make_unique<Sample>(to, padding));
    handed_.push_back(false);
    done_.push_back(0);
    committed_.push_back(0);
    results_.emplace_back();
    return samples_.size() - 1;
  }
  // `count` messages, each to a recipient unique in this test run.
  void AddMany(std::size_t count, std::size_t padding = 0) {
    const std::string run = RandomHex(4);
    for (std::size_t i = 0; i < count; ++i) Add({"m" + std::to_string(i) + "-" + run + "@example.com"}, padding);
  }

  const Delivery* Next() override {
    if (next_ >= samples_.size()) return nullptr;
    handed_[next_] = true;
    return &samples_[next_++]->delivery;
  }

  std::vector<char> Commit(const std::vector<const Delivery*>& group) override {
    std::vector<std::size_t> indexes;
    for (const Delivery* d : group) {
      const std::size_t i = IndexOf(*d);
      EXPECT_TRUE(handed_[i]) << "Commit of message " << i << " that Next did not give";
      EXPECT_EQ(done_[i], 0) << "Commit of message " << i << " after its Done";
      EXPECT_EQ(committed_[i], 0) << "message " << i << " committed twice";
      ++committed_[i];
      indexes.push_back(i);
    }
    groups_.push_back(indexes);
    if (throw_if && throw_if(indexes)) throw std::runtime_error("the database went away");
    std::vector<char> ok;
    for (std::size_t i : indexes) {
      const bool allowed = !refuse || !refuse(i);
      if (allowed) {
        std::lock_guard lock(mutex_);
        for (const auto& r : samples_[i]->delivery.recipients) committed_recipients_.insert(r);
      }
      ok.push_back(allowed ? 1 : 0);
    }
    return ok;
  }

  void Done(const Delivery& delivery, DeliveryResult result) override {
    const std::size_t i = IndexOf(delivery);
    EXPECT_TRUE(handed_[i]) << "Done of message " << i << " that Next did not give";
    ++done_[i];
    results_[i] = std::move(result);
  }

  // For the server's threads: whether a message to any of `recipients` was committed (and allowed).
  bool Committed(const std::vector<std::string>& recipients) const {
    std::lock_guard lock(mutex_);
    for (const auto& r : recipients) {
      if (committed_recipients_.contains(r)) return true;
    }
    return false;
  }

  // Which message goes to `recipient`, or -1.
  int MessageTo(const std::string& recipient) const {
    for (std::size_t i = 0; i < samples_.size(); ++i) {
      const auto& r = samples_[i]->delivery.recipients;
      if (std::find(r.begin(), r.end(), recipient) != r.end()) return static_cast<int>(i);
    }
    return -1;
  }

  std::size_t size() const { return samples_.size(); }
  std::size_t handed() const { return next_; }
  const Sample& sample(std::size_t i) const { return *samples_[i]; }
  Delivery& delivery(std::size_t i) { return samples_[i]->delivery; }
  const DeliveryResult& result(std::size_t i) const { return results_[i]; }
  int done(std::size_t i) const { return done_[i]; }
  int committed(std::size_t i) const { return committed_[i]; }
  const std::vector<std::vector<std::size_t>>& groups() const { return groups_; }

  std::function<bool(std::size_t index)> refuse;                        // Commit answers 0 for these
  std::function<bool(const std::vector<std::size_t>& group)> throw_if;  // Commit throws for such a group

 private:
  std::size_t IndexOf(const Delivery& d) const {
    for (std::size_t i = 0; i < samples_.size(); ++i) {
      if (&samples_[i]->delivery == &d) return i;
    }
    ADD_FAILURE() << "a Delivery this source never gave";
    return 0;
  }

  std::vector<std::unique_ptr<Sample>> samples_;
  std::vector<bool> handed_;
  std::vector<int> done_, committed_;
  std::vector<DeliveryResult> results_;
  std::vector<std::vector<std::size_t>> groups_;
  std::size_t next_ = 0;
  mutable std::mutex mutex_;
  std::set<std::string> committed_recipients_;
};

// Every message handed out got exactly one Done; the others none.
inline void ExpectOneDoneEach(const TestSource& source) {
  for (std::size_t i = 0; i < source.size(); ++i) {
    EXPECT_EQ(source.done(i), i < source.handed() ? 1 : 0) << "message " << i;
  }
}

// The server and the results agree: each message the server received is one of the source's, received
// once, and reported kSent with its queue id; each message reported kSent was received.
inline void ExpectServerAgrees(const TestSource& source, const ScriptedSmtpServer& server) {
  const auto received = server.messages();
  std::map<int, int> times;
  for (std::size_t n = 0; n < received.size(); ++n) {
    const auto& m = received[n];
    ASSERT_FALSE(m.envelope.recipients.empty());
    const int i = source.MessageTo(m.envelope.recipients.front());
    ASSERT_GE(i, 0) << "the server received a message to " << m.envelope.recipients.front();
    ++times[i];
    const auto& r = source.result(static_cast<std::size_t>(i));
    EXPECT_EQ(r.outcome, DeliveryOutcome::kSent)
        << "message " << i << " reached the server, which answered, but its result is: " << r.answer;
    EXPECT_EQ(r.provider_message_id, "Q" + std::to_string(n + 1)) << "message " << i;
    EXPECT_TRUE(m.data_allowed) << "the data of message " << i << " arrived before its Commit";
    const auto& sample = source.sample(static_cast<std::size_t>(i));
    EXPECT_EQ(m.envelope.from, sample.delivery.envelope_from);
    std::string stuffed;
    AppendDotStuffed(stuffed, sample.built.bytes);
    EXPECT_EQ(m.body, stuffed.substr(0, stuffed.size() - 3)) << "message " << i;
  }
  for (const auto& [i, n] : times) EXPECT_EQ(n, 1) << "message " << i << " arrived " << n << " times";
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source.result(i).outcome == DeliveryOutcome::kSent && source.done(i) == 1) {
      EXPECT_EQ(times.count(static_cast<int>(i)), 1u) << "message " << i << " is kSent but never arrived";
    }
  }
}

// Runs the scripted server with Commit checked: each message's first data bytes must find it committed.
inline ScriptedSmtpServer::Script Checked(ScriptedSmtpServer::Script script, const TestSource& source) {
  script.data_arrives = [&source](const Envelope& e) { return source.Committed(e.recipients); };
  return script;
}

// --- with and without PIPELINING

class SmtpSendAll : public ::testing::TestWithParam<bool> {
 protected:
  bool pipelining() const { return GetParam(); }
  ScriptedSmtpServer::Script Script() const {
    ScriptedSmtpServer::Script s;
    s.pipelining = pipelining();
    return s;
  }
};

}  // namespace poste::mail::testing
