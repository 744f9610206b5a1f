#include "modules/inbox/inbox_types.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "modules/inbox/inbox_reply.hpp"

namespace poste::inbox {
namespace {

std::vector<FieldError> Errors(const nlohmann::json& body, bool creating) {
  std::vector<FieldError> errors;
  auto input = AccountInputFromJson(body, creating, errors);
  auto more = Validate(input, creating);
  errors.insert(errors.end(), more.begin(), more.end());
  return errors;
}

bool HasField(const std::vector<FieldError>& errors, const std::string& field) {
  for (const auto& e : errors) {
    if (e.field == field) return true;
  }
  return false;
}

TEST(InboxAccountInput, AcceptsAFullAccount) {
  EXPECT_TRUE(Errors({{"name", "Support"},
                      {"host", "imap.example.com"},
                      {"port", 993},
                      {"tls", "implicit"},
                      {"username", "support@example.com"},
                      {"password", "s3cret pass"},
                      {"mailbox", "INBOX.Support"},
                      {"site_id", 3}},
                     true)
                  .empty());
  EXPECT_TRUE(Errors({{"name", "x"}, {"host", "::1"}, {"username", "u"}, {"password", "p"}}, true).empty());
  EXPECT_TRUE(Errors({{"mailbox", "Archive"}}, false).empty());
}

TEST(InboxAccountInput, RefusesMissingWrongAndHostileFields) {
  auto missing = Errors(nlohmann::json::object(), true);
  for (const char* f : {"name", "host", "username", "password"}) EXPECT_TRUE(HasField(missing, f)) << f;
  EXPECT_TRUE(HasField(Errors({{"port", 0}}, false), "port"));
  EXPECT_TRUE(HasField(Errors({{"port", 70000}}, false), "port"));
  EXPECT_TRUE(HasField(Errors({{"port", "143"}}, false), "port"));
  EXPECT_TRUE(HasField(Errors({{"tls", "ssl"}}, false), "tls"));
  EXPECT_TRUE(HasField(Errors({{"site_id", 2}}, false), "site_id"));  // an account never changes owner
  EXPECT_TRUE(HasField(Errors({{"site_id", "alpha"}}, true), "site_id"));
  for (const char* host : {"imap.example.com/INBOX", "a b", "user@host", "-bad.example", "a..b", "'; DROP TABLE x;--",
                           "<script>", "host\r\nA1 LOGOUT"}) {
    EXPECT_TRUE(HasField(Errors({{"host", host}}, false), "host")) << host;
  }
  EXPECT_TRUE(HasField(Errors({{"mailbox", "INBOX\r\nA1 DELETE INBOX"}}, false), "mailbox"));
  EXPECT_TRUE(HasField(Errors({{"mailbox", "Bo\xC3\xAEte"}}, false), "mailbox"));
  EXPECT_TRUE(HasField(Errors({{"mailbox", ""}}, false), "mailbox"));
  EXPECT_TRUE(HasField(Errors({{"username", "u\nv"}}, false), "username"));
  EXPECT_TRUE(HasField(Errors({{"password", "p\r\nq"}}, false), "password"));
  EXPECT_TRUE(HasField(Errors({{"password", std::string(2000, 'p')}}, false), "password"));
  EXPECT_TRUE(HasField(Errors({{"name", std::string("\xff\xfe")}}, false), "name"));
  EXPECT_TRUE(HasField(Errors({{"name", 5}}, false), "name"));
}

TEST(InboxAccountJson, NeverShowsThePassword) {
  Account a;
  a.id = 4;
  a.name = "Support";
  a.sealed_password = "v1:key:sealed";
  a.site_id = 2;
  auto j = ToJson(a);
  EXPECT_EQ(j["password_set"], true);
  EXPECT_EQ(j["owner"], "site");
  EXPECT_FALSE(j.contains("password"));
  EXPECT_EQ(j.dump().find("sealed"), std::string::npos);
}

TEST(InboxMessageJson, SnippetIsOneLineOfWholeCharacters) {
  const std::string snippet = Snippet("Hello\n\n  world\t" + std::string(300, 'x') + "\xC3\xA9");
  EXPECT_TRUE(snippet.starts_with("Hello world xxx"));
  EXPECT_LE(snippet.size(), 204u);
  EXPECT_EQ(Snippet(std::string(199, 'a') + "\xE2\x9C\x93\xE2\x9C\x93"), std::string(199, 'a') + "\xE2\x9C\x93");
  EXPECT_EQ(Snippet(" \r\n\t "), "");
  // A snippet of a snippet is itself: the list makes it from the text's start, the detail from the whole text.
  EXPECT_EQ(Snippet(snippet), snippet);
}

TEST(InboxMessageJson, TheSummaryShowsItsSnippetAndTheDetailOneOfItsText) {
  MessageSummary summary;
  summary.snippet = "from the store";
  EXPECT_EQ(SummaryJson(summary)["snippet"], "from the store");
  EXPECT_FALSE(SummaryJson(summary).contains("text"));
  Message m;
  m.text = "Line one\nline two";
  auto detail = DetailJson(m, {});
  EXPECT_EQ(detail["snippet"], "Line one line two");
  EXPECT_EQ(detail["text"], "Line one\nline two");
}

TEST(InboxFileNames, AreSafe) {
  EXPECT_EQ(SafeFileName("report.pdf"), "report.pdf");
  EXPECT_EQ(SafeFileName("../../etc/passwd"), "_.._etc_passwd");
  EXPECT_EQ(SafeFileName(".htaccess"), "htaccess");
  EXPECT_EQ(SafeFileName("r\xC3\xA9sum\xC3\xA9.pdf"), "r__sum__.pdf");
  EXPECT_EQ(SafeFileName(""), "attachment");
  EXPECT_EQ(SafeFileName("..."), "attachment");
  EXPECT_EQ(SafeFileName(std::string(500, 'a')).size(), 100u);
  EXPECT_EQ(SafeFileName(std::string("a\0b", 3)), "a_b");
}

TEST(InboxReply, SubjectsAddressesAndReferences) {
  EXPECT_EQ(ReplySubject("Plan"), "Re: Plan");
  EXPECT_EQ(ReplySubject("Re: Plan"), "Re: Plan");
  EXPECT_EQ(ReplySubject("RE: Plan"), "RE: Plan");
  EXPECT_EQ(ReplySubject("Re[2]: Plan"), "Re[2]: Plan");
  EXPECT_EQ(ReplySubject("Really"), "Re: Really");
  EXPECT_EQ(ReplySubject(""), "Re: ");

  Message m;
  m.subject = "Plan";
  m.message_id = "c@x";
  m.references = {"a@x", "b@x"};
  m.from = {"Ada", "ada@example.org"};
  m.reply_to = {{"List", "list@example.org"}};
  m.to = {{"Me", "me@poste.example"}, {"Bob", "bob@example.org"}};
  m.cc = {{"", "BOB@example.org"}, {"Cy", "cy@example.org"}};
  m.text = "line one\n> quoted\n\nlast";
  m.sent_at = 1700000000000;
  auto d = BuildReply(m, true, {"me@poste.example"});
  ASSERT_EQ(d.to.size(), 1u);
  EXPECT_EQ(d.to[0].email, "list@example.org");
  ASSERT_EQ(d.cc.size(), 2u);  // me left out, Bob once
  EXPECT_EQ(d.cc[0].email, "bob@example.org");
  EXPECT_EQ(d.cc[1].email, "cy@example.org");
  EXPECT_EQ(d.in_reply_to, "c@x");
  EXPECT_EQ(d.references, (std::vector<std::string>{"a@x", "b@x", "c@x"}));
  EXPECT_EQ(d.quoted_text,
            "On Tue, 14 Nov 2023 22:13 UTC, Ada <ada@example.org> wrote:\n> line one\n>> quoted\n>\n> last\n");
  auto plain = BuildReply(m);
  EXPECT_TRUE(plain.cc.empty());

  // Only In-Reply-To known: it starts the references. Very long chains keep the root and the newest.
  Message n;
  n.message_id = "n@x";
  n.in_reply_to = "p@x";
  n.from = {"", "p@example.org"};
  EXPECT_EQ(BuildReply(n).references, (std::vector<std::string>{"p@x", "n@x"}));
  for (int i = 0; i < 80; ++i) n.references.push_back("r" + std::to_string(i) + "@x");
  auto long_chain = BuildReply(n);
  EXPECT_EQ(long_chain.references.size(), 50u);
  EXPECT_EQ(long_chain.references.front(), "r0@x");
  EXPECT_EQ(long_chain.references.back(), "n@x");
}

}  // namespace
}  // namespace poste::inbox
