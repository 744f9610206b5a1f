// ParseMessageRequest against malformed, oversized and hostile bodies: every list is capped (recipients,
// custom headers, references) and reported once, header names and values and message ids are bounded,
// and the compose fields (template_id, variables, signature) are read only where the caller allows them.
#include "modules/mail/mail_message_types.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace poste::mail {
namespace {

struct Parsed {
  MessageRequest request;
  ComposeRequest compose;
  std::vector<FieldError> errors;
};

Parsed Parse(const nlohmann::json& body, bool with_compose = false) {
  Parsed p;
  std::optional<std::string> send_at, key;
  p.request = ParseMessageRequest(body, send_at, key, p.errors, with_compose ? &p.compose : nullptr);
  return p;
}

nlohmann::json Base() { return {{"to", {"ada@example.com"}}, {"subject", "Hi"}, {"text", "Hello"}}; }

bool Has(const std::vector<FieldError>& errors, const std::string& field, const std::string& code) {
  for (const auto& e : errors) {
    if (e.field == field && e.code == code) return true;
  }
  return false;
}

TEST(MailMessageParse, AValidBodyParses) {
  auto body = Base();
  body["headers"] = {{"X-Tag", "a"}};
  body["references"] = "<a@x> <b@x>";
  auto p = Parse(body);
  EXPECT_TRUE(p.errors.empty());
  ASSERT_EQ(p.request.headers.size(), 1u);
  EXPECT_EQ(p.request.references, (std::vector<std::string>{"<a@x>", "<b@x>"}));
}

TEST(MailMessageParse, TooManyHeadersAreOneErrorAndNoneIsKept) {
  auto body = Base();
  nlohmann::json headers = nlohmann::json::object();
  for (int i = 0; i < 5000; ++i) headers["X-H" + std::to_string(i)] = "v";
  body["headers"] = headers;
  auto p = Parse(body);
  EXPECT_EQ(p.errors.size(), 1u);
  EXPECT_TRUE(Has(p.errors, "headers", "too_many"));
  EXPECT_TRUE(p.request.headers.empty());
  body["headers"] = nlohmann::json::array();
  for (int i = 0; i < 51; ++i) body["headers"].push_back({{"name", "X-A"}, {"value", "v"}});
  EXPECT_TRUE(Has(Parse(body).errors, "headers", "too_many"));
  body["headers"].erase(body["headers"].begin());
  EXPECT_TRUE(Parse(body).errors.empty()) << "50 is the cap";
}

TEST(MailMessageParse, HeaderNamesAndValuesAreBounded) {
  auto body = Base();
  body["headers"] = {{std::string(77, 'X'), "v"}, {"X-Long", std::string(999, 'v')}, {"", "v"}};
  auto p = Parse(body);
  EXPECT_TRUE(p.request.headers.empty());
  EXPECT_EQ(p.errors.size(), 3u);
  for (const auto& e : p.errors) EXPECT_LT(e.field.size(), 40u) << "no hostile name in the field: " << e.field;
  EXPECT_TRUE(Has(p.errors, "headers[2].value", "too_long") || Has(p.errors, "headers[1].value", "too_long"));
  // A header value with CR/LF parses (it is data); the message check refuses it (header injection).
  body["headers"] = {{"X-Evil", "a\r\nBcc: victim@example.com"}};
  EXPECT_TRUE(Parse(body).errors.empty());
  body["headers"] = nlohmann::json::array({{{"name", 7}, {"value", "v"}}, "x"});
  p = Parse(body);
  EXPECT_TRUE(Has(p.errors, "headers[0]", "invalid_type"));
  EXPECT_TRUE(Has(p.errors, "headers[1]", "invalid_type"));
  body["headers"] = "X-A: b";
  EXPECT_TRUE(Has(Parse(body).errors, "headers", "invalid_type"));
}

TEST(MailMessageParse, ReferencesAreCappedQuickly) {
  auto body = Base();
  std::string many;
  for (int i = 0; i < 200000; ++i) many += "<r" + std::to_string(i) + "@x> ";
  body["references"] = many;
  const auto start = std::chrono::steady_clock::now();
  auto p = Parse(body);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(p.errors.size(), 1u);
  EXPECT_TRUE(Has(p.errors, "references", "too_many"));
  EXPECT_TRUE(p.request.references.empty());
  body["references"] = nlohmann::json::array();
  for (int i = 0; i < 101; ++i) body["references"].push_back("<r@x>");
  EXPECT_TRUE(Has(Parse(body).errors, "references", "too_many"));
  body["references"] = {"<ok@x>", "<" + std::string(1000, 'a') + "@x>"};
  p = Parse(body);
  EXPECT_TRUE(Has(p.errors, "references[1]", "too_long"));
  body["references"] = {"<ok@x>", 5};
  EXPECT_TRUE(Has(Parse(body).errors, "references", "invalid_type"));
  body.erase("references");
  body["in_reply_to"] = "<" + std::string(1000, 'a') + "@x>";
  p = Parse(body);
  EXPECT_TRUE(Has(p.errors, "in_reply_to", "too_long"));
  EXPECT_TRUE(p.request.in_reply_to.empty());
}

TEST(MailMessageParse, TooManyRecipientsAreOneError) {
  auto body = Base();
  body["to"] = nlohmann::json::array();
  for (int i = 0; i < 5000; ++i) body["to"].push_back("not an address " + std::to_string(i));
  auto p = Parse(body);
  EXPECT_EQ(p.errors.size(), 1u);
  EXPECT_TRUE(Has(p.errors, "to", "too_many"));
  body["bcc"] = body["to"];
  body["to"] = {"ada@example.com"};
  EXPECT_TRUE(Has(Parse(body).errors, "bcc", "too_many"));
}

TEST(MailMessageParse, HostileTextIsDataNotStructure) {
  auto body = Base();
  body["subject"] = "'; DROP TABLE mail_messages; -- <script>alert(1)</script>";
  body["html"] = "<img src=x onerror=alert(1)>";
  auto p = Parse(body);
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.request.subject, body["subject"]);
  body["to"] = {"ada@example.com\r\nBcc: x@example.com"};
  EXPECT_FALSE(Parse(body).errors.empty()) << "CR/LF in an address";
  body["to"] = {std::string("\xff\xfe@example.com")};
  EXPECT_FALSE(Parse(body).errors.empty()) << "invalid UTF-8 in an address";
  EXPECT_TRUE(Has(Parse(nlohmann::json{{"to", 5}, {"subject", 1}, {"text", "x"}}).errors, "subject", "invalid_type"));
}

