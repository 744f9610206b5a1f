#include "modules/seo/seo_types.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace poste::seo {
namespace {

using nlohmann::json;

std::vector<std::string> Fields(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field);
  return out;
}

std::vector<std::string> ErrorsOf(const json& body) {
  std::vector<FieldError> errors;
  PageSeoFromJson(body, errors);
  return Fields(errors);
}

TEST(SeoPageKey, ParsesTheFiveFormsOnly) {
  EXPECT_EQ(ParsePageKey("home")->kind, PageKind::kHome);
  EXPECT_EQ(ParsePageKey("about")->kind, PageKind::kAbout);
  EXPECT_EQ(ParsePageKey("contact")->kind, PageKind::kContact);
  auto c = ParsePageKey("collection:formations");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->collection, "formations");
  EXPECT_EQ(c->ToString(), "collection:formations");
  auto e = ParsePageKey("entry:formations/42");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->entry_id, 42);
  EXPECT_EQ(e->ToString(), "entry:formations/42");
  for (const std::string& bad : std::vector<std::string>{"",
                                                         "Home",
                                                         "home ",
                                                         "collection:",
                                                         "collection:UPPER",
                                                         "collection:a--b",
                                                         "collection:../x",
                                                         "entry:formations",
                                                         "entry:formations/",
                                                         "entry:formations/0",
                                                         "entry:formations/007",
                                                         "entry:formations/1e3",
                                                         "entry:formations/99999999999999999999",
                                                         "entry:/1",
                                                         "entry:f/1/2",
                                                         "entry:f\r\n/1",
                                                         "home\n",
                                                         "<script>",
                                                         "collection:a%2Fb",
                                                         std::string("home\0x", 6),
                                                         "\xff\xfe"}) {
    EXPECT_FALSE(ParsePageKey(bad).has_value()) << bad;
  }
}

