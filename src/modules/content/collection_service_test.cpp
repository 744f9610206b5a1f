#include "modules/content/content_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "modules/content/content_test_fixture.hpp"

// ContentService, the collections half (collection_service.cpp): presets, schemas, schema changes, deletion.
namespace poste::content {
namespace {

using namespace test_support;

class CollectionServiceTest : public ContentServiceTest {};

TEST_P(CollectionServiceTest, PresetsAndCollections) {
  auto formations = svc().AddPreset(origin_, site_a_, "formations");
  EXPECT_EQ(formations.slug, "formations");
  EXPECT_EQ(formations.preset, "formations");
  std::vector<std::string> names;
  for (const auto& f : formations.fields) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"title", "number", "description", "start_date", "end_date",
                                             "registration_deadline", "price", "available_seats", "location",
                                             "external_link", "status", "display_order"}));
  EXPECT_EQ(formations.Field("price")->type, FieldType::kMoney);
  EXPECT_EQ(formations.Field("status")->options, (std::vector<std::string>{"active", "full", "cancelled", "finished"}));
  auto pages = svc().AddPreset(origin_, site_a_, "pages");
  EXPECT_TRUE(pages.Field("slug")->unique);
  EXPECT_EQ(Fails([&] { svc().AddPreset(origin_, site_a_, "pages"); }).status, 409);
  EXPECT_EQ(Fails([&] { svc().AddPreset(origin_, site_a_, "blog"); }).fields, std::vector<std::string>{"preset"});
  // The same preset on another site is another collection.
  EXPECT_NE(svc().AddPreset(origin_, site_b_, "pages").id, pages.id);

  auto custom = svc().CreateCollection(origin_, site_a_, Custom("Équipe & partenaires", json::array()));
  EXPECT_EQ(custom.slug, "equipe-partenaires");
  EXPECT_FALSE(custom.preset);
  EXPECT_EQ(svc().ListCollections(site_a_).size(), 3u);
  EXPECT_EQ(svc().ListCollections(site_b_).size(), 1u);
  NewCollection bad;
  bad.name = "";
  bad.slug = "Bad Slug";
  EXPECT_EQ(Fails([&] { svc().CreateCollection(origin_, site_a_, bad); }).fields,
            (std::vector<std::string>{"name", "slug"}));
  EXPECT_EQ(Fails([&] { svc().GetCollection(site_b_, "formations"); }).status, 404);

  svc().DeleteCollection(origin_, site_a_, "equipe-partenaires");
  EXPECT_EQ(Fails([&] { svc().GetCollection(site_a_, "equipe-partenaires"); }).status, 404);
  EXPECT_EQ(Fails([&] { svc().DeleteCollection(origin_, site_b_, "formations"); }).status, 404);
  auto audit = audit::AuditService(db()).List({});
  std::set<std::string> actions;
  for (const auto& e : audit.items) actions.insert(e.action);
  EXPECT_TRUE(actions.count("collection.create") && actions.count("collection.delete"));
  EXPECT_FALSE(changed_.empty());
}

TEST_P(CollectionServiceTest, SchemaDefinitionsAreChecked) {
  std::vector<FieldError> errors;
  FieldsFromJson(json::parse(R"([
    {"name": "Title", "type": "text"},
    {"name": "a", "type": "colour"},
    {"name": "b", "type": "enum"},
    {"name": "c", "type": "text", "pattern": "(unclosed"},
    {"name": "d", "type": "integer", "min": 5, "max": 1},
    {"name": "e", "type": "boolean", "unique": true},
    {"name": "e", "type": "text"},
    {"name": "slug", "type": "integer"},
    {"name": "f", "type": "text", "options": ["x"]},
    {"name": "g", "type": "text", "whatever": 1}
  ])"),
                 errors);
  std::set<std::string> fields;
  for (const auto& e : errors) fields.insert(e.field);
  for (const char* f :
       {"fields[0].name", "fields[1].type", "fields[2].options", "fields[3].pattern", "fields[4].min",
        "fields[5].unique", "fields[6].name", "fields[7].type", "fields[8].options", "fields[9].whatever"}) {
    EXPECT_TRUE(fields.count(f)) << f;
  }
  errors.clear();
  FieldsFromJson(json::object(), errors);
  EXPECT_EQ(errors.size(), 1u);
}

