#include "modules/sites/sites_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "lib/crypto/crypto_error.hpp"
#include "lib/error.hpp"
#include "modules/audit/audit_service.hpp"
#include "support/db_fixture.hpp"

namespace poste::sites {
namespace {

template <class F>
std::pair<int, std::string> Failure(F fn) {
  try {
    fn();
  } catch (const AppError& e) {
    return {e.status(), e.fields().empty() ? "" : e.fields()[0].field};
  }
  return {0, ""};
}

NewSite Site(std::string slug, std::vector<std::string> domains = {}) {
  NewSite s;
  s.slug = slug;
  s.name = "Site " + slug;
  s.domains = std::move(domains);
  return s;
}

class SitesServiceTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    service_ = std::make_unique<SitesService>(db(), *box_);
    admin_.user_id = 1;
    admin_.admin = true;
  }
  SitesService& svc() { return *service_; }
  audit::AuditPage Audit() { return audit::AuditService(db()).List({}); }

  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<SitesService> service_;
  web::Principal admin_;
  audit::Origin origin_{1, std::nullopt, "192.0.2.1", "req-1"};
};

TEST_P(SitesServiceTest, CreateResolveListAndConflicts) {
  auto a = svc().Create(admin_, origin_, Site("alpha", {"Alpha.example.COM."}));
  auto b = svc().Create(admin_, origin_, Site("beta"));
  EXPECT_EQ(a.domains, (std::vector<std::string>{"alpha.example.com"}));
  EXPECT_EQ(svc().ResolveSite("alpha"), a.id);
  EXPECT_EQ(svc().ResolveSite(std::to_string(b.id)), b.id);
  EXPECT_FALSE(svc().ResolveSite("gamma"));
  EXPECT_FALSE(svc().ResolveSite("99999999999999999999999"));

  EXPECT_EQ(Failure([&] { svc().Create(admin_, origin_, Site("alpha")); }), (std::pair<int, std::string>{409, "slug"}));
  EXPECT_EQ(Failure([&] { svc().Create(admin_, origin_, Site("gamma", {"alpha.example.com"})); }),
            (std::pair<int, std::string>{409, "domains"}));
  EXPECT_EQ(Failure([&] { svc().Create(admin_, origin_, Site("gamma", {"not a domain"})); }).first, 422);
  EXPECT_EQ(Failure([&] { svc().Create(admin_, origin_, Site("Bad Slug")); }),
            (std::pair<int, std::string>{422, "slug"}));

  web::Principal editor;
  editor.user_id = 2;
  editor.site_ids = {b.id};
  EXPECT_EQ(Failure([&] { svc().Create(editor, origin_, Site("delta")); }).first, 403);
  auto seen = svc().List(editor, {});
  ASSERT_EQ(seen.items.size(), 1u);
  EXPECT_EQ(seen.items[0].id, b.id);
  EXPECT_EQ(svc().List(admin_, {}).items.size(), 2u);
  web::Principal keyed = admin_;
  keyed.key_sites = {a.id};
  ASSERT_EQ(svc().List(keyed, {}).items.size(), 1u);
  EXPECT_EQ(svc().List(web::Principal{}, {}).items.size(), 0u);

  auto log = Audit();
  ASSERT_EQ(log.items.size(), 2u);
  EXPECT_EQ(log.items[1].action, "site.create");
  EXPECT_EQ(log.items[1].site_id, a.id);
  EXPECT_EQ(log.items[1].changes["slug"], "alpha");
}

TEST_P(SitesServiceTest, UpdateAuditsTheDifferenceAndDeleteIsAdminOnly) {
  auto a = svc().Create(admin_, origin_, Site("alpha"));
  SitePatch p;
  p.name = "Renamed";
  p.contact_address = "1 rue\r\n<b>x</b>'; DROP TABLE sites; --";
  auto updated = svc().Update(origin_, a.id, p);
  EXPECT_EQ(updated.name, "Renamed");
  EXPECT_EQ(updated.contact.address, *p.contact_address);
  auto e = Audit().items[0];
  EXPECT_EQ(e.action, "site.update");
  EXPECT_EQ(e.changes["name"]["from"], "Site alpha");
  EXPECT_EQ(e.changes["name"]["to"], "Renamed");
  EXPECT_FALSE(e.changes.contains("slug"));
  web::Principal editor;
  editor.user_id = 2;
  editor.site_ids = {a.id};
  EXPECT_EQ(Failure([&] { svc().Delete(editor, origin_, a.id); }).first, 403);
  svc().Delete(admin_, origin_, a.id);
  EXPECT_EQ(Failure([&] { svc().Get(a.id); }).first, 404);
  EXPECT_EQ(Failure([&] { svc().Update(origin_, a.id, p); }).first, 404);
  EXPECT_EQ(Audit().items[0].action, "site.delete");
}

