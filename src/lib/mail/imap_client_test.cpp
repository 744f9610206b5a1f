#include "lib/mail/imap_client.hpp"
#include "lib/net/testing/loopback.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>

namespace poste::mail::imap {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

ClientConfig DovecotConfig() {
  ClientConfig c;
  c.host = Env("POSTE_TEST_IMAP_HOST");
  c.port = std::atoi(Env("POSTE_TEST_IMAP_PORT").c_str());
  c.tls = Tls::kNone;
  c.username = Env("POSTE_TEST_IMAP_USER");
  c.password = Env("POSTE_TEST_IMAP_PASSWORD");
  c.policy = net::TargetPolicy::WithAllowList({"127.0.0.1"});
  return c;
}

std::string UniqueName(const std::string& prefix) {
  std::random_device rd;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

ErrorKind KindOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ImapError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no ImapError";
  return ErrorKind::kInvalid;
}

TEST(ImapClientDovecot, SyncsAFolderWithoutMarkingMessagesSeen) {
  ASSERT_FALSE(Env("POSTE_TEST_IMAP_PORT").empty()) << "source the test services' environment first";
  Client client(DovecotConfig());
  client.Connect();
  const std::string folder = UniqueName("client-test");
  client.Create(folder);
  client.Append(folder, "From: a@example.com\r\nSubject: one\r\nMessage-ID: <one@x>\r\n\r\nfirst\r\n");
  client.Append(folder, "From: a@example.com\r\nSubject: two\r\nMessage-ID: <two@x>\r\n\r\nsecond {3}\r\n");
  auto info = client.Examine(folder);
  EXPECT_GT(info.uidvalidity, 0u);
  EXPECT_EQ(info.exists, 2u);
  EXPECT_EQ(info.uidnext, 3u);
  auto uids = client.UidSearchFrom(1);
  ASSERT_EQ(uids, (std::vector<std::uint32_t>{1, 2}));
  // n:* beyond the last UID: servers answer with the last message, which is not new.
  EXPECT_TRUE(client.UidSearchFrom(3).empty());
  EXPECT_EQ(client.UidSearchFrom(2), std::vector<std::uint32_t>{2});
  auto second = client.Fetch(2);
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->bytes);
  EXPECT_NE(second->bytes->find("second {3}"), std::string::npos);
  EXPECT_EQ(std::count(second->flags.begin(), second->flags.end(), "\\Seen"), 0);
  auto header = client.FetchHeader(1);
  ASSERT_TRUE(header && header->bytes);
  EXPECT_NE(header->bytes->find("Subject: one"), std::string::npos);
  EXPECT_EQ(header->bytes->find("first"), std::string::npos);
  EXPECT_FALSE(client.Fetch(99));

  client.Select(folder);
  client.AddFlags(1, {"\\Seen"});
  auto first = client.Fetch(1);
  ASSERT_TRUE(first);
  EXPECT_EQ(std::count(first->flags.begin(), first->flags.end(), "\\Seen"), 1);
  EXPECT_EQ(KindOf([&] { client.Examine(folder + "-missing"); }), ErrorKind::kRefused);
  client.Examine("INBOX");
  client.Delete(folder);
  client.Logout();
}

TEST(ImapClientDovecot, WrongPasswordIsAnAuthError) {
  auto config = DovecotConfig();
  config.password = "not-the-password";
  Client client(config);
  EXPECT_EQ(KindOf([&] { client.Connect(); }), ErrorKind::kAuth);
}

TEST(ImapClientPolicy, RefusesLoopbackUnlessAllowed) {
  auto config = DovecotConfig();
  config.policy = net::TargetPolicy();
  Client client(config);
  EXPECT_EQ(KindOf([&] { client.Connect(); }), ErrorKind::kConnect);
  ClientConfig bad = DovecotConfig();
  bad.host = "127.0.0.1/INBOX;UID=1";
  Client injected(bad);
  EXPECT_EQ(KindOf([&] { injected.Connect(); }), ErrorKind::kInvalid);
  ClientConfig crlf = DovecotConfig();
  crlf.username = "poste\r\nA1 DELETE INBOX";
  Client creds(crlf);
  EXPECT_EQ(KindOf([&] { creds.Connect(); }), ErrorKind::kInvalid);
}

