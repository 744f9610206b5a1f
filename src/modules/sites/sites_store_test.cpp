#include "modules/sites/sites_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "lib/error.hpp"
#include "support/db_fixture.hpp"

namespace poste::sites {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

// What must come back byte for byte: line breaks, quotes, SQL and HTML.
const std::string& Nasty() {
  static const std::string text = "a\r\nb'; DROP TABLE sites; --\"<script>alert(1)</script>&amp;\t\\ é";
  return text;
}

NewSite MakeSite(const std::string& slug, std::vector<std::string> domains = {}) {
  NewSite site;
  site.slug = slug;
  site.name = "Site " + slug;
  site.domains = std::move(domains);
  return site;
}

store::ListOptions Options(int limit, std::optional<std::int64_t> cursor = std::nullopt,
                           std::optional<std::vector<std::int64_t>> site_ids = std::nullopt) {
  store::ListOptions o;
  o.limit = limit, o.cursor = cursor, o.site_ids = std::move(site_ids);
  return o;
}

class SitesStoreTest : public poste::testing::DbTest {
 protected:
  std::int64_t Add(const NewSite& site, std::int64_t now = kNow) {
    return db().WriteValue([&](soci::session& s) { return store::Insert(s, site, now); });
  }
  std::optional<Site> Get(std::int64_t id) {
    return db().ReadValue([&](soci::session& s) { return store::GetById(s, id); });
  }
  std::optional<Site> Patch(std::int64_t id, const SitePatch& patch, std::int64_t now = kNow + 1) {
    return db().WriteValue([&](soci::session& s) { return store::Update(s, id, patch, now); });
  }
  long long Count(const std::string& sql) {
    return db().ReadValue([&](soci::session& s) {
      long long n = 0;
      s << sql, soci::into(n);
      return n;
    });
  }
  // The AppError a write throws (fails the test when it does not throw one).
  AppError WriteError(const std::function<void(soci::session&)>& fn) {
    try {
      db().Write(fn);
    } catch (const AppError& error) {
      return error;
    }
    ADD_FAILURE() << "expected an AppError";
    return AppError::Internal("none");
  }
};

TEST_P(SitesStoreTest, InsertStoresEveryField) {
  NewSite nu = MakeSite("alpha", {"WWW.Alpha.example.", "alpha.example"});
  nu.description = "Line one\nline two";
  nu.locale = "en";
  nu.timezone = "America/New_York";
  nu.logo_media_id = 42;
  nu.contact = {"hello@alpha.example", "+33 1 23 45 67 89", "1 rue de la Paix\r\n75002 Paris"};
  nu.social.facebook = "https://facebook.com/alpha";
  nu.social.x = "https://x.com/alpha";
  nu.social.custom = {{"Blog", "https://blog.alpha.example"}};
  const auto id = Add(nu);

  const auto site = Get(id);
  ASSERT_TRUE(site.has_value());
  EXPECT_EQ(site->id, id);
  EXPECT_EQ(site->slug, "alpha");
  EXPECT_EQ(site->name, "Site alpha");
  EXPECT_EQ(site->description, "Line one\nline two");
  EXPECT_EQ(site->locale, "en");
  EXPECT_EQ(site->timezone, "America/New_York");
  EXPECT_EQ(site->logo_media_id, 42);
  EXPECT_EQ(site->contact.email, "hello@alpha.example");
  EXPECT_EQ(site->contact.phone, "+33 1 23 45 67 89");
  EXPECT_EQ(site->contact.address, "1 rue de la Paix\r\n75002 Paris");
  EXPECT_EQ(site->social.facebook, "https://facebook.com/alpha");
  EXPECT_EQ(site->social.x, "https://x.com/alpha");
  EXPECT_EQ(site->social.instagram, "");
  ASSERT_EQ(site->social.custom.size(), 1u);
  EXPECT_EQ(site->social.custom[0].label, "Blog");
  EXPECT_EQ(site->social.custom[0].url, "https://blog.alpha.example");
  EXPECT_EQ(site->domains, (std::vector<std::string>{"alpha.example", "www.alpha.example"}));  // normalised
  EXPECT_EQ(site->created_at, kNow);
  EXPECT_EQ(site->updated_at, kNow);

  const auto json = ToJson(*site);
  EXPECT_EQ(json["contact"]["phone"], "+33 1 23 45 67 89");
  EXPECT_EQ(json["social"]["custom"][0]["label"], "Blog");
  EXPECT_EQ(json["domains"].size(), 2u);
  EXPECT_EQ(json["logo_media_id"], 42);
}

TEST_P(SitesStoreTest, DefaultsAndLookups) {
  const auto id = Add(MakeSite("beta", {"beta.example"}));
  const auto site = Get(id);
  ASSERT_TRUE(site.has_value());
  EXPECT_EQ(site->locale, "fr");
  EXPECT_EQ(site->timezone, "Europe/Paris");
  EXPECT_FALSE(site->logo_media_id.has_value());
  EXPECT_TRUE(ToJson(*site)["logo_media_id"].is_null());

  const auto by = [&](auto fn) { return db().ReadValue([&](soci::session& s) { return fn(s); }); };
  EXPECT_EQ(by([](soci::session& s) { return store::GetBySlug(s, "beta"); })->id, id);
  EXPECT_FALSE(by([](soci::session& s) { return store::GetBySlug(s, "Beta"); }).has_value());
  EXPECT_EQ(by([&](soci::session& s) { return store::GetByIdOrSlug(s, std::to_string(id)); })->id, id);
  EXPECT_EQ(by([](soci::session& s) { return store::GetByIdOrSlug(s, "beta"); })->id, id);
  EXPECT_FALSE(by([](soci::session& s) { return store::GetByIdOrSlug(s, "99999999999999999999999"); }));
  EXPECT_FALSE(by([](soci::session& s) { return store::GetByIdOrSlug(s, "gamma"); }));
  EXPECT_EQ(by([](soci::session& s) { return store::FindByDomain(s, "BETA.example."); })->id, id);
  EXPECT_FALSE(by([](soci::session& s) { return store::FindByDomain(s, "www.beta.example"); }).has_value());
  EXPECT_FALSE(Get(id + 100).has_value());
}

TEST_P(SitesStoreTest, ADuplicateSlugIsAConflictOnSlug) {
  const auto first = Add(MakeSite("alpha"));
  auto error = WriteError([](soci::session& s) { store::Insert(s, MakeSite("alpha", {"new.example"}), kNow); });
  EXPECT_EQ(error.status(), 409);
  ASSERT_EQ(error.fields().size(), 1u);
  EXPECT_EQ(error.fields()[0].field, "slug");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM site_domains"), 0);  // the transaction left nothing behind

  const auto second = Add(MakeSite("beta"));
  SitePatch patch;
  patch.slug = "alpha";
  error = WriteError([&](soci::session& s) { store::Update(s, second, patch, kNow); });
  EXPECT_EQ(error.status(), 409);
  EXPECT_EQ(error.fields()[0].field, "slug");
  EXPECT_EQ(Get(second)->slug, "beta");
  EXPECT_EQ(Get(first)->slug, "alpha");
}

TEST_P(SitesStoreTest, ADomainOfAnotherSiteIsAConflictNamingIt) {
  const auto alpha = Add(MakeSite("alpha", {"alpha.example", "shared.example"}));
  auto error = WriteError([](soci::session& s) {
    store::Insert(s, MakeSite("beta", {"beta.example", "Shared.Example"}), kNow);
  });
  EXPECT_EQ(error.status(), 409);
  ASSERT_EQ(error.fields().size(), 1u);
  EXPECT_EQ(error.fields()[0].field, "domains");
  EXPECT_NE(error.message().find("shared.example"), std::string::npos) << error.message();
  EXPECT_NE(error.fields()[0].message.find("shared.example"), std::string::npos);
  EXPECT_FALSE(db().ReadValue([](soci::session& s) { return store::GetBySlug(s, "beta"); }).has_value());

  const auto beta = Add(MakeSite("beta", {"beta.example"}));
  SitePatch patch;
  patch.domains = std::vector<std::string>{"beta.example", "alpha.example"};
  error = WriteError([&](soci::session& s) { store::Update(s, beta, patch, kNow); });
  EXPECT_EQ(error.status(), 409);
  EXPECT_EQ(error.fields()[0].field, "domains");
  EXPECT_NE(error.message().find("alpha.example"), std::string::npos);
  EXPECT_EQ(Get(beta)->domains, std::vector<std::string>{"beta.example"});  // rolled back
  EXPECT_EQ(Get(alpha)->domains, (std::vector<std::string>{"alpha.example", "shared.example"}));

  // A site may keep its own domains and a duplicate in the list is one domain.
  patch.domains = std::vector<std::string>{"beta.example", "www.beta.example", "WWW.beta.example"};
  EXPECT_EQ(Patch(beta, patch)->domains, (std::vector<std::string>{"beta.example", "www.beta.example"}));
}

TEST_P(SitesStoreTest, UpdateAppliesOnlyThePatchedFields) {
  NewSite nu = MakeSite("alpha", {"alpha.example"});
  nu.logo_media_id = 7;
  nu.contact.phone = "0102030405";
  const auto id = Add(nu);

  SitePatch patch;
  patch.name = "Renamed";
  patch.contact_email = "new@alpha.example";
  patch.social = Social{};
  patch.social->instagram = "https://instagram.com/alpha";
  const auto updated = Patch(id, patch, kNow + 5);
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(updated->name, "Renamed");
  EXPECT_EQ(updated->contact.email, "new@alpha.example");
  EXPECT_EQ(updated->contact.phone, "0102030405");
  EXPECT_EQ(updated->social.instagram, "https://instagram.com/alpha");
  EXPECT_EQ(updated->slug, "alpha");
  EXPECT_EQ(updated->logo_media_id, 7);
  EXPECT_EQ(updated->domains, std::vector<std::string>{"alpha.example"});
  EXPECT_EQ(updated->updated_at, kNow + 5);
  EXPECT_EQ(updated->created_at, kNow);

  SitePatch clear;
  clear.logo_media_id = std::optional<std::int64_t>();
  clear.domains = std::vector<std::string>{};
  const auto cleared = Patch(id, clear, kNow + 6);
  EXPECT_FALSE(cleared->logo_media_id.has_value());
  EXPECT_TRUE(cleared->domains.empty());
  EXPECT_EQ(cleared->updated_at, kNow + 6);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM site_domains"), 0);

  EXPECT_EQ(Patch(id, SitePatch{}, kNow + 9)->updated_at, kNow + 6);  // an empty patch changes nothing
  EXPECT_FALSE(Patch(id + 50, patch).has_value());
}

TEST_P(SitesStoreTest, DeleteCascadesToDomainsSettingsAndAssignmentsButKeepsUsers) {
  const auto gone = Add(MakeSite("gone", {"gone.example"}));
  const auto kept = Add(MakeSite("kept", {"kept.example"}));
  db().Write([&](soci::session& s) {
    store::PutSetting(s, gone, "smtp.host", "mail.gone.example", false, kNow);
    store::PutSetting(s, kept, "smtp.host", "mail.kept.example", false, kNow);
    const long long now = kNow, a = gone, b = kept;
    long long user = 0;
    s << "INSERT INTO users (email, email_key, name, password_hash, role, created_at, updated_at,"
         " password_changed_at) VALUES ('e@x.com', 'e@x.com', 'E', 'h', 'editor', :c, :u, :p) RETURNING id",
        soci::use(now), soci::use(now), soci::use(now), soci::into(user);
    s << "INSERT INTO user_sites (user_id, site_id) VALUES (:u, :s)", soci::use(user), soci::use(a);
    s << "INSERT INTO user_sites (user_id, site_id) VALUES (:u, :s)", soci::use(user), soci::use(b);
  });
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::Delete(s, gone); }));
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::Delete(s, gone); }));
  EXPECT_FALSE(Get(gone).has_value());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM site_domains WHERE site_id = " + std::to_string(gone)), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM site_settings WHERE site_id = " + std::to_string(gone)), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM user_sites WHERE site_id = " + std::to_string(gone)), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM users"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM user_sites"), 1);
  EXPECT_EQ(Get(kept)->domains, std::vector<std::string>{"kept.example"});
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::ListSettings(s, kept); }).size(), 1u);
  // The freed domain can serve another site.
  EXPECT_GT(Add(MakeSite("reborn", {"gone.example"})), kept);
}

