#include "lib/mail/recipients_csv.hpp"

#include <gtest/gtest.h>

namespace poste::mail {
namespace {

int Status(std::string_view text, std::string* message = nullptr) {
  try {
    ParseRecipientsCsv(text);
  } catch (const AppError& e) {
    if (message && !e.fields().empty()) *message = e.fields()[0].message;
    EXPECT_EQ(e.fields().at(0).field, "file");
    return e.status();
  }
  return 0;
}

TEST(RecipientsCsv, ColumnsBecomeVariablesWithNormalisedNames) {
  EXPECT_EQ(VariableName("First name"), "first_name");
  EXPECT_EQ(VariableName("  Prénom  "), "prenom");
  EXPECT_EQ(VariableName("E-mail"), "e_mail");
  EXPECT_EQ(VariableName("Société / Ville"), "societe_ville");
  EXPECT_EQ(VariableName("2024 total"), "c_2024_total");
  EXPECT_EQ(VariableName("名前"), "");
  EXPECT_EQ(VariableName("{{x}}"), "x");

  auto r = ParseRecipientsCsv(
      "Courriel;Nom;Prénom;Ville\n"
      "Jean@Example.COM;Dupont;Jean;Genève\n"
      "marie@example.org;Curie;Marie\n");
  EXPECT_EQ(r.variables, (std::vector<std::string>{"courriel", "nom", "prenom", "ville"}));
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].mailbox.email, "Jean@example.com");  // the domain lower-cased, the local part kept
  EXPECT_EQ(r.recipients[0].mailbox.name, "Dupont");
  EXPECT_EQ(r.recipients[0].line, 2u);
  EXPECT_EQ(r.recipients[0].variables[2], (std::pair<std::string, std::string>{"prenom", "Jean"}));
  EXPECT_EQ(r.recipients[0].variables[3].second, "Genève");
  EXPECT_EQ(r.recipients[1].variables[3].second, "");  // a missing trailing cell is empty
}

TEST(RecipientsCsv, InvalidRowsAreReportedByLineAndDuplicatesDropped) {
  auto r = ParseRecipientsCsv(
      "email,name\n"
      "a@example.com,A\n"
      "not-an-address,B\n"
      ",C\n"
      "A@EXAMPLE.com,A again\n"
      "\"x@example.com\nBcc: victim@example.com\",X\n"       // lines 6-7
      "c@example.com,\"Evil\r\nBcc: victim@example.com\"\n"  // lines 8-9
      "d@example.com,D,extra\n"
      "a@example.com,A thrice\n"
      "e@example.com,\"'; DROP TABLE recipients; --\"\n");
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].mailbox.email, "a@example.com");
  EXPECT_EQ(r.recipients[1].mailbox.name, "'; DROP TABLE recipients; --");  // data, checked where it is used
  EXPECT_EQ(r.duplicates, 2u);
  EXPECT_EQ(r.duplicate_lines, (std::vector<std::size_t>{5, 11}));
  ASSERT_EQ(r.rejected_count, 5u);
  std::vector<std::pair<std::size_t, std::string>> rejected;
  for (const auto& row : r.rejected) rejected.emplace_back(row.line, row.code);
  EXPECT_EQ(rejected, (std::vector<std::pair<std::size_t, std::string>>{{3, "invalid_email"},
                                                                        {4, "missing_email"},
                                                                        {6, "invalid_email"},
                                                                        {8, "invalid_name"},
                                                                        {10, "too_many_cells"}}));
}

TEST(RecipientsCsv, FilesThatCannotBeUsedAre422OnFile) {
  std::string message;
  EXPECT_EQ(Status("name,city\nA,B\n", &message), 422);
  EXPECT_NE(message.find("email"), std::string::npos);
  EXPECT_EQ(Status("email,EMAIL\na@example.com,b@example.com\n", &message), 422);
  EXPECT_NE(message.find("\"email\""), std::string::npos);
  EXPECT_EQ(Status("email\n\"unclosed\n", &message), 422);
  EXPECT_NE(message.find("line 2"), std::string::npos);
  EXPECT_EQ(Status(""), 422);
  EXPECT_EQ(Status("email\n\xC3\x28\n"), 422);
  // Many rows: all counted, the report capped.
  std::string big = "email\n";
  for (int i = 0; i < 1500; ++i) big += "bad" + std::to_string(i) + "\n";
  auto r = ParseRecipientsCsv(big);
  EXPECT_EQ(r.rejected_count, 1500u);
  EXPECT_EQ(r.rejected.size(), kMaxReportedRows);
}

}  // namespace
}  // namespace poste::mail