TEST(ImapClientUrl, BracketsIpv6AndPicksDefaultPorts) {
  ClientConfig c;
  c.host = "::1";
  c.tls = Tls::kImplicit;
  EXPECT_EQ(ClientUrl(c), "imaps://[::1]:993/");
  c.host = "mail.example.com";
  c.tls = Tls::kStartTls;
  c.port = 1143;
  EXPECT_EQ(ClientUrl(c), "imap://mail.example.com:1143/");
}

using Script = std::map<std::string, std::string>;

// A scripted IMAP server on loopback: it signs anyone in, then answers each command with the reply the
// test gives for the command's first word(s) ("{tag}" replaced), or closes the connection for "CLOSE".
class FakeServer {
 public:
  explicit FakeServer(std::map<std::string, std::string> script) : script_(std::move(script)) {
    listener_ = net::testing::BindLoopback(port_, 1);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }

 private:
  void Serve() {
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    Write(fd, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] fake ready\r\n");
    std::string buffer;
    char chunk[4096];
    while (true) {
      const auto nl = buffer.find("\r\n");
      if (nl == std::string::npos) {
        const auto n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      const std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 2);
      const auto space = line.find(' ');
      const std::string tag = line.substr(0, space), command = line.substr(space + 1);
      std::string reply;
      if (command.starts_with("CAPABILITY")) {
        reply = "* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n{tag} OK done\r\n";
      } else if (command.starts_with("AUTHENTICATE") || command.starts_with("LOGIN")) {
        reply = "{tag} OK signed in\r\n";
      } else {
        reply = "{tag} BAD unknown\r\n";
        for (const auto& [prefix, answer] : script_) {
          if (command.starts_with(prefix)) reply = answer;
        }
      }
      if (reply == "CLOSE") break;
      if (reply == "SILENT") continue;
      for (auto pos = reply.find("{tag}"); pos != std::string::npos; pos = reply.find("{tag}")) {
        reply.replace(pos, 5, tag);
      }
      Write(fd, reply);
    }
    ::close(fd);
  }
  static void Write(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
      const auto n = ::write(fd, text.data() + done, text.size() - done);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  std::map<std::string, std::string> script_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

ClientConfig FakeConfig(const FakeServer& server) {
  ClientConfig c;
  c.host = "127.0.0.1";
  c.port = server.port();
  c.tls = Tls::kNone;
  c.username = "u";
  c.password = "p";
  c.read_timeout = std::chrono::milliseconds(300);
  c.policy = net::TargetPolicy::WithAllowList({"127.0.0.1"});
  return c;
}

// The fake server offers no STARTTLS (the test Dovecot does, with its own CA: imap_tls_test.cpp): an account
// that demands it fails with a TLS error that says so, before any credentials are sent.
TEST(ImapClientHostile, StartTlsRequiredFailsOnAServerWithoutTls) {
  FakeServer server(Script{});
  auto config = FakeConfig(server);
  config.tls = Tls::kStartTls;
  Client client(config);
  try {
    client.Connect();
    ADD_FAILURE() << "connected without TLS";
  } catch (const ImapError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTls);
    EXPECT_NE(std::string(e.what()).find("does not offer STARTTLS"), std::string::npos) << e.what();
  }
}

TEST(ImapClientHostile, OversizedMessageIsDroppedAndTheConnectionStaysUsable) {
  const std::string big(5000, 'x');
  FakeServer server(Script{{"EXAMINE", "* OK [UIDVALIDITY 9] v\r\n* 1 EXISTS\r\n{tag} OK\r\n"},
                           {"UID FETCH 1 ", "* 1 FETCH (UID 1 FLAGS () BODY[] {5000}\r\n" + big + ")\r\n{tag} OK\r\n"},
                           {"UID FETCH 2 ", "* 2 FETCH (UID 2 FLAGS (\\Seen) BODY[] {2}\r\nhi)\r\n{tag} OK\r\n"}});
  auto config = FakeConfig(server);
  config.limits.max_literal = 1000;
  Client client(config);
  client.Connect();
  EXPECT_EQ(client.Examine("INBOX").uidvalidity, 9u);
  auto dropped = client.Fetch(1);
  ASSERT_TRUE(dropped);
  EXPECT_FALSE(dropped->bytes);
  EXPECT_EQ(dropped->size, 5000u);
  auto small = client.Fetch(2);
  ASSERT_TRUE(small && small->bytes);
  EXPECT_EQ(*small->bytes, "hi");
}

TEST(ImapClientHostile, MalformedAnswersAreProtocolErrors) {
  FakeServer server(
      Script{{"EXAMINE", "* 1 EXISTS\r\n{tag} OK\r\n"}, {"UID SEARCH", "* SEARCH 1 2 x\r\n{tag} OK\r\n"}});
  Client client(FakeConfig(server));
  client.Connect();
  EXPECT_EQ(KindOf([&] { client.Examine("INBOX"); }), ErrorKind::kProtocol);  // no UIDVALIDITY
  EXPECT_EQ(KindOf([&] { client.UidSearchFrom(1); }), ErrorKind::kProtocol);
}

TEST(ImapClientHostile, AnswerWithAnotherTagBreaksTheConnection) {
  FakeServer server(Script{{"EXAMINE", "Z99 OK [READ-ONLY] done\r\n"}});
  Client client(FakeConfig(server));
  client.Connect();
  EXPECT_EQ(KindOf([&] { client.Examine("INBOX"); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([&] { client.Examine("INBOX"); }), ErrorKind::kProtocol);  // not usable any more
}

TEST(ImapClientHostile, ClosedMidLiteralSilenceAndRefusals) {
  {
    FakeServer server(Script{{"UID FETCH", "* 1 FETCH (UID 1 BODY[] {100}\r\nonly a little"}, {"NOOP", "CLOSE"}});
    auto config = FakeConfig(server);
    Client client(config);
    client.Connect();
    // The server sent part of the literal and then nothing: a timeout, not a hang.
    EXPECT_EQ(KindOf([&] { client.Fetch(1); }), ErrorKind::kTimeout);
  }
  {
    FakeServer server(Script{{"UID FETCH", "CLOSE"}});
    Client client(FakeConfig(server));
    client.Connect();
    const auto kind = KindOf([&] { client.Fetch(1); });
    EXPECT_TRUE(kind == ErrorKind::kProtocol || kind == ErrorKind::kConnect) << static_cast<int>(kind);
  }
  {
    FakeServer server(Script{{"SELECT", "{tag} NO [NONEXISTENT] Mailbox doesn't exist\r\n"}});
    Client client(FakeConfig(server));
    client.Connect();
    try {
      client.Select("Nope");
      ADD_FAILURE() << "no error";
    } catch (const ImapError& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kRefused);
      EXPECT_NE(std::string(e.what()).find("NONEXISTENT"), std::string::npos);
    }
  }
}

TEST(ImapClientHostile, MissingOrForeignFetchLines) {
  FakeServer server(Script{{"UID FETCH 1 ", "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n{tag} OK\r\n"},
                           {"UID FETCH 2 ", "* 7 FETCH (UID 9 FLAGS () BODY[] {2}\r\nno)\r\n{tag} OK\r\n"},
                           {"UID FETCH 3 ", "{tag} OK nothing\r\n"},
                           {"UID SEARCH", "{tag} OK no SEARCH line at all\r\n"}});
  Client client(FakeConfig(server));
  client.Connect();
  // Our UID without the body asked for: the answer is broken, not an empty message.
  EXPECT_EQ(KindOf([&] { client.Fetch(1); }), ErrorKind::kProtocol);
  // Another message's data (unsolicited) or no data: the UID is gone.
  EXPECT_FALSE(client.Fetch(2));
  EXPECT_FALSE(client.Fetch(3));
  EXPECT_TRUE(client.UidSearchFrom(1).empty());
}

TEST(ImapClientHostile, HugeDeclaredLiteralIsRefusedAtOnce) {
  FakeServer server(Script{{"UID FETCH", "* 1 FETCH (UID 1 BODY[] {999999999999}\r\n"}});
  Client client(FakeConfig(server));
  client.Connect();
  EXPECT_EQ(KindOf([&] { client.Fetch(1); }), ErrorKind::kProtocol);
}

}  // namespace
}  // namespace poste::mail::imap