TEST_P(CollectionServiceTest, SchemaChangesReportConflictsInsteadOfCorrupting) {
  auto c = svc().CreateCollection(origin_, site_a_, Custom("Items", json::parse(R"([{"name": "title", "type": "text"},
                                                                   {"name": "qty", "type": "integer"},
                                                                   {"name": "code", "type": "text"}])")));
  auto a = Create(site_a_, "items", {{"title", "A"}, {"qty", 5}, {"code", "x"}});
  auto b = Create(site_a_, "items", {{"qty", 50}, {"code", "x"}});
  CollectionPatch patch;
  std::vector<FieldError> errors;
  patch.fields = FieldsFromJson(json::parse(R"([{"name": "title", "type": "text", "required": true},
                                                {"name": "qty", "type": "integer", "max": 10},
                                                {"name": "code", "type": "text", "unique": true}])"),
                                errors);
  auto conflict = Fails([&] { svc().UpdateCollection(origin_, site_a_, "items", patch); });
  EXPECT_EQ(conflict.status, 422);
  const std::string pb = "entries[" + std::to_string(b.id) + "].data.";
  EXPECT_EQ(conflict.fields, (std::vector<std::string>{pb + "title", pb + "qty", pb + "code"}));
  // Nothing changed.
  EXPECT_EQ(svc().GetCollection(site_a_, "items").fields.size(), 3u);
  EXPECT_FALSE(svc().GetCollection(site_a_, "items").fields[0].required);
  EXPECT_EQ(svc().GetEntry(site_a_, "items", std::to_string(b.id)).data["qty"], 50);

  // A compatible change: qty becomes a number, code is dropped (with its values), a field is added.
  patch.fields = FieldsFromJson(json::parse(R"([{"name": "title", "type": "long_text"},
                                                {"name": "qty", "type": "number"},
                                                {"name": "note", "type": "text"}])"),
                                errors);
  auto changed = svc().UpdateCollection(origin_, site_a_, "items", patch);
  EXPECT_EQ(changed.fields.size(), 3u);
  auto after = svc().GetEntry(site_a_, "items", std::to_string(a.id));
  EXPECT_EQ(after.data, (json{{"title", "A"}, {"qty", 5}}));
  EXPECT_EQ(after.version, 2);
  (void)c;
}

// Entries of other collections that refer to a collection's entries: deleting it is refused unless forced,
// and forcing clears those references (the collection's own references to itself go with it).
TEST_P(CollectionServiceTest, DeletingACollectionOthersReferToNeedsForce) {
  svc().CreateCollection(origin_, site_a_, Custom("Authors", json::parse(R"([{"name": "name", "type": "text"},
                                                                            {"name": "mentor", "type": "reference",
                                                                             "collection": "authors"}])")));
  svc().CreateCollection(origin_, site_a_, Custom("Posts", json::parse(R"([{"name": "title", "type": "text"},
                                                                          {"name": "author", "type": "reference",
                                                                           "collection": "authors"}])")));
  auto ada = Create(site_a_, "authors", {{"name", "Ada"}});
  Create(site_a_, "authors", {{"name", "Bob"}, {"mentor", ada.id}});  // inside the collection: no conflict
  auto post = Create(site_a_, "posts", {{"title", "P"}, {"author", ada.id}});
  auto refused = Fails([&] { svc().DeleteCollection(origin_, site_a_, "authors"); });
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.fields, std::vector<std::string>{"referenced_by"});
  EXPECT_EQ(svc().ListCollections(site_a_).size(), 2u) << "nothing deleted";

  svc().DeleteCollection(origin_, site_a_, "authors", true);
  EXPECT_EQ(Fails([&] { svc().GetCollection(site_a_, "authors"); }).status, 404);
  auto cleared = svc().GetEntry(site_a_, "posts", std::to_string(post.id));
  EXPECT_EQ(cleared.data, (json{{"title", "P"}}));
  EXPECT_EQ(cleared.version, post.version + 1);
  EXPECT_EQ(svc().Revisions(site_a_, "posts", post.id).size(), 2u);
  // The collection without references to it deletes at once.
  svc().DeleteCollection(origin_, site_a_, "posts");
  EXPECT_TRUE(svc().ListCollections(site_a_).empty());
}

// A schema change that turns values into references checks them like an entry's save does.
TEST_P(CollectionServiceTest, SchemaChangeToAReferenceChecksTheTargets) {
  svc().CreateCollection(origin_, site_a_, Custom("Items", json::parse(R"([{"name": "title", "type": "text"},
                                                                          {"name": "link", "type": "integer"}])")));
  auto a = Create(site_a_, "items", {{"title", "A"}});
  auto b = Create(site_a_, "items", {{"title", "B"}, {"link", a.id}});
  auto c = Create(site_a_, "items", {{"title", "C"}, {"link", 999999}});
  CollectionPatch patch;
  std::vector<FieldError> errors;
  patch.fields = FieldsFromJson(json::parse(R"([{"name": "title", "type": "text"},
                                                {"name": "link", "type": "reference"}])"),
                                errors);
  auto conflict = Fails([&] { svc().UpdateCollection(origin_, site_a_, "items", patch); });
  EXPECT_EQ(conflict.status, 422);
  EXPECT_EQ(conflict.fields, std::vector<std::string>{"entries[" + std::to_string(c.id) + "].data.link"});
  EntryInput unset;
  unset.data = json{{"link", nullptr}};
  svc().UpdateEntry(origin_, site_a_, "items", c.id, unset, std::nullopt);
  svc().UpdateCollection(origin_, site_a_, "items", patch);
  // b's value is now a reference: a is protected.
  EXPECT_EQ(svc().GetEntry(site_a_, "items", std::to_string(b.id)).data["link"], a.id);
  EXPECT_EQ(Fails([&] { svc().DeleteEntry(origin_, site_a_, "items", a.id, std::nullopt); }).status, 409);
}

POSTE_INSTANTIATE_DB_TEST(CollectionServiceTest);

}  // namespace
}  // namespace poste::content
