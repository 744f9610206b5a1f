// Messages composed from a site's template and the sender's signature, on SQLite and PostgreSQL: the
// template fills what the request left empty, its required variables are checked (422 naming each missing
// one), another site's template is not found (422 on template_id), and the signature goes under the bodies
// (HTML and text versions, each derived from the other when missing).
#include "modules/mail/mail_message_compose.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lib/html_escape.hpp"
#include "modules/mail/mail_signature_service.hpp"
#include "modules/mail/mail_template_service.hpp"
#include "modules/mail/mail_template_test_support.hpp"

namespace poste::mail {
namespace {

using testing::FieldCodes;
using Strings = std::vector<std::string>;

class MailMessageComposeTest : public testing::MailDbTest {
 protected:
  void SetUp() override {
    MailDbTest::SetUp();
    templates_ = std::make_unique<MailTemplatesService>(db(), [this] { return now_; });
    signatures_ = std::make_unique<MailSignaturesService>(db(), [this] { return now_; });
    composer_ = std::make_unique<MessageComposer>(*templates_, *signatures_);
    NewMailTemplate t;
    t.name = "Welcome";
    t.subject = "Welcome {{name}}";
    t.html = "<p>Hello {{name}}, your code is {{code}}</p>{{#extra}}<p>{{extra}}</p>{{/extra}}";
    t.text = "Hello {{name}}, your code is {{code}}";
    template_a_ = templates_->Create(origin_, site_a_, t).source.id;
    t.name = "Other site's";
    template_b_ = templates_->Create(origin_, site_b_, t).source.id;
  }
  MessageRequest Apply(MessageRequest r, const ComposeRequest& c, std::optional<std::int64_t> sender = {}) {
    composer_->Apply(site_a_, sender, c, r);
    return r;
  }
  ComposeRequest FromTemplate(std::int64_t id, nlohmann::json variables) {
    ComposeRequest c;
    c.template_id = id;
    c.variables = std::move(variables);
    return c;
  }

  std::unique_ptr<MailTemplatesService> templates_;
  std::unique_ptr<MailSignaturesService> signatures_;
  std::unique_ptr<MessageComposer> composer_;
  std::int64_t template_a_ = 0, template_b_ = 0;
};

TEST_P(MailMessageComposeTest, ATemplateFillsSubjectAndBodies) {
  auto r = Apply({}, FromTemplate(template_a_, {{"name", "Ada <3"}, {"code", 42}}));
  EXPECT_EQ(r.subject, "Welcome Ada <3");
  EXPECT_EQ(r.html, "<p>Hello Ada &lt;3, your code is 42</p>") << "variables are escaped in HTML";
  EXPECT_EQ(r.text, "Hello Ada <3, your code is 42");
}

TEST_P(MailMessageComposeTest, TheRequestsOwnPartsOverrideTheTemplate) {
  MessageRequest own;
  own.subject = "My subject";
  auto r = Apply(own, FromTemplate(template_a_, {{"name", "Ada"}, {"code", 1}}));
  EXPECT_EQ(r.subject, "My subject");
  EXPECT_EQ(r.text, "Hello Ada, your code is 1");
  own.text = "Only my text";
  r = Apply(own, FromTemplate(template_a_, {{"name", "Ada"}, {"code", 1}}));
  EXPECT_EQ(r.text, "Only my text");
  EXPECT_EQ(r.html, "") << "a request with its own body keeps its own bodies";
}

TEST_P(MailMessageComposeTest, MissingRequiredVariablesAreNamed) {
  int status = 0;
  auto codes = FieldCodes([&] { Apply({}, FromTemplate(template_a_, {{"extra", "x"}})); }, &status);
  EXPECT_EQ(status, 422);
  EXPECT_EQ(codes, (Strings{"variables.name:missing_variable", "variables.code:missing_variable"}));
  // Variables used only inside a section are not required.
  EXPECT_NO_THROW(Apply({}, FromTemplate(template_a_, {{"name", "A"}, {"code", "B"}})));
}

TEST_P(MailMessageComposeTest, AnotherSitesTemplateIsNotFound) {
  int status = 0;
  auto codes = FieldCodes([&] { Apply({}, FromTemplate(template_b_, {{"name", "A"}, {"code", "B"}})); }, &status);
  EXPECT_EQ(status, 422);
  EXPECT_EQ(codes, (Strings{"template_id:not_found"}));
  codes = FieldCodes([&] { Apply({}, FromTemplate(999999, {})); }, &status);
  EXPECT_EQ(codes, (Strings{"template_id:not_found"}));
}

TEST_P(MailMessageComposeTest, WithoutTemplateSubjectAndBodyAreRequired) {
  EXPECT_EQ(FieldCodes([&] { Apply({}, {}); }), (Strings{"subject:required", "text:required"}));
}

TEST_P(MailMessageComposeTest, TheSendersSignatureGoesUnderTheBodies) {
  signatures_->Put(origin_, site_a_, user_a_, {"<p>Ada &amp; co</p>", "Ada & co"});
  MessageRequest r;
  r.subject = "S";
  r.html = "<p>Body</p>";
  r.text = "Body";
  ComposeRequest c;
  c.signature = true;
  auto out = Apply(r, c, user_a_);
  EXPECT_EQ(out.html, "<p>Body</p>\n<div class=\"poste-signature\">-- <br>\n<p>Ada &amp; co</p></div>\n");
  EXPECT_EQ(out.text, "Body\n\n-- \nAda & co\n");
  c.signature = false;
  EXPECT_EQ(Apply(r, c, user_a_).text, "Body") << "only when asked";
  c.signature = true;
  EXPECT_EQ(Apply(r, c, user_b_).text, "Body") << "a sender without a signature gets none";
  EXPECT_EQ(Apply(r, c).text, "Body") << "no sender, no signature";
  // The signature of the site the message is sent for only.
  signatures_->Put(origin_, site_b_, user_b_, {"", "Bob"});
  EXPECT_EQ(Apply(r, c, user_b_).text, "Body");
}

TEST_P(MailMessageComposeTest, AMissingSignatureVersionIsDerivedFromTheOther) {
  signatures_->Put(origin_, site_a_, user_a_, {"", "Ada <ada@example.com>\nLine 2"});
  MessageRequest r;
  r.subject = "S";
  r.html = "<p>Body</p>";
  ComposeRequest c;
  c.signature = true;
  auto out = Apply(r, c, user_a_);
  EXPECT_NE(out.html.find("Ada &lt;ada@example.com&gt;<br>\nLine 2"), std::string::npos) << out.html;
  EXPECT_EQ(out.text, "") << "the text part is derived from the HTML when the message is built";
  signatures_->Put(origin_, site_a_, user_a_, {"<p>Only <b>HTML</b></p>", ""});
  r.html.clear();
  r.text = "Body";
  out = Apply(r, c, user_a_);
  EXPECT_NE(out.text.find("Only HTML"), std::string::npos) << out.text;
  EXPECT_EQ(out.text.find("<b>"), std::string::npos) << out.text;
}

TEST(MailMessageCompose, TextAsHtmlEscapes) {
  EXPECT_EQ(TextAsHtml("<script>\"&\"</script>\r\na\nb"),
            "&lt;script&gt;&quot;&amp;&quot;&lt;/script&gt;<br>\na<br>\nb");
}

POSTE_INSTANTIATE_DB_TEST(MailMessageComposeTest);

}  // namespace
}  // namespace poste::mail
