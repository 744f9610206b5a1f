// The inbox service against the real Dovecot of scripts/test-services, on SQLite and PostgreSQL: messages
// delivered with dovecot-lda into a folder of each test's own, synced, threaded, read and archived.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/error.hpp"
#include "lib/mail/dsn.hpp"
#include "modules/inbox/inbox_service.hpp"
#include "modules/inbox/inbox_store.hpp"
#include "modules/inbox/inbox_test_support.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/users/users_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::inbox {
namespace {

using testing::DovecotFolder;
using testing::Env;

class InboxSyncTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    data_dir_ = std::filesystem::temp_directory_path() / testing::UniqueFolder("poste-inbox-test");
    std::filesystem::create_directories(data_dir_);
    queue_ = std::make_unique<jobs::JobQueue>(db(), [this] { return now_; });
    secrets_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    site_a_ = AddSite("alpha");
    site_b_ = AddSite("beta");
    ed_a_ = AddUser("a@example.com", {site_a_});
    ed_b_ = AddUser("b@example.com", {site_b_});
    folder_ = std::make_unique<DovecotFolder>("sync-test");
    Build({});
  }
  void TearDown() override {
    folder_.reset();
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
    DbTest::TearDown();
  }

  // The test Dovecot listens on loopback, which only an allow-list lets IMAP reach.
  void Build(InboxOptions options, bool allow_loopback = true) {
    options.data_dir = data_dir_;
    options.now_ms = [this] { return now_; };
    if (allow_loopback) options.policy = net::TargetPolicy::WithAllowList({"127.0.0.1"});
    service_ = std::make_unique<InboxService>(db(), *queue_, *secrets_, std::move(options));
  }

  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite s;
    s.slug = slug;
    s.name = slug;
    return db().WriteValue([&](soci::session& session) { return sites::store::Insert(session, s, 1); });
  }
  std::int64_t AddUser(const std::string& email, std::vector<std::int64_t> sites) {
    users::NewUser u;
    u.email = email;
    u.name = email;
    u.password_hash = "x";
    u.site_ids = std::move(sites);
    return db().WriteValue([&](soci::session& s) { return users::store::Insert(s, u, 1); });
  }
  static web::Principal Editor(std::int64_t user, std::vector<std::int64_t> sites) {
    web::Principal p;
    p.user_id = user;
    p.site_ids = std::move(sites);
    return p;
  }
  web::Principal EdA() const { return Editor(ed_a_, {site_a_}); }
  web::Principal EdB() const { return Editor(ed_b_, {site_b_}); }

  AccountInput Input(std::optional<std::int64_t> site = std::nullopt) {
    AccountInput in;
    in.name = "Test inbox";
    in.host = Env("POSTE_TEST_IMAP_HOST");
    in.port = std::atoi(Env("POSTE_TEST_IMAP_PORT").c_str());
    in.tls = "none";
    in.username = Env("POSTE_TEST_IMAP_USER");
    in.password = Env("POSTE_TEST_IMAP_PASSWORD");
    in.mailbox = folder_->name();
    in.site_id = site;
    return in;
  }
  Account Create(const web::Principal& who, std::optional<std::int64_t> site = std::nullopt) {
    return service_->CreateAccount({}, who, Input(site));
  }
  std::vector<MessageSummary> All(const web::Principal& who, MessageFilter filter = {}) {
    filter.limit = 200;
    return service_->ListMessages(who, filter).items;
  }
  static MessageFilter InThread(std::int64_t thread) {
    MessageFilter f;
    f.thread_id = thread;
    return f;
  }
  static MessageFilter Archived() {
    MessageFilter f;
    f.archived = true;
    return f;
  }
  static MessageFilter Unread() {
    MessageFilter f;
    f.unread_only = true;
    return f;
  }
  const MessageSummary* BySubject(const std::vector<MessageSummary>& list, const std::string& subject) {
    for (const auto& m : list) {
      if (m.subject == subject) return &m;
    }
    return nullptr;
  }

  std::filesystem::path data_dir_;
  std::int64_t now_ = 1'700'000'000'000;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<crypto::SecretBox> secrets_;
  std::unique_ptr<InboxService> service_;
  std::unique_ptr<DovecotFolder> folder_;
  std::int64_t site_a_ = 0, site_b_ = 0, ed_a_ = 0, ed_b_ = 0;
};