TEST_P(SitesServiceTest, SecretSettingsAreSealedBoundAndRedacted) {
  auto a = svc().Create(admin_, origin_, Site("alpha"));
  auto b = svc().Create(admin_, origin_, Site("beta"));
  auto plain = svc().PutSetting(origin_, a.id, "smtp.host", "mail.example.com", false);
  EXPECT_EQ(plain.value, "mail.example.com");
  auto sealed = svc().PutSetting(origin_, a.id, "smtp.password", "hunter2-secret", true);
  EXPECT_TRUE(sealed.secret);
  EXPECT_EQ(sealed.value.find("hunter2"), std::string::npos);
  EXPECT_EQ(ToJson(sealed).dump().find(sealed.value), std::string::npos);
  EXPECT_EQ(svc().SettingValue(a.id, "smtp.password"), "hunter2-secret");
  EXPECT_EQ(svc().SettingValue(a.id, "smtp.host"), "mail.example.com");
  EXPECT_FALSE(svc().SettingValue(a.id, "nope"));

  // Copied into another site's row, the ciphertext does not open.
  db().Write([&](soci::session& s) { store::PutSetting(s, b.id, "smtp.password", sealed.value, true, 1); });
  EXPECT_THROW(svc().SettingValue(b.id, "smtp.password"), crypto::CryptoError);

  auto settings = svc().Settings(a.id);
  ASSERT_EQ(settings.size(), 2u);
  EXPECT_EQ(settings[0].key, "smtp.host");

  auto log = Audit();
  EXPECT_EQ(log.items[0].action, "site.setting.create");
  EXPECT_EQ(log.items[0].changes["value"]["to"], "[redacted]");
  EXPECT_EQ(log.items[0].changes["secret"], true);
  for (const auto& item : log.items) EXPECT_EQ(item.changes.dump().find("hunter2"), std::string::npos);

  svc().PutSetting(origin_, a.id, "smtp.password", "now-plain", false);
  EXPECT_EQ(Audit().items[0].action, "site.setting.update");
  EXPECT_EQ(Audit().items[0].changes["value"]["from"], "[redacted]");
  svc().DeleteSetting(origin_, a.id, "smtp.password");
  EXPECT_EQ(Audit().items[0].action, "site.setting.delete");
  EXPECT_EQ(Failure([&] { svc().DeleteSetting(origin_, a.id, "smtp.password"); }).first, 404);
  EXPECT_EQ(Failure([&] { svc().PutSetting(origin_, a.id, "Bad Key!", "v", false); }),
            (std::pair<int, std::string>{422, "key"}));
  EXPECT_EQ(Failure([&] { svc().PutSetting(origin_, a.id, "k", std::string(70000, 'x'), true); }),
            (std::pair<int, std::string>{422, "value"}));
  EXPECT_EQ(Failure([&] { svc().PutSetting(origin_, 9999, "k", "v", false); }).first, 404);
}

// Modules that keep a site's files hear of its deletion once it has committed, with the site as it was; a
// failing listener is logged and neither stops the others nor undoes the deletion.
TEST_P(SitesServiceTest, DeletionListenersRunAfterTheCommit) {
  auto a = svc().Create(admin_, origin_, Site("alpha", {"alpha.example"}));
  std::vector<std::string> heard;
  svc().OnDeleted([&](const sites::Site& site) {
    const bool gone = !db().ReadValue([&](soci::session& s) { return store::GetById(s, site.id).has_value(); });
    heard.push_back(site.slug + (gone ? " gone" : " still there"));
  });
  svc().OnDeleted([](const sites::Site&) { throw std::runtime_error("disk on fire"); });
  svc().OnDeleted([&](const sites::Site& site) { heard.push_back("after the failure: " + site.domains.at(0)); });
  web::Principal editor;
  editor.user_id = 2;
  EXPECT_EQ(Failure([&] { svc().Delete(editor, origin_, a.id); }).first, 403);
  EXPECT_EQ(Failure([&] { svc().Delete(admin_, origin_, a.id + 1000); }).first, 404);
  EXPECT_TRUE(heard.empty()) << "no listener for a refused deletion";
  svc().Delete(admin_, origin_, a.id);
  EXPECT_EQ(heard, (std::vector<std::string>{"alpha gone", "after the failure: alpha.example"}));
  EXPECT_EQ(Failure([&] { svc().Get(a.id); }).first, 404);
}

// A change of a site's own fields tells the update listeners (before and after, once committed) ahead of the
// change listeners; a failing one is logged and neither stops the others nor undoes the change.
TEST_P(SitesServiceTest, UpdateListenersHearBeforeAndAfterOnceCommitted) {
  auto a = svc().Create(admin_, origin_, Site("alpha"));
  std::vector<std::string> heard;
  svc().OnUpdated([&](const sites::Site& before, const sites::Site& after) {
    const auto stored = db().ReadValue([&](soci::session& s) { return store::GetById(s, after.id); });
    heard.push_back(before.slug + " -> " + after.slug + (stored && stored->slug == after.slug ? " committed" : ""));
  });
  svc().OnUpdated([](const sites::Site&, const sites::Site&) { throw std::runtime_error("disk on fire"); });
  svc().OnChanged([&](std::int64_t id) { heard.push_back("changed " + std::to_string(id == a.id)); });
  SitePatch bad;
  bad.slug = "Not A Slug";
  EXPECT_EQ(Failure([&] { svc().Update(origin_, a.id, bad); }).first, 422);
  EXPECT_EQ(Failure([&] { svc().Update(origin_, a.id + 1000, SitePatch{}); }).first, 404);
  EXPECT_TRUE(heard.empty()) << "no listener for a refused change";
  SitePatch rename;
  rename.slug = "omega";
  EXPECT_EQ(svc().Update(origin_, a.id, rename).slug, "omega");
  EXPECT_EQ(heard, (std::vector<std::string>{"alpha -> omega committed", "changed 1"}));
}

POSTE_INSTANTIATE_DB_TEST(SitesServiceTest);

}  // namespace
}  // namespace poste::sites
