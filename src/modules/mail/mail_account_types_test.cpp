// The settings of Gmail / Outlook accounts' SMTP server (smtp_host, smtp_port): accepted when well-formed,
// refused with a field error otherwise (ports out of range or not whole numbers, hosts with spaces, CR/LF,
// SQL or HTML, invalid UTF-8, oversized), without touching the other settings. The account service's test
// covers the other types' settings on both databases.
#include "modules/mail/mail_account_types.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace poste::mail {
namespace {

bool Has(const std::vector<FieldError>& errors, const std::string& field, const std::string& code) {
  for (const auto& e : errors) {
    if (e.field == field && e.code == code) return true;
  }
  return false;
}

// A complete Gmail / Outlook account with `extra` merged into its settings; the errors of split and validate.
std::vector<FieldError> ErrorsOf(const std::string& type, const nlohmann::json& extra, Account* out = nullptr) {
  nlohmann::json sent = {{"username", "team@gmail.example"}, {"client_id", "client-1"}, {"client_secret", "cs"}};
  sent.update(extra);
  Account a;
  a.name = "Team";
  a.type = type;
  a.from = {"Team", "team@gmail.example"};
  std::vector<FieldError> errors;
  SplitSettings(type, sent, a.settings, a.secrets, errors);
  if (errors.empty()) ValidateAccount(a, errors);
  if (out) *out = a;
  return errors;
}

TEST(MailAccountTypes, OAuthAccountsTakeAnSmtpHostAndPort) {
  for (const char* type : {"gmail", "outlook"}) {
    Account a;
    EXPECT_TRUE(ErrorsOf(type, {{"smtp_host", "smtp-mail.outlook.com"}, {"smtp_port", 587}}, &a).empty()) << type;
    EXPECT_EQ(a.settings["smtp_host"], "smtp-mail.outlook.com");
    EXPECT_EQ(a.settings["smtp_port"], 587);
    EXPECT_EQ(ToJson(a)["settings"]["smtp_host"], "smtp-mail.outlook.com") << "a plain setting, shown";
    for (const char* host : {"127.0.0.1", "::1", "relay", "smtp.office365.com"}) {
      EXPECT_TRUE(ErrorsOf(type, {{"smtp_host", host}}).empty()) << host;
    }
    for (int port : {1, 25, 465, 65535}) EXPECT_TRUE(ErrorsOf(type, {{"smtp_port", port}}).empty()) << port;
    // Both optional (the provider's server), and null removes them.
    EXPECT_TRUE(ErrorsOf(type, nlohmann::json::object(), &a).empty());
    EXPECT_FALSE(a.settings.contains("smtp_host"));
    EXPECT_TRUE(ErrorsOf(type, {{"smtp_host", nullptr}, {"smtp_port", nullptr}}, &a).empty());
    EXPECT_FALSE(a.settings.contains("smtp_port"));
  }
}

TEST(MailAccountTypes, BadSmtpPortsAreRefused) {
  for (const nlohmann::json& port :
       {nlohmann::json(0), nlohmann::json(70000), nlohmann::json(-25), nlohmann::json(65536), nlohmann::json("x"),
        nlohmann::json("587"), nlohmann::json(587.5), nlohmann::json(true), nlohmann::json::array({587}),
        nlohmann::json(1e12)}) {
    EXPECT_TRUE(Has(ErrorsOf("gmail", {{"smtp_port", port}}), "settings.smtp_port", "invalid_value")) << port;
  }
}

TEST(MailAccountTypes, HostileSmtpHostsAreRefused) {
  auto code_of = [](const nlohmann::json& host) {
    const auto errors = ErrorsOf("outlook", {{"smtp_host", host}});
    return errors.size() == 1 && errors[0].field == "settings.smtp_host" ? errors[0].code : "";
  };
  for (const char* host : {"smtp gmail com", " smtp.gmail.com", "smtp.gmail.com:587", "-smtp.gmail.com", "a..b",
                           "smtp.gmail.com'; DROP TABLE mail_accounts;--", "<script>x</script>", "smtp_gmail.com",
                           "http://smtp.gmail.com", "[::1]"}) {
    EXPECT_EQ(code_of(host), "invalid_format") << host;
  }
  EXPECT_EQ(code_of(std::string(64, 'a') + ".example"), "invalid_format") << "a label over 63 characters";
  EXPECT_EQ(code_of(std::string(3000, 'a')), "too_long");
  EXPECT_EQ(code_of(""), "invalid_format");
  for (const char* host : {"smtp.gmail.com\r\nRCPT TO:<x@y.z>", "smtp.gmail.com\n", "smtp\rgmail"}) {
    EXPECT_EQ(code_of(host), "header_injection") << host;
  }
  EXPECT_EQ(code_of(std::string("smtp.\xff\xfe.com")), "invalid_utf8");
  EXPECT_EQ(code_of(587), "invalid_type");
  // SMTP accounts name theirs "host": smtp_host is not one of their settings.
  Account a;
  a.type = "smtp";
  std::vector<FieldError> errors;
  SplitSettings("smtp", {{"smtp_host", "relay"}}, a.settings, a.secrets, errors);
  EXPECT_TRUE(Has(errors, "settings.smtp_host", "unknown_setting"));
}

}  // namespace
}  // namespace poste::mail