TEST(MailMessageParse, ComposeFieldsOnlyWhereAllowed) {
  auto body = nlohmann::json{{"to", {"ada@example.com"}}, {"template_id", 4}, {"variables", {{"name", "Ada"}}}};
  auto plain = Parse(body);
  EXPECT_TRUE(Has(plain.errors, "template_id", "unknown_field"));
  EXPECT_TRUE(Has(plain.errors, "subject", "required"));
  auto p = Parse(body, true);
  EXPECT_TRUE(p.errors.empty()) << "a template provides the subject and the bodies";
  EXPECT_EQ(p.compose.template_id, 4);
  EXPECT_EQ(p.compose.variables["name"], "Ada");
  EXPECT_FALSE(p.compose.signature) << "no signature unless asked";
  body = Base();
  body["variables"] = {{"a", 1}};
  body["signature"] = "yes";
  p = Parse(body, true);
  EXPECT_TRUE(Has(p.errors, "variables", "unexpected"));
  EXPECT_TRUE(Has(p.errors, "signature", "invalid_type"));
  body = Base();
  body["template_id"] = 0;
  body["signature"] = true;
  p = Parse(body, true);
  EXPECT_TRUE(Has(p.errors, "template_id", "invalid_value"));
  EXPECT_TRUE(p.compose.signature);
  body["template_id"] = 3;
  body["variables"] = "x";
  EXPECT_TRUE(Has(Parse(body, true).errors, "variables", "invalid_type"));
}

TEST(MailMessageParse, ForwardedFilesRoundTripButNeverComeFromTheBody) {
  auto body = Base();
  body["files"] = {{{"path", "/etc/passwd"}}};
  auto p = Parse(body, true);
  EXPECT_TRUE(Has(p.errors, "files", "unknown_field"));
  EXPECT_TRUE(p.request.files.empty());
  MessageRequest r;
  r.files.push_back({"a.pdf", "application/pdf", "", "/data/inbox/1/a.pdf", ""});
  auto back = RequestFromJson(RequestToJson(r));
  ASSERT_EQ(back.files.size(), 1u);
  EXPECT_EQ(back.files[0].path, "/data/inbox/1/a.pdf");
  Message m;
  m.request = r;
  auto shown = ToJson(m, true);
  EXPECT_EQ(shown["files"], nlohmann::json::parse(R"([{"filename":"a.pdf","content_type":"application/pdf"}])"));
  EXPECT_EQ(shown.dump().find("/data/inbox"), std::string::npos) << "paths are not shown";
}

}  // namespace
}  // namespace poste::mail