std::string Simple(const std::string& subject, const std::string& id, const std::string& extra = "",
                   const std::string& body = "Hello there.\n") {
  return "From: Ada Lovelace <ada@example.org>\nTo: poste@example.test\nSubject: " + subject + "\nMessage-ID: <" + id +
         ">\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n" + extra +
         "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body;
}

const char* kNonAscii =
    "From: =?UTF-8?Q?Ren=C3=A9e_M=C3=BCller?= <renee@example.org>\n"
    "To: poste@example.test\n"
    "Subject: =?UTF-8?B?UsOpdW5pb24gw6AgWsO8cmljaCDinJMg5Lya6K2w?=\n"
    "Message-ID: <nonascii-1@example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=alt\n"
    "\n"
    "--alt\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Caf=E9 cr=E8me\n"
    "--alt\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<p onclick=\"alert(1)\">Caf\xC3\xA9 <script>alert(2)</script></p>\n"
    "--alt--\n";

const char* kWithAttachment =
    "From: bob@example.org\n"
    "To: poste@example.test\n"
    "Subject: Invoice attached\n"
    "Message-ID: <attach-1@example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=mix\n"
    "\n"
    "--mix\n"
    "Content-Type: text/plain\n"
    "\n"
    "See the invoice.\n"
    "--mix\n"
    "Content-Type: application/pdf; name*=UTF-8''r%C3%A9sum%C3%A9%20..%2F..%2Fetc.pdf\n"
    "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20..%2F..%2Fetc.pdf\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "JVBERi0xLjQKJcTl8uXrp/Og0MTGCg==\n"
    "--mix\n"
    "Content-Type: text/html; name=page.html\n"
    "Content-Disposition: attachment; filename=page.html\n"
    "\n"
    "<script>alert(1)</script>\n"
    "--mix--\n";

TEST_P(InboxSyncTest, SyncsNonAsciiAndAttachmentsThenOnlyNewUids) {
  ASSERT_FALSE(HasFailure());
  folder_->Deliver(kNonAscii);
  folder_->Deliver(kWithAttachment);
  const auto account = Create(EdA());
  EXPECT_TRUE(account.sealed_password.size() > 0);
  EXPECT_EQ(ToJson(account).dump().find(Env("POSTE_TEST_IMAP_PASSWORD")), std::string::npos);

  auto first = service_->SyncNow(EdA(), account.id);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.fetched, 2);
  EXPECT_FALSE(first.resynced);
  EXPECT_EQ(first.last_uid, 2);

  auto list = All(EdA());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].subject, "Invoice attached");  // newest first
  const auto* utf8 = BySubject(list, "R\xC3\xA9union \xC3\xA0 Z\xC3\xBCrich \xE2\x9C\x93 \xE4\xBC\x9A\xE8\xAD\xB0");
  ASSERT_NE(utf8, nullptr) << list[1].subject;
  EXPECT_EQ(utf8->from.name,
            "Ren\xC3\xA9"
            "e M\xC3\xBCller");
  EXPECT_FALSE(utf8->read);
  auto detail = service_->GetMessage(EdA(), utf8->id);
  EXPECT_EQ(detail.message.text, "Caf\xC3\xA9 cr\xC3\xA8me");  // ISO-8859-1 quoted-printable, now UTF-8
  EXPECT_NE(detail.message.html.find("<script>alert(2)</script>"), std::string::npos);  // as received
  EXPECT_EQ(DetailJson(detail.message, detail.attachments)["html_sanitized"], false);
  // Syncing never marks messages \Seen on the server.
  auto flags = folder_->Flags(1);
  EXPECT_EQ(std::count(flags.begin(), flags.end(), "\\Seen"), 0);

  auto with_files = service_->GetMessage(EdA(), list[0].id);
  ASSERT_EQ(with_files.attachments.size(), 2u);
  const auto& pdf = with_files.attachments[0];
  EXPECT_EQ(pdf.filename, "r\xC3\xA9sum\xC3\xA9 ../../etc.pdf");
  EXPECT_EQ(pdf.content_type, "application/pdf");
  auto file = service_->GetAttachment(EdA(), list[0].id, 0);
  // The name on disk is made safe: no directory escapes, inside the inbox folder.
  const auto real = std::filesystem::weakly_canonical(file.path);
  EXPECT_EQ(real.parent_path().parent_path().parent_path(), std::filesystem::weakly_canonical(data_dir_ / "inbox"));
  EXPECT_EQ(real.filename().string().find('/'), std::string::npos);
  EXPECT_TRUE(real.filename().string().ends_with(".pdf")) << real;
  std::ifstream in(file.path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_TRUE(bytes.str().starts_with("%PDF-1.4"));
  EXPECT_THROW(service_->GetAttachment(EdA(), list[0].id, 7), AppError);

  // Nothing new: nothing fetched. One new message: only its UID.
  auto again = service_->SyncNow(EdA(), account.id);
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(again.fetched, 0);
  folder_->Deliver(Simple("Third", "third@example.org"));
  auto third = service_->SyncNow(EdA(), account.id);
  ASSERT_TRUE(third.ok) << third.error;
  EXPECT_EQ(third.fetched, 1);
  EXPECT_EQ(third.last_uid, 3);
  EXPECT_EQ(All(EdA()).size(), 3u);
  auto stored = service_->GetAccount(EdA(), account.id);
  EXPECT_EQ(stored.last_uid, 3);
  EXPECT_GT(stored.uidvalidity, 0);
  EXPECT_EQ(stored.last_error, "");
}