TEST(SeoPageSeo, ReadsEveryFieldAndChecksLimits) {
  std::vector<FieldError> errors;
  auto p = PageSeoFromJson(
      {{"title", "T"},
       {"description", "D"},
       {"keywords", {"a", "b"}},
       {"canonical_url", "https://alpha.example.com/cours"},
       {"robots", "noindex, follow, max-image-preview:large"},
       {"open_graph", {{"title", "OT"}, {"description", "OD"}, {"image", "/media/1/x.png"}, {"type", "article"}}},
       {"twitter", {{"card", "summary_large_image"}, {"image", "https://cdn.example.com/i.png"}}},
       {"json_ld", {{"@type", "Course"}}}},
      errors);
  EXPECT_TRUE(errors.empty()) << Fields(errors).front();
  EXPECT_EQ(p.og.type, "article");
  EXPECT_EQ(p.twitter.card, "summary_large_image");
  EXPECT_EQ(p.json_ld, R"({"@type":"Course"})");
  EXPECT_EQ(ToJson(p)["json_ld"]["@type"], "Course");

  // Absent fields are empty, null is accepted as empty.
  errors.clear();
  auto empty = PageSeoFromJson(json::object({{"title", nullptr}}), errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(empty.title, "");
  EXPECT_EQ(ToJson(empty)["json_ld"], nullptr);

  EXPECT_EQ(ErrorsOf({{"title", 5}}), std::vector<std::string>{"title"});
  EXPECT_EQ(ErrorsOf({{"title", std::string(301, 'a')}}), std::vector<std::string>{"title"});
  EXPECT_TRUE(ErrorsOf({{"title", std::string(300, 'a')}}).empty()) << "long is a warning, not an error";
  EXPECT_EQ(ErrorsOf({{"title", "a\r\nSet-Cookie: x"}}), std::vector<std::string>{"title"});
  EXPECT_EQ(ErrorsOf({{"description", std::string("a\x01")}}), std::vector<std::string>{"description"});
  EXPECT_EQ(ErrorsOf({{"keywords", "a,b"}}), std::vector<std::string>{"keywords"});
  EXPECT_EQ(ErrorsOf({{"keywords", {"ok", 3, ""}}}), (std::vector<std::string>{"keywords[1]", "keywords[2]"}));
  EXPECT_EQ(ErrorsOf({{"keywords", std::vector<std::string>(51, "k")}}), std::vector<std::string>{"keywords"});
  EXPECT_EQ(ErrorsOf({{"canonical_url", "javascript:alert(1)"}}), std::vector<std::string>{"canonical_url"});
  EXPECT_EQ(ErrorsOf({{"canonical_url", "/relative"}}), std::vector<std::string>{"canonical_url"});
  EXPECT_EQ(ErrorsOf({{"open_graph", {{"image", "//evil.example.com/x.png"}}}}),
            std::vector<std::string>{"open_graph.image"});
  EXPECT_EQ(ErrorsOf({{"open_graph", {{"image", "/x\" onerror=\"alert(1)"}}}}),
            std::vector<std::string>{"open_graph.image"});
  EXPECT_EQ(ErrorsOf({{"open_graph", {{"type", "webpage"}}}}), std::vector<std::string>{"open_graph.type"});
  EXPECT_EQ(ErrorsOf({{"open_graph", "x"}}), std::vector<std::string>{"open_graph"});
  EXPECT_EQ(ErrorsOf({{"twitter", {{"card", "player"}}}}), std::vector<std::string>{"twitter.card"});
  EXPECT_EQ(ErrorsOf({{"robots", "index, noindex"}}), std::vector<std::string>{"robots"});
  EXPECT_EQ(ErrorsOf({{"robots", "noindex; DROP TABLE"}}), std::vector<std::string>{"robots"});
  EXPECT_EQ(ErrorsOf({{"robots", "max-snippet:abc"}}), std::vector<std::string>{"robots"});
  EXPECT_TRUE(ErrorsOf({{"robots", "none"}}).empty());
  EXPECT_TRUE(ErrorsOf({{"robots", "max-snippet:-1, noarchive"}}).empty());
}

TEST(SeoPageSeo, ValidatesJsonLd) {
  EXPECT_TRUE(ErrorsOf({{"json_ld", json::array({{{"@type", "A"}}, {{"@type", "B"}}})}}).empty());
  EXPECT_TRUE(ErrorsOf({{"json_ld", nullptr}}).empty());
  for (const json& bad : {json("a string"), json(5), json::object(), json::array(), json::array({1, 2}),
                          json::array({json::object({{"a", 1}}), json("x")})}) {
    EXPECT_EQ(ErrorsOf({{"json_ld", bad}}), std::vector<std::string>{"json_ld"}) << bad.dump();
  }
  json deep = {{"v", 1}};
  for (int i = 0; i < 20; ++i) deep = {{"n", deep}};
  EXPECT_EQ(ErrorsOf({{"json_ld", deep}}), std::vector<std::string>{"json_ld"});
  EXPECT_EQ(ErrorsOf({{"json_ld", {{"big", std::string(17000, 'x')}}}}), std::vector<std::string>{"json_ld"});
  // Nothing in it can close a <script> element early.
  std::vector<FieldError> errors;
  auto p = PageSeoFromJson({{"json_ld", {{"name", "</script><script>alert(1)</script>"}, {"&", ">"}}}}, errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(p.json_ld.find('<'), std::string::npos);
  EXPECT_EQ(p.json_ld.find('>'), std::string::npos);
  EXPECT_EQ(p.json_ld.find('&'), std::string::npos);
  EXPECT_EQ(json::parse(p.json_ld)["name"], "</script><script>alert(1)</script>") << "the value itself is intact";
  const auto safe = DumpHtmlSafe(json{{"a", "<b>&</b>"}, {"bad", std::string("\xff")}}, 2);
  EXPECT_EQ(safe.find_first_of("<>&"), std::string::npos);
  EXPECT_EQ(json::parse(safe)["a"], "<b>&</b>");
}

TEST(SeoPageSeo, WarnsPastTheRecommendedLengths) {
  PageSeo p;
  p.title = std::string(60, 'a');
  p.description = std::string(160, 'b');
  EXPECT_TRUE(Warnings(p).empty());
  p.title = std::string(61, 'a');
  p.description = std::string(161, 'b');
  p.og.title = std::string(61, 'c');
  auto w = Warnings(p);
  EXPECT_EQ(Fields(w), (std::vector<std::string>{"title", "description", "open_graph.title"}));
  EXPECT_EQ(w[0].code, "too_long");
  // Characters, not bytes: 60 accented letters are fine.
  std::string accented;
  for (int i = 0; i < 60; ++i) accented += "é";
  p = PageSeo{};
  p.title = accented;
  EXPECT_TRUE(Warnings(p).empty());
  auto j = WarningsJson(w);
  EXPECT_EQ(j[0]["field"], "title");
}

TEST(SeoDefaultsJson, ChecksTemplateHandleAndImage) {
  std::vector<FieldError> errors;
  auto d = DefaultsFromJson({{"title_template", "%s | Site"}, {"twitter_handle", "@Poste_ch"}, {"og_image", "/og.png"}},
                            errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(d.twitter_handle, "@Poste_ch");
  for (const json& bad : {json{{"title_template", "no placeholder"}}, json{{"title_template", "%s and %s"}},
                          json{{"twitter_handle", "@"}}, json{{"twitter_handle", "@way_too_long_handle_x"}},
                          json{{"twitter_handle", "a b"}}, json{{"og_image", "ftp://x"}}, json{{"description", 1}}}) {
    errors.clear();
    DefaultsFromJson(bad, errors);
    EXPECT_EQ(errors.size(), 1u) << bad.dump();
  }
}

TEST(SeoText, ExcerptAndTemplate) {
  EXPECT_EQ(Excerpt("  a\n\tb   c ", 160), "a b c");
  auto cut = Excerpt("one two three four five six", 12);
  EXPECT_EQ(cut, "one two\xE2\x80\xA6");
  auto word = Excerpt(std::string(300, 'x'), 160);
  EXPECT_EQ(word, std::string(159, 'x') + "\xE2\x80\xA6") << "no space: cut inside the word, 160 characters";
  EXPECT_EQ(Excerpt("\x01\x02", 10), "");
  EXPECT_EQ(ApplyTemplate("%s | Site", "Cours"), "Cours | Site");
  EXPECT_EQ(ApplyTemplate("", "Cours"), "Cours");
  EXPECT_EQ(ApplyTemplate("Site", "Cours"), "Cours");
  EXPECT_EQ(ApplyTemplate("%s | %d", "Cours"), "Cours | %d");
}

}  // namespace
}  // namespace poste::seo
