#include "lib/mail/mime_stencil.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "lib/mail/mime_parse.hpp"
#include "lib/mail/testing/wire_checks.hpp"

namespace poste::mail {
namespace {

using namespace std::chrono_literals;
using testing::ExpectWireSafe;

OutgoingMessage Common() {
  OutgoingMessage m;
  m.from = {"Zoë Sender", "news@example.com"};
  m.reply_to = Mailbox{"Support", "support@example.com"};
  m.headers = {{"X-Poste-Campaign", "42"}};
  m.date = std::chrono::system_clock::time_point(1700000000s);
  return m;
}

// `per` with the common fields, as BuildMessage takes it.
OutgoingMessage Whole(OutgoingMessage per) {
  const auto common = Common();
  per.from = common.from;
  per.reply_to = common.reply_to;
  per.headers = common.headers;
  per.date = common.date;
  return per;
}

// A stencil's message reads back exactly as BuildMessage's does: same headers, same decoded bodies.
void ExpectSameAsBuildMessage(const MessageStencil& stencil, const OutgoingMessage& per) {
  const auto fast = stencil.Build(per);
  const auto reference = BuildMessage(Whole(per));
  ExpectWireSafe(fast.bytes);
  EXPECT_EQ(fast.message_id, reference.message_id);
  const auto a = ParseMessage(fast.bytes);
  const auto b = ParseMessage(reference.bytes);
  ASSERT_TRUE(a.from && b.from);
  EXPECT_EQ(a.from->name, b.from->name);
  EXPECT_EQ(a.from->email, b.from->email);
  ASSERT_EQ(a.to.size(), b.to.size());
  for (std::size_t i = 0; i < a.to.size(); ++i) {
    EXPECT_EQ(a.to[i].name, b.to[i].name);
    EXPECT_EQ(a.to[i].email, b.to[i].email);
  }
  ASSERT_EQ(a.reply_to.size(), 1u);
  EXPECT_EQ(a.reply_to[0].email, "support@example.com");
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.subject, per.subject);
  EXPECT_EQ(a.date, b.date);
  EXPECT_EQ(a.message_id, b.message_id);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.html, b.html);
  for (const char* name : {"List-Unsubscribe", "List-Unsubscribe-Post", "X-Poste-Campaign", "MIME-Version"}) {
    const auto* x = a.Header(name);
    const auto* y = b.Header(name);
    ASSERT_EQ(x == nullptr, y == nullptr) << name;
    if (x) {
      EXPECT_EQ(*x, *y) << name;
    }
  }
  EXPECT_TRUE(a.attachments.empty());
}

OutgoingMessage Recipient(std::string name, std::string email, std::string subject, std::string html) {
  OutgoingMessage m;
  m.to = {{std::move(name), std::move(email)}};
  m.subject = std::move(subject);
  m.html = std::move(html);
  m.message_id = "c1.7@example.com";
  m.list_unsubscribe_url = "https://example.com/u/" + std::string(120, 'T');
  m.list_unsubscribe_mailto = "mailto:unsubscribe@example.com?subject=unsubscribe";
  return m;
}