TEST_P(InboxSyncTest, ThreadOfRepliesArrivingBeforeTheirParents) {
  ASSERT_FALSE(HasFailure());
  const auto account = Create(EdA());
  const std::string r = "root@t.example", x = "x@t.example", y = "y@t.example", z = "z@t.example";
  // Replies first: Y (to X) and Z (to Y), then the root, then X.
  folder_->Deliver(Simple("Re: Plan", y, "In-Reply-To: <" + x + ">\nReferences: <" + r + "> <" + x + ">\n"));
  folder_->Deliver(
      Simple("Re: Plan", z, "In-Reply-To: <" + y + ">\nReferences: <" + r + "> <" + x + "> <" + y + ">\n"));
  folder_->Deliver(Simple("Unrelated", "other@t.example"));
  ASSERT_TRUE(service_->SyncNow(EdA(), account.id).ok);
  folder_->Deliver(Simple("Plan", r));
  ASSERT_TRUE(service_->SyncNow(EdA(), account.id).ok);
  folder_->Deliver(Simple("Re: Plan", x, "In-Reply-To: <" + r + ">\nReferences: <" + r + ">\n"));
  ASSERT_TRUE(service_->SyncNow(EdA(), account.id).ok);

  auto list = All(EdA());
  ASSERT_EQ(list.size(), 5u);
  std::int64_t thread = 0, unrelated = 0;
  for (const auto& m : list) {
    if (m.subject == "Unrelated") {
      unrelated = m.thread_id;
      continue;
    }
    if (thread == 0) thread = m.thread_id;
    EXPECT_EQ(m.thread_id, thread) << m.message_id;
  }
  EXPECT_NE(thread, unrelated);
  auto messages = service_->Thread(EdA(), thread);
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0].message_id, y);  // oldest first (in arrival order)
  EXPECT_EQ(All(EdA(), InThread(thread)).size(), 4u);
  EXPECT_THROW(service_->Thread(EdB(), thread), AppError);

  // The reply path: Re: once, In-Reply-To and References extended, the text quoted.
  auto root =
      std::find_if(messages.begin(), messages.end(), [&](const MessageSummary& m) { return m.message_id == r; });
  ASSERT_NE(root, messages.end());
  auto draft = service_->Reply(EdA(), root->id, false);
  EXPECT_EQ(draft.subject, "Re: Plan");
  EXPECT_EQ(draft.in_reply_to, r);
  EXPECT_EQ(draft.references, std::vector<std::string>{r});
  ASSERT_EQ(draft.to.size(), 1u);
  EXPECT_EQ(draft.to[0].email, "ada@example.org");
  EXPECT_NE(draft.quoted_text.find("> Hello there."), std::string::npos);
}

