#include "lib/markdown/markdown.hpp"

#include <gtest/gtest.h>

#include <string>

namespace poste::markdown {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Markdown, RendersCommonMarkAndGithubExtensions) {
  EXPECT_EQ(RenderMarkdown("# Titre\n\nUn *texte* **gras**."),
            "<h1>Titre</h1>\n<p>Un <em>texte</em> <strong>gras</strong>.</p>\n");
  auto table = RenderMarkdown("| a | b |\n|---|---|\n| 1 | 2 |\n");
  EXPECT_TRUE(Contains(table, "<table>")) << table;
  EXPECT_TRUE(Contains(RenderMarkdown("~~old~~"), "<del>old</del>"));
  EXPECT_TRUE(Contains(RenderMarkdown("[site](https://example.com/a?b=1&c=2)"),
                       "<a href=\"https://example.com/a?b=1&amp;c=2\">site</a>"));
  EXPECT_TRUE(Contains(RenderMarkdown("![logo](/media/1.png \"Logo\")"), "<img src=\"/media/1.png\" alt=\"logo\""));
  EXPECT_TRUE(Contains(RenderMarkdown("[mail](mailto:a@example.com) [tel](tel:+41211234567) [rel](../page#x)"),
                       "href=\"../page#x\""));
  EXPECT_EQ(RenderMarkdown(""), "");
}

TEST(Markdown, EscapesRawHtml) {
  auto html = RenderMarkdown("<script>alert(1)</script>\n\nText <img src=x onerror=alert(1)> <b>b</b>");
  EXPECT_FALSE(Contains(html, "<script")) << html;
  EXPECT_FALSE(Contains(html, "<img")) << html;
  EXPECT_FALSE(Contains(html, "<b>")) << html;
  EXPECT_TRUE(Contains(html, "&lt;script&gt;")) << html;
  auto attr = RenderMarkdown("[x](https://e.com \"t\\\" onmouseover=\\\"alert(1)\")");
  EXPECT_FALSE(Contains(attr, "\" onmouseover")) << attr;
  auto text = RenderMarkdown("plain href=\"javascript:alert(1)\" text");
  EXPECT_TRUE(Contains(text, "href=&quot;javascript:alert(1)&quot;")) << text;
}

TEST(Markdown, RemovesDangerousLinkAndImageUrls) {
  const char* hostile[] = {
      "[x](javascript:alert(1))",
      "[x](JavaScript:alert(1))",
      "[x](JAVASCRIPT:alert(1))",
      "[x](vbscript:msgbox(1))",
      "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      "![x](data:image/svg+xml,<svg onload=alert(1)>)",
      "![x](javascript:alert(1))",
      "<javascript:alert(1)>",
      "[x](<javascript:alert(1)>)",
      "[x](java&#115;cript:alert(1))",
      "[x](java&#x73;cript:alert(1))",
      "[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
      "[x](javascript&colon;alert(1))",
      "[x](javascript&#58alert(1))",
      "[x](%6Aavascript:alert(1))",
      "[x](java%73cript:alert(1))",
      "[x](jav%0Aascript:alert(1))",
      "[x](<jav\tascript:alert(1)>)",
      "[x](<\x01javascript:alert(1)>)",
      "[x](< javascript:alert(1)>)",
      "[x](&#x20;javascript:alert(1))",
      "[x](&amp;#106;avascript:alert(1))",
      "[x][r]\n\n[r]: javascript:alert(1)",
      "[x](jAvAsCrIpT:alert(1))",
      "[x](vbscript&colon;x)",
      "[x](DATA:text/html,x)",
      "[x](feed:javascript:alert(1))",
  };
  for (const char* input : hostile) {
    auto html = RenderMarkdown(input);
    EXPECT_FALSE(Contains(html, "href=")) << input << " -> " << html;
    EXPECT_FALSE(Contains(html, "src=")) << input << " -> " << html;
    EXPECT_FALSE(Contains(html, "\"javascript")) << input << " -> " << html;
  }
  // The link text survives; only the URL goes.
  EXPECT_EQ(RenderMarkdown("[click](javascript:alert(1))"), "<p><a>click</a></p>\n");
  // A safe link beside a removed one is kept.
  auto mixed = RenderMarkdown("[a](javascript:x) [b](https://ok.example)");
  EXPECT_TRUE(Contains(mixed, "<a href=\"https://ok.example\">b</a>")) << mixed;
}

TEST(Markdown, IsSafeUrl) {
  EXPECT_TRUE(IsSafeUrl("https://example.com"));
  EXPECT_TRUE(IsSafeUrl("HTTP://EXAMPLE.COM"));
  EXPECT_TRUE(IsSafeUrl("/relative/path:with-colon"));
  EXPECT_TRUE(IsSafeUrl("#top"));
  EXPECT_TRUE(IsSafeUrl("?q=a:b"));
  EXPECT_TRUE(IsSafeUrl("page.html"));
  EXPECT_TRUE(IsSafeUrl(""));
  EXPECT_FALSE(IsSafeUrl("javascript:alert(1)"));
  EXPECT_FALSE(IsSafeUrl("  \t javascript:alert(1)"));
  EXPECT_FALSE(IsSafeUrl("\x0e\x1fjavascript:alert(1)"));
  EXPECT_FALSE(IsSafeUrl("&#0000106avascript:alert(1)"));
  EXPECT_FALSE(IsSafeUrl("%256Aavascript:alert(1)"));  // double percent-encoding
  EXPECT_FALSE(IsSafeUrl("data:,x"));
  EXPECT_FALSE(IsSafeUrl("vbscript:x"));
  EXPECT_FALSE(IsSafeUrl("file:///etc/passwd"));
  EXPECT_FALSE(
      IsSafeUrl("jav\xC2\xA0"
                "ascript:x"));  // a non-ASCII character inside the scheme
}

TEST(Markdown, SurvivesPathologicalInput) {
  std::string nested(20000, '[');
  EXPECT_NO_THROW(RenderMarkdown(nested));
  std::string quotes(20000, '>');
  EXPECT_NO_THROW(RenderMarkdown(quotes));
  std::string emphasis;
  for (int i = 0; i < 5000; ++i) emphasis += "*a**";
  EXPECT_NO_THROW(RenderMarkdown(emphasis));
  std::string with_nul("a\0b", 3);
  auto html = RenderMarkdown(with_nul);
  EXPECT_EQ(html.find('\0'), std::string::npos);
  EXPECT_NO_THROW(RenderMarkdown("\xff\xfe invalid \xc3 utf-8"));
}

}  // namespace
}  // namespace poste::markdown
