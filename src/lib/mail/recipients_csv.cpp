#include "lib/mail/recipients_csv.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <set>

#include "lib/error.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail {
namespace {

// U+00C0..U+00FF folded to an ASCII letter ('_' for the signs × and ÷).
constexpr std::string_view kLatin1Fold = "aaaaaaaceeeeiiiidnooooo_ouuuuytsaaaaaaaceeeeiiiidnooooo_ouuuuyty";

constexpr std::array<std::string_view, 9> kEmailColumns = {"email",        "e_mail",   "email_address",
                                                           "mail",         "courriel", "adresse_email",
                                                           "adresse_mail", "correo",   "correo_electronico"};
constexpr std::array<std::string_view, 6> kNameColumns = {"name", "nom", "nombre", "full_name", "display_name", "nome"};

template <std::size_t N>
std::optional<std::size_t> FindColumn(const std::vector<std::string>& variables,
                                      const std::array<std::string_view, N>& names) {
  for (auto name : names) {
    auto it = std::find(variables.begin(), variables.end(), name);
    if (it != variables.end()) return static_cast<std::size_t>(it - variables.begin());
  }
  return std::nullopt;
}

// The case-insensitive key of an address (local parts are case-insensitive in practice).
std::string DuplicateKey(const std::string& email) { return validate::ascii::ToLower(email); }

}  // namespace

std::string VariableName(std::string_view title) {
  std::string out;
  auto add = [&](char ch) {
    if (ch == '_' && (out.empty() || out.back() == '_')) return;
    out += ch;
  };
  for (std::size_t i = 0; i < title.size(); ++i) {
    const auto ch = static_cast<unsigned char>(title[i]);
    if (std::isalnum(ch) && ch < 0x80) {
      add(static_cast<char>(std::tolower(ch)));
    } else if (ch == 0xC3 && i + 1 < title.size()) {  // U+00C0..U+00FF
      const auto next = static_cast<unsigned char>(title[i + 1]);
      if (next >= 0x80 && next <= 0xBF) {
        add(kLatin1Fold[next - 0x80]);
        ++i;
        continue;
      }
      add('_');
    } else {
      add('_');
      // The continuation bytes of another UTF-8 character make no more '_'.
      if (ch >= 0xC0) {
        while (i + 1 < title.size() && (static_cast<unsigned char>(title[i + 1]) & 0xC0) == 0x80) ++i;
      }
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (!out.empty() && out.front() == '_') out.erase(0, 1);
  if (!out.empty() && std::isdigit(static_cast<unsigned char>(out.front()))) out.insert(0, "c_");
  return out;
}

RecipientsImport ParseRecipientsCsv(std::string_view text, const csv::Limits& limits) {
  auto file_error = [](std::string code, std::string message) {
    return AppError::Validation({{"file", std::move(code), std::move(message)}});
  };
  csv::Table table;
  csv::Error error;
  if (!csv::Parse(text, table, error, limits)) {
    throw file_error("invalid_csv",
                     error.line ? "line " + std::to_string(error.line) + ": " + error.message : error.message);
  }
  RecipientsImport out;
  std::set<std::string> seen_names;
  for (std::size_t i = 0; i < table.header.size(); ++i) {
    std::string name = VariableName(table.header[i]);
    if (name.empty()) name = "column_" + std::to_string(i + 1);
    if (!seen_names.insert(name).second) {
      throw file_error("duplicate_column", "two columns are named \"" + name + "\" once normalised");
    }
    out.variables.push_back(std::move(name));
  }
  const auto email_column = FindColumn(out.variables, kEmailColumns);
  if (!email_column) {
    throw file_error("missing_email_column", "no column holds the addresses: name one \"email\"");
  }
  const auto name_column = FindColumn(out.variables, kNameColumns);

  auto reject = [&](std::size_t line, std::string code, std::string message) {
    ++out.rejected_count;
    if (out.rejected.size() < kMaxReportedRows) out.rejected.push_back({line, std::move(code), std::move(message)});
  };
  std::set<std::string> seen;
  for (auto& row : table.rows) {
    if (row.cells.size() > out.variables.size()) {
      reject(row.line, "too_many_cells",
             std::to_string(row.cells.size()) + " cells where the first line names " +
                 std::to_string(out.variables.size()) + " columns");
      continue;
    }
    row.cells.resize(out.variables.size());  // missing trailing cells are empty
    const std::string email = NormalizeAddress(std::string(validate::ascii::Trim(row.cells[*email_column])));
    if (email.empty()) {
      reject(row.line, "missing_email", "no address");
      continue;
    }
    if (!IsValidAddress(email)) {
      reject(row.line, "invalid_email", "not a valid address");
      continue;
    }
    CsvRecipient r;
    r.line = row.line;
    r.mailbox.email = email;
    if (name_column) {
      r.mailbox.name = std::string(validate::ascii::Trim(row.cells[*name_column]));
      std::vector<FieldError> errors;
      CheckDisplayName(r.mailbox.name, "name", errors);
      if (!errors.empty()) {
        reject(row.line, "invalid_name", errors.front().message);
        continue;
      }
    }
    if (!seen.insert(DuplicateKey(email)).second) {
      ++out.duplicates;
      if (out.duplicate_lines.size() < kMaxReportedRows) out.duplicate_lines.push_back(row.line);
      continue;
    }
    for (std::size_t i = 0; i < out.variables.size(); ++i) {
      r.variables.emplace_back(out.variables[i],
                               i == *email_column ? email : std::string(validate::ascii::Trim(row.cells[i])));
    }
    out.recipients.push_back(std::move(r));
  }
  return out;
}

}  // namespace poste::mail
