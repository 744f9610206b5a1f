#include "lib/mail/html_scan.hpp"

#include <gtest/gtest.h>

#include <string>

namespace poste::mail {
namespace {

TEST(HtmlScan, ReadsNamesAndTheAttributesItNeeds) {
  std::string html = R"(x<A HREF="https://e.example/?a=1&amp;b=2" class=c>y)";
  HtmlTag tag;
  EXPECT_EQ(ReadHtmlTag(html, 1, tag), html.size() - 1);
  EXPECT_EQ(tag.name, "a");
  EXPECT_FALSE(tag.closing);
  EXPECT_EQ(tag.href, "https://e.example/?a=1&b=2");

  HtmlTag img;
  std::string single = "<img alt='a \"quoted\" > sign' src=x.png/>";
  EXPECT_EQ(ReadHtmlTag(single, 0, img), single.size());
  EXPECT_EQ(img.alt, "a \"quoted\" > sign");

  HtmlTag bare;
  EXPECT_EQ(ReadHtmlTag("<a href=/x>", 0, bare), 11u);
  EXPECT_EQ(bare.href, "/x");

  HtmlTag end;
  EXPECT_EQ(ReadHtmlTag("</P >", 0, end), 5u);
  EXPECT_TRUE(end.closing);
  EXPECT_EQ(end.name, "p");
}

TEST(HtmlScan, UnclosedTagsAndQuotesReportNpos) {
  HtmlTag tag;
  EXPECT_EQ(ReadHtmlTag("<a href=\"x>never", 0, tag), std::string_view::npos);
  HtmlTag other;
  EXPECT_EQ(ReadHtmlTag("<div class=x", 0, other), std::string_view::npos);
  EXPECT_EQ(FindClosingTag("<script>a</b></SCRIPT >", "script", 8), 13u);
  EXPECT_EQ(FindClosingTag("<style>a{}", "style", 7), std::string_view::npos);
  EXPECT_TRUE(IEquals("Script", "sCRIPT"));
  EXPECT_FALSE(IEquals("scrip", "script"));
}

}  // namespace
}  // namespace poste::mail