TEST_P(InboxSyncTest, UidValidityChangeResyncsAndKeepsState) {
  ASSERT_FALSE(HasFailure());
  folder_->Deliver(Simple("One", "one@v.example"));
  folder_->Deliver(Simple("Two", "two@v.example"));
  const auto account = Create(EdA());
  auto first = service_->SyncNow(EdA(), account.id);
  ASSERT_TRUE(first.ok) << first.error;
  ASSERT_EQ(first.fetched, 2);
  auto list = All(EdA());
  const auto* one = BySubject(list, "One");
  ASSERT_NE(one, nullptr);
  service_->Archive(EdA(), one->id, true);

  // The server renumbers the mailbox: the same two messages come back with new UIDs, plus a new one.
  folder_->Recreate();
  folder_->Deliver(Simple("One", "one@v.example"));
  folder_->Deliver(Simple("Two", "two@v.example"));
  folder_->Deliver(Simple("Three", "three@v.example"));
  auto second = service_->SyncNow(EdA(), account.id);
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_TRUE(second.resynced);
  EXPECT_NE(second.uidvalidity, first.uidvalidity);
  EXPECT_EQ(second.fetched, 1);      // the other two were already here
  EXPECT_EQ(All(EdA()).size(), 2u);  // Two and Three; One stays archived
  auto archived = All(EdA(), Archived());
  ASSERT_EQ(archived.size(), 1u);
  EXPECT_EQ(archived[0].id, one->id);
  EXPECT_EQ(archived[0].uidvalidity, second.uidvalidity);
  EXPECT_EQ(service_->SyncNow(EdA(), account.id).fetched, 0);
}

TEST_P(InboxSyncTest, TenancyOfPersonalAndSiteAccounts) {
  ASSERT_FALSE(HasFailure());
  folder_->Deliver(Simple("Shared", "shared@x.example"));
  const auto personal = Create(EdA());
  const auto shared = Create(EdB(), site_b_);
  EXPECT_EQ(shared.site_id, site_b_);
  EXPECT_FALSE(shared.owner_user_id);
  ASSERT_TRUE(service_->SyncNow(EdB(), shared.id).ok);

  web::Principal admin;
  admin.user_id = 999999;
  admin.admin = true;
  // Editor A: their own account only; B's site inbox is another site's.
  EXPECT_EQ(service_->ListAccounts(EdA()).size(), 1u);
  EXPECT_THROW(service_->GetAccount(EdA(), shared.id), AppError);
  EXPECT_THROW(service_->SyncNow(EdA(), shared.id), AppError);
  EXPECT_TRUE(All(EdA()).empty());
  // Editor B and the admin see the site's inbox; nobody but A sees A's own.
  EXPECT_EQ(All(EdB()).size(), 1u);
  EXPECT_EQ(All(admin).size(), 1u);
  EXPECT_THROW(service_->GetAccount(admin, personal.id), AppError);
  EXPECT_THROW(service_->GetAccount(EdB(), personal.id), AppError);
  const auto message = All(EdB())[0].id;
  EXPECT_THROW(service_->GetMessage(EdA(), message), AppError);
  EXPECT_THROW(service_->MarkRead(EdA(), message), AppError);
  EXPECT_THROW(service_->Archive(EdA(), message, true), AppError);
  // A site-scoped API key of B's sees the site's inbox; one scoped elsewhere sees nothing.
  auto key = EdB();
  key.key_sites = {site_b_};
  EXPECT_EQ(All(key).size(), 1u);
  key.key_sites = {site_a_};
  EXPECT_TRUE(All(key).empty());
  // Creating for a site one cannot access is a field error.
  try {
    Create(EdA(), site_b_);
    ADD_FAILURE() << "created";
  } catch (const AppError& e) {
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].field, "site_id");
  }
  service_->DeleteAccount({}, EdB(), shared.id);
  EXPECT_TRUE(All(admin).empty());
  EXPECT_THROW(service_->DeleteAccount({}, EdA(), shared.id), AppError);
}

