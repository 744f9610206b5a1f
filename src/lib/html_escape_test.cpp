#include "lib/html_escape.hpp"

#include <gtest/gtest.h>

namespace poste {
namespace {

TEST(HtmlEscape, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(HtmlEscaped("<script>alert('x' && \"y\")</script>"),
            "&lt;script&gt;alert(&#39;x&#39; &amp;&amp; &quot;y&quot;)&lt;/script&gt;");
  EXPECT_EQ(HtmlEscaped("plain é 😀"), "plain é 😀");
  std::string out = "a";
  AppendHtmlEscaped(out, "<b>");
  EXPECT_EQ(out, "a&lt;b&gt;");
}

TEST(HtmlEscape, TextAsHtmlTurnsEveryLineBreakIntoOneBr) {
  EXPECT_EQ(TextAsHtml("<a>\r\nb\nc\rd"), "&lt;a&gt;<br>\nb<br>\nc<br>\nd");
  EXPECT_EQ(TextAsHtml("\n\n"), "<br>\n<br>\n");
  EXPECT_EQ(TextAsHtml(""), "");
}

}  // namespace
}  // namespace poste
