#include "modules/contacts/contacts_types.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "modules/contacts/contacts_csv.hpp"

namespace poste::contacts {
namespace {

Submission Valid() {
  Submission s;
  s.name = "Ada";
  s.email = "ada@example.com";
  s.message = "Hello";
  return s;
}

std::vector<std::string> Fields(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field + ":" + e.code);
  return out;
}

TEST(ContactsTypes, ValidatesEachField) {
  EXPECT_TRUE(Validate(Valid()).empty());
  Submission s;
  EXPECT_EQ(Fields(Validate(s)), (std::vector<std::string>{"name:required", "email:required", "message:required"}));
  s = Valid();
  s.email = "not an email";
  s.name = "Ada\r\nBcc: victim@example.com";  // header injection through a single-line field
  s.subject = std::string(201, 'x');
  s.message = "line 1\r\nline 2";  // multi-line is fine here
  s.page = "/contact\n";
  EXPECT_EQ(Fields(Validate(s)), (std::vector<std::string>{"name:invalid_characters", "email:invalid",
                                                           "subject:too_long", "page:invalid_characters"}));
  s = Valid();
  s.message = std::string("caf\xC3", 4);  // truncated UTF-8
  s.page = std::string(2049, 'p');
  EXPECT_EQ(Fields(Validate(s)), (std::vector<std::string>{"message:invalid_utf8", "page:too_long"}));
  s = Valid();
  s.message = std::string(10000, 'm');
  EXPECT_TRUE(Validate(s).empty());
  s.message += "m";
  EXPECT_EQ(Fields(Validate(s)), (std::vector<std::string>{"message:too_long"}));
  s = Valid();
  s.message = "<script>alert(1)</script>'; DROP TABLE contacts;--";  // stored as text, never interpreted
  EXPECT_TRUE(Validate(s).empty());
}

TEST(ContactsTypes, ReadsJsonAndForms) {
  std::vector<FieldError> errors;
  auto j = SubmissionFromJson(nlohmann::json::parse(R"({"name":"Ada","email":"a@b.co","message":"m","consent":true,
      "started_at":1700000000000,"website":"","extra":1})"),
                              errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(j.consent);
  EXPECT_EQ(j.started_at, 1700000000000);
  SubmissionFromJson(nlohmann::json::parse(R"({"name":5,"consent":"yes","started_at":"soon"})"), errors);
  EXPECT_EQ(Fields(errors),
            (std::vector<std::string>{"name:invalid_type", "consent:invalid_type", "started_at:invalid_type"}));
  // Any honeypot content counts as filled, even a non-string.
  errors.clear();
  EXPECT_FALSE(SubmissionFromJson(nlohmann::json::parse(R"({"website":{"a":1}})"), errors).website.empty());

  errors.clear();
  auto f = SubmissionFromForm({{"name", "Ada"}, {"consent", "on"}, {"started_at", "1700000000000"}}, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(f.consent);
  EXPECT_EQ(f.started_at, 1700000000000);
  SubmissionFromForm({{"consent", "maybe"}, {"started_at", "-5"}}, errors);
  EXPECT_EQ(Fields(errors), (std::vector<std::string>{"consent:invalid_type", "started_at:invalid_type"}));
}

TEST(ContactsTypes, SpamChecks) {
  const std::int64_t now = 1'700'000'100'000;
  auto s = Valid();
  EXPECT_EQ(CheckSpam(s, now, 3000), SpamVerdict::kAccept);  // no started_at: API clients
  s.started_at = now - 2999;
  EXPECT_EQ(CheckSpam(s, now, 3000), SpamVerdict::kTooFast);
  s.started_at = now - 3000;
  EXPECT_EQ(CheckSpam(s, now, 3000), SpamVerdict::kAccept);
  s.started_at = now + 120'000;  // from the future: forged
  EXPECT_EQ(CheckSpam(s, now, 0), SpamVerdict::kTooFast);
  s.started_at.reset();
  s.website = "http://spam.example";
  EXPECT_EQ(CheckSpam(s, now, 3000), SpamVerdict::kHoneypot);
}

TEST(ContactsCsv, QuotesGuardsFormulasAndUsesCrlf) {
  EXPECT_EQ(CsvCell("plain"), "plain");
  EXPECT_EQ(CsvCell("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvCell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvCell("l1\r\nl2"), "\"l1\r\nl2\"");
  EXPECT_EQ(CsvCell("=HYPERLINK(\"http://evil\")"), "\"'=HYPERLINK(\"\"http://evil\"\")\"");
  EXPECT_EQ(CsvCell("+1 555"), "'+1 555");
  EXPECT_EQ(CsvCell("-2+3"), "'-2+3");
  EXPECT_EQ(CsvCell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvCell("\t=1"), "'\t=1");
  EXPECT_EQ(CsvCell(""), "");
  EXPECT_TRUE(CsvHeader().starts_with("\xEF\xBB\xBFid,created_at,name,"));
  EXPECT_TRUE(CsvHeader().ends_with("archived\r\n"));
  Contact c;
  c.id = 7;
  c.created_at = 1'700'000'000'123;
  c.name = "Zoë";
  c.email = "z@example.com";
  c.message = "=cmd|' /C calc'!A0";
  c.read = true;
  EXPECT_EQ(CsvRow(c), "7,2023-11-14T22:13:20Z,Zoë,z@example.com,,'=cmd|' /C calc'!A0,,false,true,false\r\n");
}

}  // namespace
}  // namespace poste::contacts
