#include "lib/mail/html_text.hpp"

#include <gtest/gtest.h>

#include <string>

#include "lib/validate/text.hpp"

namespace poste::mail {
namespace {

using namespace std::string_literals;

TEST(HtmlToText, BlocksBreaksAndWhitespace) {
  EXPECT_EQ(HtmlToText("<html><head><title>T</title><style>p{color:red}</style></head><body>"
                       "<h1>Hello   there</h1><p>First\n   paragraph <b>bold</b>word.</p>"
                       "<div>a div</div><div>another<br>line<br><br>after blank</div></body></html>"),
            "Hello there\n\nFirst paragraph boldword.\n\na div\nanother\nline\n\nafter blank\n");
  EXPECT_EQ(HtmlToText(""), "");
  EXPECT_EQ(HtmlToText("<p>   </p><div></div>"), "");
  EXPECT_EQ(HtmlToText("just text"), "just text\n");
}

TEST(HtmlToText, LinksShowTheirUrl) {
  EXPECT_EQ(HtmlToText("See <a href=\"https://example.com/a?b=1&amp;c=2\">our offer</a> now."),
            "See our offer (https://example.com/a?b=1&c=2) now.\n");
  EXPECT_EQ(HtmlToText("<a href='https://example.com'>https://example.com</a>"), "https://example.com\n");
  EXPECT_EQ(HtmlToText("<a href=mailto:ann@example.com>ann@example.com</a>"), "ann@example.com\n");
  EXPECT_EQ(HtmlToText("<a href=\"javascript:alert(1)\">click</a> <a href=\"#top\">top</a>"), "click top\n");
  EXPECT_EQ(HtmlToText("<a href=\"https://x.example/\"><img src=x.png></a>"), "https://x.example/\n");
  EXPECT_EQ(HtmlToText("<a href=\"https://x.example/\"><img alt=\"Logo\" src=x.png></a>"),
            "Logo (https://x.example/)\n");
}

TEST(HtmlToText, ListsAndQuotes) {
  EXPECT_EQ(HtmlToText("<p>Items:</p><ul><li>one</li><li>two<ul><li>two.a</li></ul></li><li>three</ul>"
                       "<ol><li>first<li>second</ol><p>end</p>"),
            "Items:\n\n- one\n- two\n  - two.a\n- three\n\n1. first\n2. second\n\nend\n");
  EXPECT_EQ(HtmlToText("<blockquote><p>quoted</p><p>text</p></blockquote>after"), "> quoted\n>\n> text\n\nafter\n");
  EXPECT_EQ(HtmlToText("<ul><li>a</li></ul><blockquote>q<br><br>r</blockquote><p>after</p>"),
            "- a\n\n> q\n>\n> r\n\nafter\n");
  EXPECT_EQ(HtmlToText("<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td></tr></table>"), "a b\nc d\n");
  EXPECT_EQ(HtmlToText("x<hr>y"), "x\n\n----------\n\ny\n");
  EXPECT_EQ(HtmlToText("<pre>  keep\n    this</pre>"), "  keep\n    this\n");
}

TEST(HtmlToText, DecodesEntities) {
  EXPECT_EQ(HtmlToText("Tom&nbsp;&amp;&nbsp;Jerry &lt;script&gt; &eacute;t&eacute;"), "Tom & Jerry <script> été\n");
}

TEST(HtmlToText, WrapsAt76WhereASpaceAllows) {
  std::string words;
  for (int i = 0; i < 40; ++i) words += "word" + std::to_string(i) + " ";
  std::string out = HtmlToText("<p>" + words + "</p>");
  std::size_t start = 0;
  int lines = 0;
  for (auto nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', start)) {
    EXPECT_LE(nl - start, kTextWidth);
    start = nl + 1;
    ++lines;
  }
  EXPECT_GE(lines, 4);
  std::string url = "https://example.com/" + std::string(150, 'x');
  EXPECT_EQ(HtmlToText("go " + url), "go\n" + url + "\n");  // a long word stays whole
  // Characters, not bytes, count: 40 two-byte letters fit on one line.
  std::string accents;
  for (int i = 0; i < 15; ++i) accents += "éééé ";
  EXPECT_EQ(HtmlToText(accents).find('\n'), HtmlToText(accents).size() - 1);
}

TEST(HtmlToText, KnowsElementsByTheirWholeName) {
  // Names that share a start, a length or a prefix with known ones are unknown elements: inline, shown as text.
  EXPECT_EQ(HtmlToText("a<pa>b</pa>c<blockquotes>d<blockquotex>e<h7>f<lix>g<tds>h<br2>i<imgs alt=x>j"), "abcdefghij\n");
  EXPECT_EQ(HtmlToText("a<blockquote-x>b<figcaptions>c<template-x>d<headers>e"), "abcde\n");
  // The known ones in any case; <head>, <template> and <xml> hide what they hold.
  EXPECT_EQ(HtmlToText("<HEAD>gone</HEAD><P>one</P><Figcaption>two</FIGCAPTION><TD>3</TD><TH>4</TH>"
                       "<template>gone</template><xml>gone</xml><Br>five"),
            "one\n\ntwo\n3 4\nfive\n");
  EXPECT_EQ(HtmlToText("<dl><dt>term<dd>definition</dl><fieldset>f</fieldset><center>c</center>"),
            "term\ndefinition\n\nf\nc\n");
}

TEST(HtmlToText, KeepsNoBreakSpacesInWordsAndDropsControls) {
  EXPECT_EQ(HtmlToText("a\xC2\xA0"
                       "b c&nbsp;d \xC2\xA9 \xC2"),
            "a b c d \xC2\xA9 \xEF\xBF\xBD\n");
  EXPECT_EQ(HtmlToText("wo\x01rd\x7f and\x02 more"), "word and more\n");
  EXPECT_EQ(HtmlToText("<pre>a\x01"
                       "b\tc</pre>"),
            "ab\tc\n");
}

TEST(HtmlToText, SurvivesHostileInput) {
  EXPECT_EQ(HtmlToText("a < b, 1<2 <3 and c"), "a < b, 1<2 <3 and c\n");
  EXPECT_EQ(HtmlToText("x<y z"), "x\n");  // "<y" opens a tag that never closes, as in a browser
  EXPECT_EQ(HtmlToText("before <a href=\"https://x.example/ unclosed"), "before\n");
  EXPECT_EQ(HtmlToText("x<script>alert(1)"), "x\n");
  EXPECT_EQ(HtmlToText("x<SCRIPT>alert(1)</ScRiPt>y<style>a{}</style >z"), "xyz\n");
  EXPECT_EQ(HtmlToText("a<!-- comment <p>hidden</p> -->b<!-- unclosed"), "ab\n");
  EXPECT_EQ(HtmlToText("<p>unclosed <b>tags <i>here"), "unclosed tags here\n");
  EXPECT_EQ(HtmlToText("</p></div></ul></a>text</li>"), "text\n");
  EXPECT_EQ(HtmlToText("bad \xff\xfe utf8 \xc3"), "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8 \xEF\xBF\xBD\n");
  EXPECT_EQ(HtmlToText("nul\0and\x01"
                       "controls"s),
            "nulandcontrols\n");

  std::string nested;
  for (int i = 0; i < 100000; ++i) nested += "<div><ul><li><blockquote><a href=x>";
  nested += "deep";
  std::string out = HtmlToText(nested);
  EXPECT_NE(out.find("deep"), std::string::npos);
  EXPECT_TRUE(validate::IsValidUtf8(out));
  std::size_t longest = 0, start = 0;
  for (auto nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', start)) {
    longest = std::max(longest, nl - start);
    start = nl + 1;
  }
  EXPECT_LE(longest, kTextWidth);  // indentation is capped

  std::string links;  // nested links: words are kept for the innermost one only, and only so much of them
  for (int i = 0; i < 1000; ++i) links += "<a href=\"https://x.example/" + std::to_string(i) + "\">";
  for (int i = 0; i < 100000; ++i) links += "word ";
  links += "</a>";
  out = HtmlToText(links);
  EXPECT_NE(out.find("(https://x.example/"), std::string::npos);
  EXPECT_LT(out.size(), 700000u);

  std::string garbage;
  for (int i = 0; i < 200000; ++i) garbage.push_back(static_cast<char>((i * 7919) % 256));
  EXPECT_TRUE(validate::IsValidUtf8(HtmlToText(garbage)));
}

}  // namespace
}  // namespace poste::mail
