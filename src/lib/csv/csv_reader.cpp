#include "lib/csv/csv_reader.hpp"

#include "lib/validate/ascii.hpp"
#include "lib/validate/text.hpp"

namespace poste::csv {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// The delimiter of the header line: ';' when it has more semicolons than commas outside quotes.
char DetectDelimiter(std::string_view text) {
  std::size_t commas = 0, semicolons = 0;
  bool quoted = false;
  for (char ch : text) {
    if (ch == '"') quoted = !quoted;
    if (quoted) continue;
    if (ch == '\n' || ch == '\r') break;
    commas += ch == ',';
    semicolons += ch == ';';
  }
  return semicolons > commas ? ';' : ',';
}

class Parser {
 public:
  Parser(std::string_view text, char delimiter, const Limits& limits)
      : text_(text), delimiter_(delimiter), limits_(limits) {}

  // The next row's cells; false at the end of the text or on an error (error_ set).
  bool Next(Row& row) {
    row.cells.clear();
    while (pos_ < text_.size()) {
      row.line = line_;
      if (!ReadRow(row.cells)) return false;
      const bool blank = row.cells.size() == 1 && row.cells[0].empty();
      if (!blank) return true;
      row.cells.clear();
    }
    return false;
  }

  bool failed() const { return failed_; }
  const Error& error() const { return error_; }

 private:
  bool Fail(std::size_t line, std::string message) {
    failed_ = true;
    error_ = {line, std::move(message)};
    return false;
  }

  // Consumes a line end at pos_ (CRLF, LF or CR) if there is one.
  bool EatLineEnd() {
    if (pos_ >= text_.size()) return false;
    if (text_[pos_] == '\r') {
      ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    } else if (text_[pos_] == '\n') {
      ++pos_;
    } else {
      return false;
    }
    ++line_;
    return true;
  }

  bool ReadRow(std::vector<std::string>& cells) {
    const std::size_t start_line = line_;
    for (;;) {
      if (cells.size() >= limits_.max_columns) {
        return Fail(start_line, "more than " + std::to_string(limits_.max_columns) + " columns");
      }
      if (++cells_read_ > limits_.max_cells) {
        return Fail(start_line, "more than " + std::to_string(limits_.max_cells) + " cells in all");
      }
      std::string cell;
      if (!ReadCell(cell)) return false;
      cells.push_back(std::move(cell));
      if (pos_ >= text_.size()) return true;
      if (text_[pos_] == delimiter_) {
        ++pos_;
        continue;
      }
      if (EatLineEnd()) return true;
      return Fail(line_, "unexpected character after a quoted field");
    }
  }

  bool ReadCell(std::string& cell) {
    if (pos_ < text_.size() && text_[pos_] == '"') {
      const std::size_t open_line = line_;
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size()) return Fail(open_line, "a quoted field is never closed");
        const char ch = text_[pos_];
        if (ch == '"') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
            cell += '"';
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        if (ch == '\n' || (ch == '\r' && !(pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n'))) ++line_;
        cell += ch;
        ++pos_;
        if (cell.size() > limits_.max_field_bytes) return TooLong(open_line);
      }
      return true;
    }
    while (pos_ < text_.size()) {
      const char ch = text_[pos_];
      if (ch == delimiter_ || ch == '\n' || ch == '\r') break;
      cell += ch;  // a quote inside an unquoted field is kept as it is, as spreadsheets do
      ++pos_;
      if (cell.size() > limits_.max_field_bytes) return TooLong(line_);
    }
    return true;
  }

  bool TooLong(std::size_t line) {
    return Fail(line, "a field is longer than " + std::to_string(limits_.max_field_bytes) + " bytes");
  }

  std::string_view text_;
  char delimiter_;
  const Limits& limits_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t cells_read_ = 0;
  bool failed_ = false;
  Error error_;
};

}  // namespace

bool Parse(std::string_view text, Table& table, Error& error, const Limits& limits) {
  table = {};
  if (text.size() > limits.max_bytes) {
    error = {0, "the file is larger than " + std::to_string(limits.max_bytes >> 20) + " MB"};
    return false;
  }
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  if (text.find('\0') != std::string_view::npos) {
    error = {0, "the file holds a NUL byte: not a text file"};
    return false;
  }
  if (!validate::IsValidUtf8(text)) {
    error = {0, "the file is not UTF-8 (save it as \"CSV UTF-8\")"};
    return false;
  }
  table.delimiter = DetectDelimiter(text);
  Parser parser(text, table.delimiter, limits);
  Row row;
  if (!parser.Next(row)) {
    error = parser.failed() ? parser.error() : Error{0, "the file is empty"};
    return false;
  }
  bool named = false;
  for (const auto& cell : row.cells) {
    table.header.push_back(std::string(validate::ascii::Trim(cell)));
    named = named || !table.header.back().empty();
  }
  if (!named) {
    error = {row.line, "the first line must name the columns"};
    return false;
  }
  while (parser.Next(row)) {
    if (table.rows.size() >= limits.max_rows) {
      error = {row.line, "more than " + std::to_string(limits.max_rows) + " rows"};
      return false;
    }
    table.rows.push_back(std::move(row));
    row = {};
  }
  if (parser.failed()) {
    error = parser.error();
    return false;
  }
  return true;
}

}  // namespace poste::csv
