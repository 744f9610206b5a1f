#include "modules/mail/mail_template_service.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "modules/mail/mail_template_test_support.hpp"

namespace poste::mail {
namespace {

using json = nlohmann::json;
using testing::ErrorStatus;
using testing::FieldCodes;
using Strings = std::vector<std::string>;

class MailTemplateServiceTest : public testing::MailDbTest {
 protected:
  void SetUp() override {
    MailDbTest::SetUp();
    service_ = std::make_unique<MailTemplatesService>(db(), [this] { return now_; });
  }
  static NewMailTemplate Welcome(std::string name = "Welcome") {
    return {std::move(name), "Sent after sign-up", "Welcome, {{first_name}}!",
            "<p>Hello {{first_name}} {{last_name}},</p>{{#items}}<li>{{name}}</li>{{/items}}<p>{{{footer}}}</p>",
            "Hello {{first_name}}"};
  }
  MailTemplatesService& svc() { return *service_; }
  std::unique_ptr<MailTemplatesService> service_;
};

TEST_P(MailTemplateServiceTest, CreatesListsChangesAndDeletesWithAudit) {
  auto created = svc().Create(origin_, site_a_, Welcome());
  EXPECT_GT(created.source.id, 0);
  EXPECT_EQ(created.source.site_id, site_a_);
  EXPECT_EQ(created.source.created_by, user_a_);
  EXPECT_EQ(created.source.created_at, now_);
  auto j = ToJson(created);
  EXPECT_EQ(j["variables"], (json{"first_name", "last_name", "items", "name", "footer"}));
  EXPECT_EQ(j["required_variables"], (json{"first_name", "last_name", "footer"}));
  EXPECT_EQ(j["text"], "Hello {{first_name}}");

  now_ += 1000;
  MailTemplatePatch patch;
  patch.subject = "Hi {{nickname}}";
  patch.text = "";
  auto updated = svc().Update(origin_, site_a_, created.source.id, patch);
  EXPECT_EQ(updated.source.subject, "Hi {{nickname}}");
  EXPECT_EQ(updated.source.text, "");
  EXPECT_EQ(updated.source.updated_at, now_);
  EXPECT_EQ(updated.source.created_at, now_ - 1000);
  EXPECT_EQ(ToJson(updated)["variables"][0], "nickname");
  auto again = svc().Get(site_a_, created.source.id);
  EXPECT_EQ(again.source.subject, "Hi {{nickname}}");
  EXPECT_EQ(again.source.html, Welcome().html);

  svc().Create(origin_, site_a_, Welcome("Second"));
  auto page = svc().List(site_a_, {});
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].name, "Second");  // newest first
  MailTemplateFilter search;
  search.q = "wel";
  EXPECT_EQ(svc().List(site_a_, search).items.size(), 1u);
  MailTemplateFilter one;
  one.limit = 1;
  auto first = svc().List(site_a_, one);
  ASSERT_TRUE(first.next_cursor);
  one.cursor = first.next_cursor;
  auto second = svc().List(site_a_, one);
  ASSERT_EQ(second.items.size(), 1u);
  EXPECT_EQ(second.items[0].name, "Welcome");
  EXPECT_FALSE(second.next_cursor);

  svc().Delete(origin_, site_a_, created.source.id);
  EXPECT_EQ(ErrorStatus([&] { svc().Get(site_a_, created.source.id); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Delete(origin_, site_a_, created.source.id); }), 404);
  EXPECT_EQ(AuditActions(),
            (Strings{"mail_template.create", "mail_template.update", "mail_template.create", "mail_template.delete"}));
}

