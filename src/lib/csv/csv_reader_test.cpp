#include "lib/csv/csv_reader.hpp"

#include <gtest/gtest.h>

namespace poste::csv {
namespace {

using Cells = std::vector<std::string>;

Table Ok(std::string_view text, const Limits& limits = {}) {
  Table table;
  Error error;
  EXPECT_TRUE(Parse(text, table, error, limits)) << error.line << ": " << error.message;
  return table;
}

Error Fails(std::string_view text, const Limits& limits = {}) {
  Table table;
  Error error;
  EXPECT_FALSE(Parse(text, table, error, limits)) << text;
  return error;
}

TEST(CsvReader, ReadsRfc4180AndWhatSpreadsheetsWrite) {
  auto t =
      Ok("\xEF\xBB\xBF email , name\r\na@example.com,\"Dupont, Jean\"\r\nb@example.com,\"He said \"\"hi\"\"\"\r\n");
  EXPECT_EQ(t.header, (Cells{"email", "name"}));  // BOM dropped, titles trimmed
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].cells, (Cells{"a@example.com", "Dupont, Jean"}));
  EXPECT_EQ(t.rows[1].cells, (Cells{"b@example.com", "He said \"hi\""}));
  EXPECT_EQ(t.rows[0].line, 2u);
  EXPECT_EQ(t.rows[1].line, 3u);

  // LF and CR line ends, a line break inside quotes (lines still counted right), blank lines skipped, no
  // line end at the end of the file.
  t = Ok("email;note\n\"x@example.com\";\"one\ntwo\"\n\n\ry@example.com;last");
  EXPECT_EQ(t.delimiter, ';');
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].cells, (Cells{"x@example.com", "one\ntwo"}));
  EXPECT_EQ(t.rows[1].line, 6u);
  EXPECT_EQ(t.rows[1].cells, (Cells{"y@example.com", "last"}));

  // Empty cells, a quote inside an unquoted cell kept as it is, a quoted delimiter.
  t = Ok("a,b,c\n,,\n1\"2,\"x,y\",\n");
  EXPECT_EQ(t.rows[0].cells, (Cells{"", "", ""}));
  EXPECT_EQ(t.rows[1].cells, (Cells{"1\"2", "x,y", ""}));
  // Semicolons inside quotes do not decide the delimiter.
  EXPECT_EQ(Ok("\"a;b;c\",d\n1,2\n").delimiter, ',');
}

TEST(CsvReader, RefusesMalformedAndHostileFilesWithTheLine) {
  EXPECT_EQ(Fails("").message, "the file is empty");
  EXPECT_EQ(Fails("\n\n").message, "the file is empty");
  EXPECT_EQ(Fails(" , \n1,2\n").message, "the first line must name the columns");
  auto e = Fails("email\n\"open@example.com\nmore\nlines");
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.message, "a quoted field is never closed");
  e = Fails("email\nok\n\"closed\"junk\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(Fails(std::string("email\nnul\0byte\n", 15)).line, 0u);
  EXPECT_NE(Fails("email\n\xC3\x28\n").message.find("UTF-8"), std::string::npos);
  EXPECT_NE(Fails("email\n\xFF\xFE\n").message.find("UTF-8"), std::string::npos);

  Limits small;
  small.max_bytes = 64;
  small.max_rows = 2;
  small.max_columns = 3;
  small.max_field_bytes = 10;
  EXPECT_EQ(Fails(std::string(65, 'a'), small).line, 0u);
  EXPECT_EQ(Fails("e\n1\n2\n3\n", small).line, 4u);
  EXPECT_EQ(Fails("a,b,c,d\n", small).message, "more than 3 columns");
  EXPECT_EQ(Fails("e\n12345678901\n", small).line, 2u);
  EXPECT_EQ(Fails("e\n\"12345678901\"\n", small).line, 2u);
  // Many empty cells: bounded in all, not only per row.
  Limits cells;
  cells.max_cells = 10;
  EXPECT_EQ(Fails("a,b,c\n,,\n,,\n,,\n", cells).message, "more than 10 cells in all");
  EXPECT_EQ(Ok("a,b,c\n,,\n,,\n", cells).rows.size(), 2u);
  // Exactly at the limits passes.
  EXPECT_EQ(Ok("a,b,c\n1234567890,,\n1,2,3\n", small).rows.size(), 2u);
}

}  // namespace
}  // namespace poste::csv