TEST_P(SitesStoreTest, ListPagesNewestFirstWithACursor) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(Add(MakeSite("s" + std::to_string(i), {"s" + std::to_string(i) + ".example"})));
  std::vector<std::int64_t> seen;
  std::optional<std::int64_t> cursor;
  int pages = 0;
  do {
    const auto page = db().ReadValue([&](soci::session& s) { return store::List(s, Options(2, cursor)); });
    for (const auto& site : page.items) {
      seen.push_back(site.id);
      EXPECT_EQ(site.domains, std::vector<std::string>{site.slug + ".example"});
    }
    cursor = page.next_cursor;
    ++pages;
  } while (cursor && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, std::vector<std::int64_t>(ids.rbegin(), ids.rend()));
  EXPECT_FALSE(db().ReadValue([](soci::session& s) { return store::List(s, Options(5)); }).next_cursor);
}

TEST_P(SitesStoreTest, ListRestrictedToAnEditorsSites) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Add(MakeSite("s" + std::to_string(i))));
  const auto list = [&](store::ListOptions options) {
    std::vector<std::int64_t> out;
    auto page = db().ReadValue([&](soci::session& s) { return store::List(s, options); });
    for (const auto& site : page.items) out.push_back(site.id);
    return std::make_pair(out, page.next_cursor);
  };
  const std::vector<std::int64_t> mine = {ids[0], ids[2], ids[4], ids[2]};
  auto [first, cursor] = list(Options(2, std::nullopt, mine));
  EXPECT_EQ(first, (std::vector<std::int64_t>{ids[4], ids[2]}));
  ASSERT_TRUE(cursor.has_value());
  auto [second, end] = list(Options(2, cursor, mine));
  EXPECT_EQ(second, std::vector<std::int64_t>{ids[0]});
  EXPECT_FALSE(end.has_value());
  EXPECT_TRUE(list(Options(50, std::nullopt, std::vector<std::int64_t>{})).first.empty());  // no sites, none
  EXPECT_TRUE(list(Options(50, std::nullopt, std::vector<std::int64_t>{987654})).first.empty());
}