TEST_P(MailTemplateServiceTest, ATemplateBelongsToItsSiteOnly) {
  auto created = svc().Create(origin_, site_a_, Welcome());
  EXPECT_EQ(ErrorStatus([&] { svc().Get(site_b_, created.source.id); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Update(origin_, site_b_, created.source.id, {}); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Delete(origin_, site_b_, created.source.id); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Preview(site_b_, created.source.id, json::object()); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Prepare(site_b_, created.source.id); }), 404);
  EXPECT_TRUE(svc().List(site_b_, {}).items.empty());
  // The same name on another site is another template; on the same site it is taken.
  EXPECT_NO_THROW(svc().Create(origin_, site_b_, Welcome()));
  int status = 0;
  EXPECT_EQ(FieldCodes([&] { svc().Create(origin_, site_a_, Welcome()); }, &status), Strings{"name:taken"});
  EXPECT_EQ(status, 409);
  auto other = svc().Create(origin_, site_a_, Welcome("Other"));
  MailTemplatePatch rename;
  rename.name = "Welcome";
  EXPECT_EQ(FieldCodes([&] { svc().Update(origin_, site_a_, other.source.id, rename); }, &status),
            Strings{"name:taken"});
  EXPECT_EQ(status, 409);
}

TEST_P(MailTemplateServiceTest, RefusesSyntaxErrorsWithTheirPosition) {
  auto t = Welcome();
  t.html = "<p>Hello</p>\n<ul>{{#items}}<li>{{name}}</li>\n</ul>";
  try {
    svc().Create(origin_, site_a_, t);
    FAIL() << "an unclosed section was accepted";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 422);
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].field, "html");
    EXPECT_EQ(e.fields()[0].code, "template_syntax");
    EXPECT_EQ(e.fields()[0].message, "line 2, column 5: Unclosed section \"items\".");
  }
  t = Welcome();
  t.subject = "Hi {{name";
  t.text = "{{/stray}}";
  EXPECT_EQ(FieldCodes([&] { svc().Create(origin_, site_a_, t); }),
            (Strings{"subject:template_syntax", "text:template_syntax"}));
  // Partials would take their text from the recipients' data.
  t = Welcome();
  t.html = "{{> evil}}";
  EXPECT_EQ(FieldCodes([&] { svc().Create(origin_, site_a_, t); }), Strings{"html:template_syntax"});
  // A patch is checked too, and leaves the template as it was.
  auto created = svc().Create(origin_, site_a_, Welcome());
  MailTemplatePatch patch;
  patch.html = "{{#open}}";
  EXPECT_EQ(FieldCodes([&] { svc().Update(origin_, site_a_, created.source.id, patch); }),
            Strings{"html:template_syntax"});
  EXPECT_EQ(svc().Get(site_a_, created.source.id).source.html, Welcome().html);
  EXPECT_TRUE(svc().List(site_a_, {}).items.size() == 1u);
}

TEST_P(MailTemplateServiceTest, RefusesHostileAndOversizedFields) {
  const auto codes = [&](auto change) {
    auto t = Welcome();
    change(t);
    return FieldCodes([&] { svc().Create(origin_, site_a_, t); });
  };
  EXPECT_EQ(codes([](auto& t) { t.subject = "Hi\r\nBcc: victim@example.com"; }), Strings{"subject:header_injection"});
  EXPECT_EQ(codes([](auto& t) { t.subject = "Hi {{a}}\n"; }), Strings{"subject:header_injection"});
  EXPECT_EQ(codes([](auto& t) { t.subject = ""; }), Strings{"subject:required"});
  EXPECT_EQ(codes([](auto& t) { t.subject = std::string(901, 's'); }), Strings{"subject:too_long"});
  EXPECT_EQ(codes([](auto& t) { t.name = " "; }), Strings{"name:required"});
  EXPECT_EQ(codes([](auto& t) { t.name = "a\nb"; }), Strings{"name:invalid_characters"});
  EXPECT_EQ(codes([](auto& t) { t.name = std::string(201, 'n'); }), Strings{"name:too_long"});
  EXPECT_EQ(codes([](auto& t) { t.html = ""; }), Strings{"html:required"});
  EXPECT_EQ(codes([](auto& t) { t.html = "<p>\xC3\x28</p>"; }), Strings{"html:invalid_utf8"});
  EXPECT_EQ(codes([](auto& t) { t.text = std::string("a\0b", 3); }), Strings{"text:invalid_characters"});
  EXPECT_EQ(codes([](auto& t) { t.html = std::string(kMaxTemplateBytes + 1, 'x'); }), Strings{"html:too_long"});
  EXPECT_EQ(codes([](auto& t) { t.description = "\xFF"; }), Strings{"description:invalid_utf8"});
  // SQL and HTML in the sources are data: stored and returned byte for byte.
  auto t = Welcome("Robert'); DROP TABLE mail_templates; --");
  t.html = "<script>alert('x')</script>\r\n{{name}}";
  auto created = svc().Create(origin_, site_a_, t);
  EXPECT_EQ(svc().Get(site_a_, created.source.id).source.name, t.name);
  EXPECT_EQ(svc().Get(site_a_, created.source.id).source.html, t.html);
  EXPECT_EQ(svc().Create(origin_, site_a_, Welcome("big")).source.name, "big");
  auto large = Welcome("large");
  large.html = std::string(kMaxTemplateBytes, 'x');
  EXPECT_NO_THROW(svc().Create(origin_, site_a_, large));
}