TEST_P(InboxSyncTest, MarkReadSetsSeenOnTheServer) {
  ASSERT_FALSE(HasFailure());
  folder_->Deliver(Simple("Read me", "readme@x.example"));
  const auto account = Create(EdA());
  ASSERT_TRUE(service_->SyncNow(EdA(), account.id).ok);
  const auto id = All(EdA())[0].id;
  EXPECT_TRUE(service_->MarkRead(EdA(), id));
  auto flags = folder_->Flags(1);
  EXPECT_EQ(std::count(flags.begin(), flags.end(), "\\Seen"), 1);
  EXPECT_TRUE(service_->GetMessage(EdA(), id).message.read);
  EXPECT_TRUE(All(EdA(), Unread()).empty());
  // A server that refuses for now: read here, \Seen later by a retried job.
  folder_->Deliver(Simple("Later seen", "later-seen@x.example"));
  ASSERT_TRUE(service_->SyncNow(EdA(), account.id).ok);
  const auto later = All(EdA(), Unread())[0].id;
  AccountInput broken;
  broken.password = "not the password";
  service_->UpdateAccount({}, EdA(), account.id, broken);
  EXPECT_FALSE(service_->MarkRead(EdA(), later));
  EXPECT_TRUE(service_->GetMessage(EdA(), later).message.read);
  auto job = queue_->Claim("test", 60000, {std::string(kSeenJobKind)});
  ASSERT_TRUE(job);
  EXPECT_THROW(service_->HandleSeenJob(*job), mail::imap::ImapError);
  AccountInput fixed;
  fixed.password = Env("POSTE_TEST_IMAP_PASSWORD");
  service_->UpdateAccount({}, EdA(), account.id, fixed);
  service_->HandleSeenJob(*job);
  flags = folder_->Flags(2);
  EXPECT_EQ(std::count(flags.begin(), flags.end(), "\\Seen"), 1);
  jobs::Job bad = *job;
  bad.payload = "{}";
  EXPECT_THROW(service_->HandleSeenJob(bad), jobs::PermanentError);

  // A new message arrives unread.
  folder_->Deliver(Simple("Second", "second@x.example"));
  ASSERT_TRUE(service_->SyncNow(EdA(), account.id).ok);
  EXPECT_EQ(All(EdA(), Unread()).size(), 1u);
  EXPECT_EQ(All(EdA(), Unread())[0].subject, "Second");
}

TEST_P(InboxSyncTest, ServerFailuresAreReportedNotThrown) {
  ASSERT_FALSE(HasFailure());
  auto input = Input();
  input.password = "wrong password";
  const auto account = service_->CreateAccount({}, EdA(), input);
  auto result = service_->SyncNow(EdA(), account.id);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("Login denied"), std::string::npos) << result.error;
  EXPECT_FALSE(service_->GetAccount(EdA(), account.id).last_error.empty());
  // A missing mailbox: the server's refusal, verbatim.
  AccountInput patch;
  patch.password = Env("POSTE_TEST_IMAP_PASSWORD");
  patch.mailbox = folder_->name() + "-missing";
  service_->UpdateAccount({}, EdA(), account.id, patch);
  result = service_->SyncNow(EdA(), account.id);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("NO"), std::string::npos) << result.error;
  // Loopback is refused unless allowed (the SSRF guard).
  Build({}, false);
  patch.mailbox = folder_->name();
  service_->UpdateAccount({}, EdA(), account.id, patch);
  result = service_->SyncNow(EdA(), account.id);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("not a public address"), std::string::npos) << result.error;
}

TEST_P(InboxSyncTest, PeriodicJobSyncsAndQueuesTheNextOnce) {
  ASSERT_FALSE(HasFailure());
  folder_->Deliver(Simple("Periodic", "periodic@x.example"));
  InboxOptions options;
  options.sync_interval_ms = 60000;
  Build(std::move(options));
  const auto account = Create(EdA());
  auto job = queue_->Claim("test", 60000, {std::string(kSyncJobKind)});
  ASSERT_TRUE(job);
  EXPECT_EQ(nlohmann::json::parse(job->payload)["account_id"], account.id);
  service_->HandleSyncJob(*job);
  service_->HandleSyncJob(*job);  // run twice (an expired lease): still one successor
  ASSERT_TRUE(queue_->Complete(job->id, "test"));
  EXPECT_EQ(All(EdA()).size(), 1u);
  EXPECT_FALSE(queue_->Claim("test", 60000, {std::string(kSyncJobKind)}));  // not due yet
  now_ += 60000;
  auto next = queue_->Claim("test", 60000, {std::string(kSyncJobKind)});
  ASSERT_TRUE(next);
  EXPECT_FALSE(queue_->Claim("test", 60000, {std::string(kSyncJobKind)}));
  // A deleted account ends the chain.
  service_->DeleteAccount({}, EdA(), account.id);
  service_->HandleSyncJob(*next);
  ASSERT_TRUE(queue_->Complete(next->id, "test"));
  now_ += 120000;
  EXPECT_FALSE(queue_->Claim("test", 60000, {std::string(kSyncJobKind)}));
  jobs::Job bad = *next;
  bad.payload = R"({"account_id":"x"})";
  EXPECT_THROW(service_->HandleSyncJob(bad), jobs::PermanentError);
}

