#pragma once
// The recipients of a campaign from an uploaded CSV file: one column holds the address (named "email",
// "e-mail", "mail", "courriel", "correo"...), an optional one the display name ("name", "nom", "nombre"...),
// and every column becomes a template variable under its normalised name ("First name" -> first_name).
// Rows with an invalid address are reported by line, duplicates (the same address, case-insensitive) are
// dropped after the first, and nothing a file holds can reach a header unchecked.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/csv/csv_reader.hpp"
#include "lib/mail/address.hpp"

namespace poste::mail {

inline constexpr std::size_t kMaxReportedRows = 1000;  // rejected rows listed; all are counted

struct CsvRecipient {
  std::size_t line = 0;
  Mailbox mailbox;                                             // email normalised (NormalizeAddress)
  std::vector<std::pair<std::string, std::string>> variables;  // every column, by its variable name
};

struct RejectedRow {
  std::size_t line = 0;
  std::string code;  // "invalid_email", "missing_email", "invalid_name", "too_many_cells"
  std::string message;
};

struct RecipientsImport {
  std::vector<std::string> variables;  // the columns' variable names, in file order
  std::vector<CsvRecipient> recipients;
  std::vector<RejectedRow> rejected;  // the first kMaxReportedRows
  std::size_t rejected_count = 0;
  std::size_t duplicates = 0;
  std::vector<std::size_t> duplicate_lines;  // the first kMaxReportedRows
};

// A column title as a template variable name: ASCII letters lower-cased, digits and '_' kept, accents
// dropped to their base letter when Latin-1 (é -> e), anything else a single '_'; "" when nothing is left.
std::string VariableName(std::string_view title);

// Throws AppError::Validation with field "file" when the file as a whole cannot be used (not CSV, over a
// limit, no address column, two columns with the same variable name).
RecipientsImport ParseRecipientsCsv(std::string_view text, const csv::Limits& limits = {});

}  // namespace poste::mail