TEST_P(MailTemplateServiceTest, PreviewsWithSampleDataAndListsWhatIsMissing) {
  auto created = svc().Create(origin_, site_a_, Welcome());
  auto preview = svc().Preview(site_a_, created.source.id,
                               json{{"first_name", "Zoë <3"}, {"items", json::array({{{"name", "pen"}}})}});
  EXPECT_EQ(preview.rendered.subject, "Welcome, Zoë <3!");
  EXPECT_EQ(preview.rendered.html, "<p>Hello Zoë &lt;3 ,</p><li>pen</li><p></p>");
  EXPECT_EQ(preview.rendered.text, "Hello Zoë <3");
  EXPECT_FALSE(preview.text_derived);
  EXPECT_EQ(preview.missing, (Strings{"last_name", "footer"}));
  // Without a text part the preview shows the text derived from the HTML, as the message will carry it.
  MailTemplatePatch no_text;
  no_text.text = "";
  svc().Update(origin_, site_a_, created.source.id, no_text);
  preview = svc().Preview(site_a_, created.source.id, json{{"first_name", "Ada"}, {"last_name", "L"}, {"footer", "x"}});
  EXPECT_TRUE(preview.text_derived);
  EXPECT_EQ(preview.rendered.text, "Hello Ada L,\n\nx\n");
  EXPECT_TRUE(preview.missing.empty());
  EXPECT_EQ(FieldCodes([&] { svc().Preview(site_a_, created.source.id, json::array({1})); }),
            Strings{"variables:invalid_type"});
}

TEST_P(MailTemplateServiceTest, RenderForSendRefusesMissingRequiredVariables) {
  auto created = svc().Create(origin_, site_a_, Welcome());
  int status = 0;
  EXPECT_EQ(FieldCodes(
                [&] {
                  svc().RenderForSend(site_a_, created.source.id, json{{"first_name", "A"}});
                },
                &status),
            (Strings{"variables.last_name:missing_variable", "variables.footer:missing_variable"}));
  EXPECT_EQ(status, 422);
  // null counts as missing; a section (items) may be absent.
  EXPECT_EQ(FieldCodes([&] {
              svc().RenderForSend(site_a_, created.source.id,
                                  json{{"first_name", nullptr}, {"last_name", "B"}, {"footer", "f"}});
            }),
            Strings{"variables.first_name:missing_variable"});
  auto prepared = svc().Prepare(site_a_, created.source.id);
  auto message =
      RenderForSend(*prepared, json{{"first_name", "A\r\nBcc: x@y.z"}, {"last_name", "B"}, {"footer", "<b>f</b>"}});
  EXPECT_EQ(message.subject, "Welcome, A Bcc: x@y.z!");  // one line whatever the variables hold
  EXPECT_EQ(message.html, "<p>Hello A\r\nBcc: x@y.z B,</p><p><b>f</b></p>");
  EXPECT_EQ(message.text, "Hello A\r\nBcc: x@y.z");
  EXPECT_EQ(FieldCodes([&] { RenderForSend(*prepared, json("string")); }), Strings{"variables:invalid_type"});
  EXPECT_EQ(ErrorStatus([&] { svc().RenderForSend(site_a_, 999999, json::object()); }), 404);
}

POSTE_INSTANTIATE_DB_TEST(MailTemplateServiceTest);

}  // namespace
}  // namespace poste::mail
