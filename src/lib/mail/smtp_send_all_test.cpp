// SmtpTransport::SendAll: several SMTP connections driven from one thread. Against a scripted server
// (testing/scripted_smtp_server.hpp), with and without PIPELINING (lockstep), and against the real capture
// server of scripts/test-services (which does not pipeline): every message arrives once and gets one
// result, Commit comes before each message's data, refusals and failures keep their words, a connection
// the server closed is opened again, and a hostile or absent server ends in clear temporary results.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "lib/mail/smtp_client.hpp"
#include "lib/mail/testing/send_all_source.hpp"

namespace poste::mail {
namespace {

using namespace poste::mail::testing;
TEST_P(SmtpSendAll, FortyMessagesOverFourConnectionsArriveOnceEach) {
  TestSource source;
  source.AddMany(40);
  ScriptedSmtpServer server(Checked(Script(), source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 4);

  ExpectOneDoneEach(source);
  for (std::size_t i = 0; i < source.size(); ++i) {
    EXPECT_EQ(source.result(i).outcome, DeliveryOutcome::kSent) << i << ": " << source.result(i).answer;
    EXPECT_EQ(source.committed(i), 1) << i;
  }
  std::size_t committed = 0;
  for (const auto& group : source.groups()) {
    EXPECT_GE(group.size(), 1u);
    EXPECT_LE(group.size(), 4u) << "a Commit group holds at most one message per connection";
    committed += group.size();
  }
  EXPECT_EQ(committed, 40u);
  // A message at 354 waits (up to a millisecond) for the other connections' 354: they share transactions
  // (10 of 4 each here; without the wait, the bench's campaign averaged 2.6 messages a transaction).
  EXPECT_LE(source.groups().size(), 20u);
  EXPECT_EQ(server.messages().size(), 40u);
  ExpectServerAgrees(source, server);
  EXPECT_LE(smtp.connections(), 4);
  EXPECT_GE(smtp.connections(), 1);
  EXPECT_EQ(server.connections(), smtp.connections());

  int crossed = 0;  // reads holding a message's end and the next message's commands
  for (const auto& connection : server.reads()) {
    for (const auto& read : connection) {
      if (read.find("\r\n.\r\nMAIL FROM:<") != std::string::npos) ++crossed;
      if (!pipelining()) {
        // Lockstep: a command is written only after the previous reply, so a read holds one command line.
        const bool command = read.starts_with("MAIL ") || read.starts_with("RCPT ") || read.starts_with("DATA") ||
                             read.starts_with("RSET") || read.starts_with("EHLO");
        if (command) {
          EXPECT_EQ(read.find("\r\n"), read.size() - 2) << read;
        }
      }
    }
  }
  if (pipelining()) {
    EXPECT_GE(crossed, 1) << "no message's data and the next message's MAIL came in one read";
  } else {
    EXPECT_EQ(crossed, 0);
  }
}

TEST_P(SmtpSendAll, ARefusedRecipientIsReportedAndTheConnectionGoesOn) {
  TestSource source;
  const std::string run = RandomHex(4);
  source.Add({"first-" + run + "@example.com"});
  source.Add({"reject-a-" + run + "@example.com", "kept-b-" + run + "@example.com"});
  source.Add({"reject-only-" + run + "@example.com"});
  source.Add({"last-" + run + "@example.com"});
  auto script = Script();
  script.answer = [](const std::string& command, const Envelope&, const std::string&) -> std::optional<Reply> {
    if (command.starts_with("RCPT TO:<reject-")) return Reply::Say("550 5.1.1 <x>: Recipient address rejected");
    return std::nullopt;
  };
  ScriptedSmtpServer server(Checked(script, source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 1);

  ExpectOneDoneEach(source);
  const auto& two = source.result(1);
  EXPECT_EQ(two.outcome, DeliveryOutcome::kSent) << two.answer;
  ASSERT_EQ(two.refused_recipients.size(), 1u);
  EXPECT_EQ(two.refused_recipients[0], "reject-a-" + run + "@example.com");
  const auto& only = source.result(2);
  EXPECT_EQ(only.outcome, DeliveryOutcome::kPermanent) << only.answer;
  EXPECT_EQ(only.answer, "550 5.1.1 <x>: Recipient address rejected");
  EXPECT_EQ(source.committed(2), 0) << "a message without any recipient reached its commit";
  EXPECT_EQ(source.result(0).outcome, DeliveryOutcome::kSent) << source.result(0).answer;
  EXPECT_EQ(source.result(3).outcome, DeliveryOutcome::kSent) << source.result(3).answer;
  ExpectServerAgrees(source, server);
  const auto received = server.messages();
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[1].envelope.recipients, std::vector<std::string>{"kept-b-" + run + "@example.com"});
  // The refused transaction ended with RSET, on the same connection.
  EXPECT_EQ(smtp.connections(), 1);
  bool rset = false;
  const auto reads = server.reads();
  for (const auto& read : reads.at(0)) rset = rset || read.find("RSET\r\n") != std::string::npos;
  EXPECT_TRUE(rset);
}

TEST_P(SmtpSendAll, FourAndFiveXxAfterTheDataAreTemporaryAndPermanentWithTheirText) {
  TestSource source;
  const std::string run = RandomHex(4);
  source.Add({"tempdot-" + run + "@example.com"});
  source.Add({"permdot-" + run + "@example.com"});
  source.Add({"fine-" + run + "@example.com"});
  auto script = Script();
  script.answer = [](const std::string& command, const Envelope& e, const std::string&) -> std::optional<Reply> {
    if (command != ".") return std::nullopt;
    if (e.recipients.front().starts_with("tempdot-")) return Reply::Say("451 4.3.0 Queue full, try later");
    if (e.recipients.front().starts_with("permdot-")) return Reply::Say("554 5.7.1 Rejected as spam");
    return std::nullopt;
  };
  ScriptedSmtpServer server(Checked(script, source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 2);

  ExpectOneDoneEach(source);
  EXPECT_EQ(source.result(0).outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(source.result(0).answer, "451 4.3.0 Queue full, try later");
  EXPECT_EQ(source.result(0).provider_message_id, "");
  EXPECT_EQ(source.result(1).outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(source.result(1).answer, "554 5.7.1 Rejected as spam");
  EXPECT_EQ(source.result(2).outcome, DeliveryOutcome::kSent) << source.result(2).answer;
  EXPECT_TRUE(source.result(2).provider_message_id.starts_with("Q")) << source.result(2).provider_message_id;
  EXPECT_EQ(server.messages().size(), 3u);  // all three ended their data; two were refused after it
  EXPECT_LE(smtp.connections(), 2);
}

// The message taken to follow one that Commit refused (pipelining) is not refused with it: it goes on the
// next connection free.
TEST_P(SmtpSendAll, ACommitThatSaysNoKeepsThatMessageBackAndTheOthersGo) {
  TestSource source;
  source.AddMany(8);
  source.refuse = [](std::size_t i) { return i == 3; };
  ScriptedSmtpServer server(Checked(Script(), source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 2);

  ExpectOneDoneEach(source);
  EXPECT_EQ(source.result(3).outcome, DeliveryOutcome::kTemporary) << source.result(3).answer;
  EXPECT_FALSE(source.result(3).answer.empty());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (i == 3) continue;
    // With PIPELINING the message prepared behind the stopped one on its connection is given back as
    // "stopped" too (see the report); it should be sent like the others.
    EXPECT_EQ(source.result(i).outcome, DeliveryOutcome::kSent) << i << ": " << source.result(i).answer;
  }
  const auto received = server.messages();
  for (const auto& m : received) {
    EXPECT_NE(m.envelope.recipients.front(), source.sample(3).delivery.recipients.front())
        << "the message its Commit stopped reached the server";
  }
  ExpectServerAgrees(source, server);
  EXPECT_EQ(received.size(), 7u);
}

TEST_P(SmtpSendAll, ACommitThatThrowsIsRethrownAndNothingOfItsGroupArrives) {
  TestSource source;
  source.AddMany(10);
  std::vector<std::size_t> thrown;
  source.throw_if = [&thrown](const std::vector<std::size_t>& group) {
    if (std::find(group.begin(), group.end(), 5) == group.end()) return false;
    thrown = group;
    return true;
  };
  ScriptedSmtpServer server(Checked(Script(), source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  EXPECT_THROW(smtp.SendAll(source, 3), std::runtime_error);
  ASSERT_FALSE(thrown.empty());

  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // anything written would have arrived
  for (const auto& m : server.messages()) {
    const int i = source.MessageTo(m.envelope.recipients.front());
    EXPECT_EQ(std::find(thrown.begin(), thrown.end(), static_cast<std::size_t>(i)), thrown.end())
        << "message " << i << " arrived although its Commit threw";
  }
  for (std::size_t i : thrown) EXPECT_EQ(source.done(i), 0) << i;
  for (std::size_t i = 0; i < source.size(); ++i) EXPECT_LE(source.done(i), 1) << i;

  // The transport is usable afterwards: the connections left inside DATA were closed, not reused.
  TestSource same;
  same.AddMany(4);
  smtp.SendAll(same, 3);
  ExpectOneDoneEach(same);
  for (std::size_t i = 0; i < same.size(); ++i) {
    EXPECT_EQ(same.result(i).outcome, DeliveryOutcome::kSent) << i << ": " << same.result(i).answer;
  }
}

// The server answers the third message "250 ... queued as Q3" and closes (the answer and the FIN in one
// segment): the answers read before the close are handled first (the third message is sent, not retried and
// sent twice); only what is still due then fails.
TEST_P(SmtpSendAll, AConnectionClosedAfterThreeMessagesIsOpenedAgain) {
  TestSource source;
  source.AddMany(8);
  auto script = Script();
  script.close_after = 3;  // the first connection only
  ScriptedSmtpServer server(Checked(script, source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 1);

  ExpectOneDoneEach(source);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(source.result(i).outcome, DeliveryOutcome::kSent) << i << ": " << source.result(i).answer;
  }
  int temporary = 0;
  for (std::size_t i = 3; i < source.size(); ++i) {
    const auto& r = source.result(i);
    if (r.outcome == DeliveryOutcome::kTemporary) {
      ++temporary;
      EXPECT_EQ(i, 3u) << "only the message in flight when the server closed may fail: " << r.answer;
      EXPECT_NE(r.answer.find("closed"), std::string::npos) << r.answer;
    } else {
      EXPECT_EQ(r.outcome, DeliveryOutcome::kSent) << i << ": " << r.answer;
    }
  }
  // With PIPELINING the next message's MAIL, RCPT and DATA were on the closed connection. Without it, the
  // close may be seen before that message begins (then it goes on the new connection).
  if (pipelining()) {
    EXPECT_EQ(temporary, 1);
  }
  EXPECT_EQ(smtp.connections(), 2);
  EXPECT_EQ(server.messages().size(), source.size() - static_cast<std::size_t>(temporary));
  ExpectServerAgrees(source, server);
}

TEST_P(SmtpSendAll, ARefusedSenderEndsOnlyThatMessage) {
  TestSource source;
  source.AddMany(3);
  auto script = Script();
  auto mails = std::make_shared<std::atomic<int>>(0);
  script.answer = [mails](const std::string& command, const Envelope&, const std::string&) -> std::optional<Reply> {
    if (command.starts_with("MAIL FROM:") && (*mails)++ == 0) return Reply::Say("550 5.7.1 Sender blocked");
    return std::nullopt;
  };
  ScriptedSmtpServer server(Checked(script, source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 1);

  ExpectOneDoneEach(source);
  EXPECT_EQ(source.result(0).outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(source.result(0).answer, "550 5.7.1 Sender blocked");
  EXPECT_EQ(source.committed(0), 0);
  EXPECT_EQ(source.result(1).outcome, DeliveryOutcome::kSent) << source.result(1).answer;
  EXPECT_EQ(source.result(2).outcome, DeliveryOutcome::kSent) << source.result(2).answer;
  EXPECT_EQ(smtp.connections(), 1);
  EXPECT_EQ(server.messages().size(), 2u);
  ExpectServerAgrees(source, server);
}

// A broken server invites the data of a transaction whose every recipient it refused: the client cannot
// send nothing, so it closes that connection and goes on with a new one. Without PIPELINING, DATA is not
// even sent for it.
TEST_P(SmtpSendAll, DataInvitedForARefusedTransactionClosesTheConnection) {
  TestSource source;
  const std::string run = RandomHex(4);
  source.Add({"reject-" + run + "@example.com"});
  source.Add({"after-" + run + "@example.com"});
  auto script = Script();
  script.answer = [](const std::string& command, const Envelope&, const std::string&) -> std::optional<Reply> {
    if (command.starts_with("RCPT TO:<reject-")) return Reply::Say("550 5.1.1 No such user");
    if (command == "DATA") return Reply::Say("354 go ahead");
    return std::nullopt;
  };
  ScriptedSmtpServer server(Checked(script, source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 1);

  ExpectOneDoneEach(source);
  EXPECT_EQ(source.result(0).outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(source.result(0).answer, "550 5.1.1 No such user");
  EXPECT_EQ(source.committed(0), 0);
  EXPECT_EQ(source.result(1).outcome, DeliveryOutcome::kSent) << source.result(1).answer;
  if (pipelining()) {
    EXPECT_EQ(smtp.connections(), 2);
  } else {
    EXPECT_EQ(smtp.connections(), 1);
    const auto reads = server.reads();
    EXPECT_EQ(std::count(reads.at(0).begin(), reads.at(0).end(), "DATA\r\n"), 1) << "DATA only for the second";
  }
  EXPECT_EQ(server.messages().size(), 1u);
  ExpectServerAgrees(source, server);
}

TEST_P(SmtpSendAll, TheConnectionsAreKeptForTheNextCallAndOpenedAgainWhenDropped) {
  TestSource first, second, third;
  first.AddMany(8);
  second.AddMany(8);
  third.AddMany(8);
  ScriptedSmtpServer server(Script());
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(first, 2);
  EXPECT_EQ(smtp.connections(), 2);
  smtp.SendAll(second, 2);
  EXPECT_EQ(smtp.connections(), 2);
  EXPECT_EQ(server.connections(), 2);
  server.DropConnections();  // idle: nothing in flight
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  smtp.SendAll(third, 2);
  EXPECT_EQ(smtp.connections(), 4);
  for (const TestSource* source : {&first, &second, &third}) {
    ExpectOneDoneEach(*source);
    for (std::size_t i = 0; i < source->size(); ++i) {
      EXPECT_EQ(source->result(i).outcome, DeliveryOutcome::kSent) << i << ": " << source->result(i).answer;
    }
  }
  EXPECT_EQ(server.messages().size(), 24u);
}

TEST_P(SmtpSendAll, TheNumberOfConnectionsIsBetweenOneAndSixteen) {
  TestSource many;
  many.AddMany(40);
  ScriptedSmtpServer server(Checked(Script(), many));
  {
    SmtpTransport smtp(LoopbackOptions(server.port()));
    smtp.SendAll(many, 100);
    EXPECT_EQ(smtp.connections(), SmtpTransport::kMaxConnections);
    for (std::size_t i = 0; i < many.size(); ++i) EXPECT_EQ(many.result(i).outcome, DeliveryOutcome::kSent) << i;
    ExpectServerAgrees(many, server);
  }
  TestSource few;
  few.AddMany(3);
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(few, 0);
  EXPECT_EQ(smtp.connections(), 1);
  for (std::size_t i = 0; i < few.size(); ++i) EXPECT_EQ(few.result(i).outcome, DeliveryOutcome::kSent) << i;
}

// A RSET answered with an error ends the connection, and the transaction begun behind it (pipelined after
// the RSET, or waiting unsent in lockstep) still gets its result.
TEST_P(SmtpSendAll, ARefusedRsetStillGivesEveryMessageItsResult) {
  TestSource source;
  const std::string run = RandomHex(4);
  source.Add({"reject-" + run + "@example.com"});
  source.Add({"second-" + run + "@example.com"});
  source.Add({"third-" + run + "@example.com"});
  auto script = Script();
  script.answer = [](const std::string& command, const Envelope&, const std::string&) -> std::optional<Reply> {
    if (command.starts_with("RCPT TO:<reject-")) return Reply::Say("550 5.1.1 No such user");
    if (command == "RSET") return Reply::Say("502 5.5.1 RSET not implemented");
    return std::nullopt;
  };
  ScriptedSmtpServer server(Checked(script, source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 1);

  ExpectOneDoneEach(source);
  EXPECT_EQ(source.result(0).outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(source.result(0).answer, "550 5.1.1 No such user");
  for (std::size_t i = 1; i < source.size(); ++i) {
    if (source.done(i) == 0) continue;  // reported above
    const auto& r = source.result(i);
    EXPECT_TRUE(r.outcome == DeliveryOutcome::kSent || r.outcome == DeliveryOutcome::kTemporary) << i;
    EXPECT_FALSE(r.answer.empty()) << i;
  }
  EXPECT_EQ(source.result(2).outcome, DeliveryOutcome::kSent) << source.result(2).answer;
  ExpectServerAgrees(source, server);
}

// A connection the server refuses ("421 Too many connections") takes no more messages in this call: its
// message and the rest go over the connections the server accepted.
TEST_P(SmtpSendAll, AServerLimitingConnectionsGetsTheMessagesOverThoseItAccepts) {
  TestSource source;
  source.AddMany(20);
  auto script = Script();
  script.max_connections = 2;
  ScriptedSmtpServer server(Checked(script, source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 4);

  ExpectOneDoneEach(source);
  int sent = 0;
  for (std::size_t i = 0; i < source.size(); ++i) {
    const auto& r = source.result(i);
    if (r.outcome == DeliveryOutcome::kSent) {
      ++sent;
    } else {
      EXPECT_EQ(r.outcome, DeliveryOutcome::kTemporary) << i;
      EXPECT_EQ(r.answer, "421 4.7.0 Too many connections, try later") << i;
    }
  }
  EXPECT_GE(sent, 18) << "a refused connection took the other messages down with it";
  ExpectServerAgrees(source, server);
}

TEST_P(SmtpSendAll, BigMessagesAndRepliesCutAnywhereArriveIntact) {
  TestSource source;
  source.AddMany(6, 6000);  // about 430 KB each
  auto script = Script();
  script.dribble = 5;
  ScriptedSmtpServer server(Checked(script, source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 3);

  ExpectOneDoneEach(source);
  for (std::size_t i = 0; i < source.size(); ++i) {
    EXPECT_GT(source.sample(i).built.bytes.size(), 400000u);
    EXPECT_EQ(source.result(i).outcome, DeliveryOutcome::kSent) << i << ": " << source.result(i).answer;
  }
  EXPECT_EQ(server.messages().size(), 6u);
  ExpectServerAgrees(source, server);  // bodies compared byte for byte, dot-stuffing included
}

TEST_P(SmtpSendAll, MessagesWithNothingToSendArePermanent) {
  TestSource source;
  source.AddMany(3);
  source.delivery(0).built = nullptr;
  source.delivery(1).recipients.clear();
  ScriptedSmtpServer server(Checked(Script(), source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 2);

  ExpectOneDoneEach(source);
  EXPECT_EQ(source.result(0).outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(source.result(0).answer, "nothing to send");
  EXPECT_EQ(source.result(1).outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(source.result(1).answer, "no recipients");
  EXPECT_EQ(source.result(2).outcome, DeliveryOutcome::kSent) << source.result(2).answer;
  EXPECT_EQ(smtp.connections(), 1);
  EXPECT_EQ(server.messages().size(), 1u);
}

// The message taken to follow another on a pipelining connection passes the same checks as the first ones
// (a message without bytes was once dereferenced there).
TEST_P(SmtpSendAll, MessagesWithNothingToSendAmongOthersArePermanent) {
  TestSource source;
  source.AddMany(6);
  source.delivery(3).built = nullptr;
  source.delivery(4).recipients.clear();
  ScriptedSmtpServer::Script script;
  script.pipelining = pipelining();
  ScriptedSmtpServer server(script);
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 1);

  ExpectOneDoneEach(source);
  for (std::size_t i = 0; i < source.size(); ++i) {
    const auto want = i == 3 || i == 4 ? DeliveryOutcome::kPermanent : DeliveryOutcome::kSent;
    EXPECT_EQ(source.result(i).outcome, want) << i << ": " << source.result(i).answer;
  }
  EXPECT_EQ(source.result(3).answer, "nothing to send");
  EXPECT_EQ(source.result(4).answer, "no recipients");
  EXPECT_EQ(server.messages().size(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Modes, SmtpSendAll, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Pipelining" : "Lockstep"; });

}  // namespace
}  // namespace poste::mail
