#pragma once
// CSV files people upload (recipients of a campaign, contacts): RFC 4180 and what spreadsheets actually
// write — a UTF-8 byte-order mark, CRLF, LF or CR line ends, ';' instead of ',' (Excel in French or German
// locales, detected from the header line), quoted fields with doubled quotes and line breaks inside.
// Limits on size, rows, columns and field length keep a hostile file from taking the server's memory.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace poste::csv {

struct Limits {
  std::size_t max_bytes = 20u << 20;
  std::size_t max_rows = 100'000;  // data rows, after the header
  std::size_t max_columns = 100;
  std::size_t max_field_bytes = 10'000;
  std::size_t max_cells = 2'000'000;  // in all: 100,000 rows of 100 empty cells would fit in 20 MB
};

struct Row {
  std::size_t line = 0;  // the line of the file where the row starts (1 = the first line)
  std::vector<std::string> cells;
};

// What stops the reading: the file as a whole is not a usable CSV. `line` is where it was found (0: the
// file as a whole, e.g. too large).
struct Error {
  std::size_t line = 0;
  std::string message;
};

struct Table {
  std::vector<std::string> header;  // the first row, cells trimmed
  std::vector<Row> rows;            // the other rows; blank lines skipped
  char delimiter = ',';
};

// Parses the whole text; on a problem returns false with `error` set and `table` partly filled. Problems:
// over a limit, invalid UTF-8, a NUL byte, a quote left open at the end, text after a closing quote, an
// empty file or an empty header.
bool Parse(std::string_view text, Table& table, Error& error, const Limits& limits = {});

}  // namespace poste::csv