const char* kBounce =
    "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
    "To: bounces@poste.example\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Message-ID: <bounce-1@mx.example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n"
    "\n"
    "--b1\n"
    "Content-Type: text/plain\n"
    "\n"
    "I'm sorry to have to inform you that your message could not be delivered.\n"
    "--b1\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.org\n"
    "\n"
    "Final-Recipient: rfc822; gone@example.org\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
    "\n"
    "--b1\n"
    "Content-Type: text/rfc822-headers\n"
    "\n"
    "Message-ID: <sent-42@poste.example>\n"
    "Subject: Newsletter\n"
    "\n"
    "--b1--\n";

TEST_P(InboxSyncTest, BouncesOfASyncedMessage) {
  ASSERT_FALSE(HasFailure());
  std::vector<mail::Bounce> seen_by_hook;
  InboxOptions options;
  options.on_message = [&](const Account&, std::int64_t, const mail::ParsedMessage& parsed) {
    auto found = mail::FindBounces(parsed);
    seen_by_hook.insert(seen_by_hook.end(), found.begin(), found.end());
  };
  Build(std::move(options));
  folder_->Deliver(kBounce);
  folder_->Deliver(Simple("Not a bounce", "plain@x.example"));
  const auto account = Create(EdA());
  ASSERT_TRUE(service_->SyncNow(EdA(), account.id).ok);
  ASSERT_EQ(seen_by_hook.size(), 1u);
  auto list = All(EdA());
  const auto* bounce = BySubject(list, "Undelivered Mail Returned to Sender");
  const auto* plain = BySubject(list, "Not a bounce");
  ASSERT_TRUE(bounce && plain);
  auto bounces = service_->BouncesOf(bounce->id);
  ASSERT_EQ(bounces.size(), 1u);
  EXPECT_EQ(bounces[0].recipient, "gone@example.org");
  EXPECT_EQ(bounces[0].kind, mail::BounceClass::kHard);
  EXPECT_EQ(bounces[0].original_message_id, "sent-42@poste.example");
  EXPECT_TRUE(service_->BouncesOf(plain->id).empty());
  EXPECT_TRUE(service_->BouncesOf(987654).empty());
}

TEST_P(InboxSyncTest, OversizedMessagesAndAttachmentsAreLimited) {
  ASSERT_FALSE(HasFailure());
  InboxOptions options;
  options.max_message_bytes = 4000;
  options.max_attachment_bytes = 10;
  Build(std::move(options));
  folder_->Deliver(Simple("Huge", "huge@x.example", "", std::string(20000, 'x') + "\n"));
  folder_->Deliver(kWithAttachment);
  const auto account = Create(EdA());
  ASSERT_TRUE(service_->SyncNow(EdA(), account.id).ok);
  auto list = All(EdA());
  const auto* huge = BySubject(list, "Huge");
  ASSERT_NE(huge, nullptr);
  EXPECT_TRUE(huge->truncated);
  EXPECT_TRUE(huge->snippet.empty());
  EXPECT_TRUE(service_->GetMessage(EdA(), huge->id).message.text.empty());
  EXPECT_GT(huge->size, 20000);
  const auto* attached = BySubject(list, "Invoice attached");
  ASSERT_NE(attached, nullptr);
  auto view = service_->GetMessage(EdA(), attached->id);
  ASSERT_EQ(view.attachments.size(), 2u);
  EXPECT_TRUE(view.attachments[0].path.empty());  // 22 bytes: over the limit, listed only
  EXPECT_EQ(view.attachments[0].size, 22);
  EXPECT_THROW(service_->GetAttachment(EdA(), attached->id, 0), AppError);
}

POSTE_INSTANTIATE_DB_TEST(InboxSyncTest);

}  // namespace
}  // namespace poste::inbox
