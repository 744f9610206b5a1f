#include "modules/audit/audit_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <stdexcept>

#include "db/database.hpp"
#include "modules/audit/audit_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::audit {
namespace {

TEST(AuditRedact, ReplacesSecretValuesAtAnyDepth) {
  nlohmann::json in = {{"name", {{"from", "a"}, {"to", "b"}}},
                       {"password", {{"from", "x"}, {"to", "y"}}},
                       {"nested", {{"smtp_password", "p"}, {"list", {{{"token", "t"}, {"keep", 1}}}}}},
                       {"token_version", 3},
                       {"value", "plain"}};
  auto out = Redact(in);
  EXPECT_EQ(out["name"]["to"], "b");
  EXPECT_EQ(out["password"], "[redacted]");
  EXPECT_EQ(out["nested"]["smtp_password"], "[redacted]");
  EXPECT_EQ(out["nested"]["list"][0]["token"], "[redacted]");
  EXPECT_EQ(out["nested"]["list"][0]["keep"], 1);
  EXPECT_EQ(out["token_version"], 3);
  EXPECT_EQ(out["value"], "plain");
  EXPECT_EQ(Redact(nlohmann::json("s")), "s");
}

class AuditTest : public poste::testing::DbTest {
 protected:
  std::int64_t Add(std::string action, std::optional<std::int64_t> actor, std::optional<std::int64_t> site,
                   std::int64_t at, std::string object_id = "1") {
    Origin o;
    o.user_id = actor;
    o.ip = "10.0.0.1";
    o.request_id = "req";
    auto e = EntryFrom(o, std::move(action), "user", std::move(object_id), site, {{"password", "hunter2"}});
    e.at = at;
    return db().WriteValue([&](soci::session& s) { return Record(s, e); });
  }
  AuditPage List(AuditFilter f) { return AuditService(db()).List(f); }
};

TEST_P(AuditTest, RecordsRedactedAndListsNewestFirst) {
  Add("user.create", 1, std::nullopt, 1000);
  Add("user.update", 2, 7, 2000, "nasty'\r\n<b>");
  auto page = List({});
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].action, "user.update");
  EXPECT_EQ(page.items[0].object_id, "nasty'\r\n<b>");
  EXPECT_EQ(page.items[0].site_id, 7);
  EXPECT_EQ(page.items[0].actor_user_id, 2);
  EXPECT_FALSE(page.items[0].actor_api_key_id);
  EXPECT_EQ(page.items[0].ip, "10.0.0.1");
  EXPECT_EQ(page.items[0].changes["password"], "[redacted]");
  EXPECT_EQ(page.items[1].at, 1000);
  EXPECT_FALSE(page.items[1].site_id);
  EXPECT_FALSE(page.next_cursor);
}

TEST_P(AuditTest, FiltersAndPaginates) {
  for (int i = 0; i < 5; ++i) Add(i % 2 ? "site.update" : "user.update", i % 2 ? 1 : 2, i % 2 ? 9 : 8, 1000 + i);
  AuditFilter f;
  f.actor_user_id = 1;
  EXPECT_EQ(List(f).items.size(), 2u);
  f = {};
  f.site_id = 8;
  EXPECT_EQ(List(f).items.size(), 3u);
  f = {};
  f.action = "site.*";
  EXPECT_EQ(List(f).items.size(), 2u);
  f.action = "site.update";
  EXPECT_EQ(List(f).items.size(), 2u);
  f.action = "site.";
  EXPECT_EQ(List(f).items.size(), 0u);
  f.action = "%";
  EXPECT_EQ(List(f).items.size(), 0u);
  f = {};
  f.from_ms = 1001;
  f.to_ms = 1003;
  auto page = List(f);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].at, 1002);
  f = {};
  f.object_type = "user";
  f.object_id = "1";
  EXPECT_EQ(List(f).items.size(), 5u);
  f.object_id = "2";
  EXPECT_EQ(List(f).items.size(), 0u);

  f = {};
  f.limit = 2;
  std::vector<std::int64_t> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto p = List(f);
    for (const auto& e : p.items) seen.push_back(e.at);
    if (!p.next_cursor) break;
    f.cursor = p.next_cursor;
  }
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1004, 1003, 1002, 1001, 1000}));
}

TEST_P(AuditTest, RolledBackWithTheChange) {
  EXPECT_THROW(db().Write([&](soci::session& s) {
    Record(s, EntryFrom({}, "user.delete", "user", "1", std::nullopt, {}));
    throw std::runtime_error("the change failed");
  }),
               std::runtime_error);
  EXPECT_TRUE(List({}).items.empty());
}

POSTE_INSTANTIATE_DB_TEST(AuditTest);

}  // namespace
}  // namespace poste::audit