TEST_P(SitesStoreTest, SettingsBelongToTheirSite) {
  const auto a = Add(MakeSite("a")), b = Add(MakeSite("b"));
  const auto put = [&](std::int64_t site, const std::string& key, const std::string& value, bool secret) {
    return db().WriteValue([&](soci::session& s) { return store::PutSetting(s, site, key, value, secret, kNow); });
  };
  EXPECT_TRUE(put(a, "smtp.password", "v1:nonce:ciphertext", true));
  EXPECT_TRUE(put(a, "analytics.id", "G-123", false));
  EXPECT_TRUE(put(b, "analytics.id", "G-999", false));
  EXPECT_FALSE(put(a + b + 100, "analytics.id", "x", false));  // no such site: nothing stored, no error

  auto settings = db().ReadValue([&](soci::session& s) { return store::ListSettings(s, a); });
  ASSERT_EQ(settings.size(), 2u);
  EXPECT_EQ(settings[0].key, "analytics.id");
  EXPECT_EQ(settings[0].value, "G-123");
  EXPECT_FALSE(settings[0].secret);
  EXPECT_EQ(settings[1].key, "smtp.password");
  EXPECT_TRUE(settings[1].secret);
  EXPECT_EQ(settings[1].updated_at, kNow);
  const auto secret_json = ToJson(settings[1]);
  EXPECT_FALSE(secret_json.contains("value"));
  EXPECT_EQ(secret_json["set"], true);
  EXPECT_EQ(ToJson(settings[0])["value"], "G-123");

  // Replacing keeps one row; the other site's value is untouched.
  EXPECT_TRUE(put(a, "analytics.id", "G-456", false));
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::GetSetting(s, a, "analytics.id"); })->value, "G-456");
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::GetSetting(s, b, "analytics.id"); })->value, "G-999");
  EXPECT_FALSE(db().ReadValue([&](soci::session& s) { return store::GetSetting(s, b, "smtp.password"); }));

  // Deleting through the wrong site does nothing.
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::DeleteSetting(s, b, "smtp.password"); }));
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::DeleteSetting(s, a, "smtp.password"); }));
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::DeleteSetting(s, a, "smtp.password"); }));
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::ListSettings(s, a); }).size(), 1u);
}

