// The inbox store's list reads on SQLite and PostgreSQL: lists and threads carry a snippet made from the
// start of the text body, never the bodies; the single message keeps them whole.
#include "modules/inbox/inbox_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <string>

#include "modules/users/users_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::inbox {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

std::string Repeat(const std::string& piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

class InboxStoreTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    account_ = db().WriteValue([](soci::session& s) {
      users::NewUser u;
      u.email = "reader@example.org";
      u.name = "Reader";
      u.password_hash = "x";
      const auto user = users::store::Insert(s, u, kNow);
      Account a;
      a.owner_user_id = user;
      a.name = "Mine";
      a.host = "imap.example.org";
      a.port = 993;
      a.tls = "implicit";
      a.username = "reader";
      return store::InsertAccount(s, a, kNow);
    });
  }

  std::int64_t Add(const std::string& subject, const std::string& text, const std::string& html,
                   const std::string& in_reply_to = "") {
    Message m;
    m.account_id = account_;
    m.uidvalidity = 1;
    m.uid = ++uid_;
    m.message_id = subject + "@example.org";
    m.in_reply_to = in_reply_to;
    m.subject = subject;
    m.from = {"Zo\xC3\xAB", "zoe@example.org"};
    m.to = {{"", "reader@example.org"}};
    m.cc = {{"", "cc@example.org"}};
    m.text = text;
    m.html = html;
    m.size = static_cast<std::int64_t>(text.size() + html.size());
    return db().WriteValue([&](soci::session& s) {
      const auto row = store::InsertMessage(s, m, kNow);
      store::AssignThread(s, account_, row);
      return row;
    });
  }

  MessagePage List(const std::string& q = "") {
    MessageFilter f;
    f.q = q;
    return db().ReadValue([&](soci::session& s) { return store::ListMessages(s, {account_}, f); });
  }

  std::int64_t account_ = 0;
  std::int64_t uid_ = 0;
};

TEST_P(InboxStoreTest, ListsAndThreadsCarryASnippetNotTheBodies) {
  // Two-byte characters past the list's 500-character read, a word only in the text's far end, a large HTML body.
  const std::string text = "Bonjour,\n\n  " + Repeat("\xC3\xA9t\xC3\xA9 ", 400) + "\nfarword\n";
  const std::string html = "<p>" + Repeat("<b>x</b>", 20000) + "</p>";
  const auto first = Add("first", text, html);
  Add("reply", "Short answer.", "", "first@example.org");

  auto page = List();
  ASSERT_EQ(page.items.size(), 2u);
  const auto& listed = page.items[1];
  EXPECT_EQ(listed.id, first);
  EXPECT_EQ(listed.subject, "first");
  EXPECT_EQ(listed.from.name, "Zo\xC3\xAB");
  ASSERT_EQ(listed.to.size(), 1u);
  EXPECT_EQ(listed.to[0].email, "reader@example.org");
  EXPECT_EQ(listed.snippet, Snippet(text));  // the same as made from the whole text
  EXPECT_TRUE(listed.snippet.starts_with("Bonjour, \xC3\xA9t\xC3\xA9 \xC3\xA9t\xC3\xA9"));
  EXPECT_LE(listed.snippet.size(), 204u);
  EXPECT_EQ(page.items[0].snippet, "Short answer.");

  auto thread = db().ReadValue([&](soci::session& s) { return store::ThreadMessages(s, {account_}, first); });
  ASSERT_EQ(thread.size(), 2u);
  EXPECT_EQ(thread[0].id, first);
  EXPECT_EQ(thread[0].snippet, Snippet(text));
  EXPECT_EQ(thread[1].snippet, "Short answer.");

  // The single message keeps both bodies whole.
  auto whole = db().ReadValue([&](soci::session& s) { return store::GetMessage(s, {account_}, first); });
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->text, text);
  EXPECT_EQ(whole->html, html);
  EXPECT_EQ(whole->snippet, Snippet(text));
  ASSERT_EQ(whole->cc.size(), 1u);
  EXPECT_EQ(whole->cc[0].email, "cc@example.org");

  // Search still reads the whole text body, not only what the list shows of it.
  auto found = List("farword");
  ASSERT_EQ(found.items.size(), 1u);
  EXPECT_EQ(found.items[0].id, first);
}

TEST_P(InboxStoreTest, TheSnippetComesFromTheTextsFirst500Characters) {
  // Blank lines before the words are read as characters too: what lies past the 500th is not shown.
  Add("late", std::string(480, '\n') + Repeat("word ", 100), "");
  Add("empty", "", "<p>HTML only</p>");
  auto page = List();
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].snippet, "");
  EXPECT_EQ(page.items[1].snippet, "word word word word");
}

POSTE_INSTANTIATE_DB_TEST(InboxStoreTest);

}  // namespace
}  // namespace poste::inbox