TEST(MessageStencil, ReadsBackAsBuildMessageDoes) {
  const MessageStencil stencil(Common());
  ExpectSameAsBuildMessage(stencil, Recipient("Reader 1", "reader1@example.org", "News for Reader 1",
                                              "<h1>Hello Reader 1</h1><p>The news.</p>"));
  // Non-ASCII names and subjects (encoded words), long enough to be folded.
  ExpectSameAsBuildMessage(
      stencil,
      Recipient("Réné \"the\" Dupont-Lajoie de la Tour d'Auvergne et d'ailleurs, encore plus long", "rene@example.org",
                "Nouvelles pour Réné, avec un sujet assez long pour être replié sur plusieurs lignes — 😀 "
                "sans aucun doute possible ni autre chose, et encore une phrase",
                "<p>Bonjour Réné — ça va ?</p>"));
  // Quoted-printable (accents, a line over 998 characters), base64 (mostly non-Latin), 7bit; dots and
  // "From " at line starts; CR and CRLF in the bodies.
  auto m = Recipient("", "x@example.org", "Subject", "<p>" + std::string(3000, 'a') + "é</p>\r\n.dot\rFrom me");
  m.text = "line one\r\n.line two\n\nFrom here";
  ExpectSameAsBuildMessage(stencil, m);
  ExpectSameAsBuildMessage(stencil, Recipient("Имя", "y@example.org", "Тема письма", "<p>Привет, мир! Как дела?</p>"));
  // Text only; no unsubscribe links; several recipients and a Cc.
  OutgoingMessage plain;
  plain.to = {{"A", "a@example.org"}, {"B", "b@example.org"}};
  plain.cc = {{"C", "c@example.org"}};
  plain.subject = "Plain";
  plain.text = "Just text.\n";
  plain.message_id = "c1.8@example.com";
  ExpectSameAsBuildMessage(stencil, plain);
}

TEST(MessageStencil, GeneratesMessageIdsOnTheFromDomain) {
  const MessageStencil stencil(Common());
  auto m = Recipient("", "x@example.org", "S", "<p>x</p>");
  m.message_id.clear();
  const auto a = stencil.Build(m);
  const auto b = stencil.Build(m);
  EXPECT_NE(a.message_id, b.message_id);
  EXPECT_NE(a.message_id.find("@example.com>"), std::string::npos) << a.message_id;
}

TEST(MessageStencil, RefusesWhatBuildMessageRefuses) {
  const MessageStencil stencil(Common());
  auto expect_field = [&](OutgoingMessage m, const std::string& field) {
    try {
      stencil.Build(m);
      ADD_FAILURE() << "built: " << field;
    } catch (const AppError& e) {
      EXPECT_EQ(e.status(), 422);
      ASSERT_FALSE(e.fields().empty());
      EXPECT_EQ(e.fields().front().field, field);
    }
  };
  expect_field(Recipient("", "x@example.org", "Hi\r\nBcc: victim@example.org", "<p>x</p>"), "subject");
  expect_field(Recipient("Evil\r\nBcc: v@example.org", "x@example.org", "S", "<p>x</p>"), "to[0].name");
  expect_field(Recipient("", "not an address", "S", "<p>x</p>"), "to[0].email");
  expect_field(Recipient("", "x@example.org", "S", "<p>\xff\xfe</p>"), "html");
  auto m = Recipient("", "x@example.org", "S", "<p>x</p>");
  m.list_unsubscribe_url = "https://example.com/u/a>\r\nBcc: v@example.org";
  expect_field(m, "list_unsubscribe_url");
  m = Recipient("", "x@example.org", "S", "<p>x</p>");
  m.to.clear();
  expect_field(m, "to");
  // A subject too long to be written (one word longer than a header line) is refused, not sent broken.
  expect_field(Recipient("", "x@example.org", std::string(1200, 'x'), "<p>x</p>"), "subject");

  auto with_file = Common();
  with_file.attachments.push_back({"a.txt", "text/plain", "x", "", ""});
  EXPECT_THROW(MessageStencil{with_file}, AppError);
  auto bad_from = Common();
  bad_from.from.email = "nobody";
  EXPECT_THROW(MessageStencil{bad_from}, AppError);
}

TEST(MessageStencil, BuildsConcurrently) {
  const MessageStencil stencil(Common());
  std::vector<std::thread> threads;
  std::vector<std::string> subjects(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto built = stencil.Build(Recipient("Réader", "r@example.org", "Sujet " + std::to_string(t), "<p>é</p>"));
        subjects[t] = ParseMessage(built.bytes).subject;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(subjects[t], "Sujet " + std::to_string(t));
}

}  // namespace
}  // namespace poste::mail
