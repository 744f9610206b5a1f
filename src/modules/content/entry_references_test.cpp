#include "modules/content/content_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>
#include <set>

#include "modules/content/content_test_fixture.hpp"

// What happens to references when what they point at is deleted (entry_references.cpp): entries referred to by
// other entries, media items used by entries.
namespace poste::content {
namespace {

using namespace test_support;

class EntryReferencesTest : public ContentServiceTest {};

// Reference fields never point at a deleted entry: deleting a referenced entry answers 409 listing who refers
// to it, unless forced; forcing clears the references, each referring entry getting a new version and
// revision, all in the deleting transaction.
TEST_P(EntryReferencesTest, DeletingAReferencedEntryNeedsForceAndClearsTheReferences) {
  svc().CreateCollection(origin_, site_a_, Custom("Authors", json::parse(R"([{"name": "name", "type": "text"}])")));
  svc().CreateCollection(origin_, site_a_, Custom("Posts", json::parse(R"([{"name": "title", "type": "text"},
                                                                          {"name": "author", "type": "reference",
                                                                           "collection": "authors"},
                                                                          {"name": "related", "type": "reference"}])")));
  auto ada = Create(site_a_, "authors", {{"name", "Ada"}});
  auto p1 = Create(site_a_, "posts", {{"title", "One"}, {"author", ada.id}});
  auto p2 = Create(site_a_, "posts", {{"title", "Two"}, {"author", ada.id}, {"related", p1.id}});
  auto p3 = Create(site_a_, "posts", {{"title", "Three"}, {"related", ada.id}});

  try {
    svc().DeleteEntry(origin_, site_a_, "authors", ada.id, std::nullopt);
    ADD_FAILURE() << "a referenced entry was deleted";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 409);
    ASSERT_EQ(e.fields().size(), 3u);
    std::set<std::string> messages;
    for (const auto& f : e.fields()) {
      EXPECT_EQ(f.field, "referenced_by");
      EXPECT_EQ(f.code, "in_use");
      messages.insert(f.message);
    }
    const std::string a = std::to_string(ada.id);
    EXPECT_TRUE(
        messages.count("entry " + std::to_string(p1.id) + " of posts refers to entry " + a + " in its field author"));
    EXPECT_TRUE(
        messages.count("entry " + std::to_string(p3.id) + " of posts refers to entry " + a + " in its field related"));
  }
  EXPECT_EQ(svc().GetEntry(site_a_, "authors", std::to_string(ada.id)).id, ada.id) << "nothing deleted";
  EXPECT_EQ(svc().GetEntry(site_a_, "posts", std::to_string(p2.id)).version, 1);
  // force=false is the same refusal.
  EXPECT_EQ(Fails([&] { svc().DeleteEntry(origin_, site_a_, "authors", ada.id, std::nullopt, false); }).status, 409);

  svc().DeleteEntry(origin_, site_a_, "authors", ada.id, std::nullopt, true);
  EXPECT_EQ(Fails([&] { svc().GetEntry(site_a_, "authors", std::to_string(ada.id)); }).status, 404);
  auto one = svc().GetEntry(site_a_, "posts", std::to_string(p1.id));
  auto two = svc().GetEntry(site_a_, "posts", std::to_string(p2.id));
  auto three = svc().GetEntry(site_a_, "posts", std::to_string(p3.id));
  EXPECT_EQ(one.data, (json{{"title", "One"}}));
  EXPECT_EQ(two.data, (json{{"title", "Two"}, {"related", p1.id}})) << "other references stay";
  EXPECT_EQ(three.data, (json{{"title", "Three"}}));
  for (const auto& e : {one, two, three}) {
    EXPECT_EQ(e.version, 2);
    auto revisions = svc().Revisions(site_a_, "posts", e.id);
    ASSERT_EQ(revisions.size(), 2u);
    EXPECT_EQ(revisions[0].data, e.data);
  }
  long long updates = 0;
  db().Read([&](soci::session& s) {
    s << "SELECT COUNT(*) FROM audit_log WHERE action = 'entry.update'", soci::into(updates);
  });
  EXPECT_EQ(updates, 3);
  // p1 is still referenced by p2 (related); p2 by nobody.
  EXPECT_EQ(Fails([&] { svc().DeleteEntry(origin_, site_a_, "posts", p1.id, std::nullopt); }).status, 409);
  svc().DeleteEntry(origin_, site_a_, "posts", p2.id, std::nullopt);
  svc().DeleteEntry(origin_, site_a_, "posts", p1.id, std::nullopt);
  // An entry referring to itself deletes without force.
  EntryInput self;
  self.data = json{{"related", p3.id}};
  svc().UpdateEntry(origin_, site_a_, "posts", p3.id, self, std::nullopt);
  svc().DeleteEntry(origin_, site_a_, "posts", p3.id, std::nullopt);
  EXPECT_TRUE(Order(site_a_, "posts").empty());
}

// Another site's entries are never listed as referrers nor cleared; an entry cannot refer across sites.
TEST_P(EntryReferencesTest, ReferencesStayWithinTheSite) {
  for (auto site : {site_a_, site_b_}) {
    svc().CreateCollection(origin_, site, Custom("Notes", json::parse(R"([{"name": "title", "type": "text"},
                                                                         {"name": "see", "type": "reference"}])")));
  }
  auto a = Create(site_a_, "notes", {{"title", "A"}});
  EXPECT_EQ(Fails([&] {
              Create(site_b_, "notes", {{"title", "B"}, {"see", a.id}});
            }).fields,
            std::vector<std::string>{"data.see"});
  auto b1 = Create(site_b_, "notes", {{"title", "B1"}});
  auto b2 = Create(site_b_, "notes", {{"title", "B2"}, {"see", b1.id}});
  svc().DeleteEntry(origin_, site_a_, "notes", a.id, std::nullopt);
  EXPECT_EQ(Fails([&] { svc().DeleteEntry(origin_, site_a_, "notes", b1.id, std::nullopt, true); }).status, 404);
  EXPECT_EQ(svc().GetEntry(site_b_, "notes", std::to_string(b2.id)).data["see"], b1.id);
}

// The media side of a forced deletion: ClearMediaReferences (called by the media module inside its deleting
// transaction) removes the item from the entries that use it, as new versions.
TEST_P(EntryReferencesTest, ClearingAMediaItemFromEntries) {
  svc().CreateCollection(origin_, site_a_, Custom("Gallery", json::parse(R"([{"name": "title", "type": "text"},
                                                                            {"name": "image", "type": "media"},
                                                                            {"name": "thumb", "type": "media"}])")));
  const auto item = AddMedia(site_a_), other = AddMedia(site_a_);
  auto e1 = Create(site_a_, "gallery", {{"title", "1"}, {"image", item}, {"thumb", item}});
  auto e2 = Create(site_a_, "gallery", {{"title", "2"}, {"image", other}});
  auto uses = [&](std::int64_t id) {
    return db().ReadValue([&](soci::session& s) { return media::store::RefsTo(s, site_a_, id); }).size();
  };
  EXPECT_EQ(uses(item), 1u);
  // Another site's id clears nothing.
  EXPECT_FALSE(
      db().WriteValue([&](soci::session& s) { return svc().ClearMediaReferences(s, origin_, site_b_, item); }));
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return svc().ClearMediaReferences(s, origin_, site_a_, item); }));
  auto cleared = svc().GetEntry(site_a_, "gallery", std::to_string(e1.id));
  EXPECT_EQ(cleared.data, (json{{"title", "1"}}));
  EXPECT_EQ(cleared.version, 2);
  EXPECT_EQ(svc().Revisions(site_a_, "gallery", e1.id).size(), 2u);
  EXPECT_EQ(uses(item), 0u);
  EXPECT_EQ(svc().GetEntry(site_a_, "gallery", std::to_string(e2.id)).version, 1);
  EXPECT_EQ(uses(other), 1u);
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return svc().ClearMediaReferences(s, origin_, site_a_, item); }))
      << "nothing left to clear";
}

POSTE_INSTANTIATE_DB_TEST(EntryReferencesTest);

}  // namespace
}  // namespace poste::content