TEST_P(SitesStoreTest, HostileTextInEveryFieldIsStoredVerbatim) {
  NewSite nu;
  nu.slug = Nasty(), nu.name = Nasty(), nu.description = Nasty(), nu.locale = Nasty(), nu.timezone = Nasty();
  nu.contact = {Nasty(), Nasty(), Nasty()};
  nu.social = {Nasty(), Nasty(), Nasty(), Nasty(), Nasty(), Nasty(), {{Nasty(), Nasty()}}};
  const std::string domain = "x'; drop table site_domains; --<b>.example";
  nu.domains = {domain};
  const auto id = Add(nu);
  const auto site = db().ReadValue([](soci::session& s) { return store::GetBySlug(s, Nasty()); });
  ASSERT_TRUE(site.has_value());
  EXPECT_EQ(site->id, id);
  for (const auto* field : {&site->slug, &site->name, &site->description, &site->locale, &site->timezone,
                            &site->contact.email, &site->contact.phone, &site->contact.address, &site->social.facebook,
                            &site->social.instagram, &site->social.linkedin, &site->social.x, &site->social.youtube,
                            &site->social.tiktok, &site->social.custom.at(0).label, &site->social.custom.at(0).url}) {
    EXPECT_EQ(*field, Nasty());
  }
  EXPECT_EQ(site->domains, std::vector<std::string>{domain});
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::FindByDomain(s, domain); })->id, id);
  EXPECT_EQ(nlohmann::json::parse(ToJson(*site).dump())["description"], Nasty());

  EXPECT_TRUE(
      db().WriteValue([&](soci::session& s) { return store::PutSetting(s, id, Nasty(), Nasty(), false, kNow); }));
  const auto setting = db().ReadValue([&](soci::session& s) { return store::GetSetting(s, id, Nasty()); });
  ASSERT_TRUE(setting.has_value());
  EXPECT_EQ(setting->key, Nasty());
  EXPECT_EQ(setting->value, Nasty());

  SitePatch patch;
  patch.name = Nasty() + "2";
  patch.contact_address = Nasty() + "3";
  EXPECT_EQ(Patch(id, patch)->name, Nasty() + "2");
  EXPECT_EQ(Get(id)->contact.address, Nasty() + "3");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sites"), 1);  // nothing was executed
}

POSTE_INSTANTIATE_DB_TEST(SitesStoreTest);

}  // namespace
}  // namespace poste::sites
