// Forwarding and the reply's bodies (pure): "Fwd:" subjects, the forwarded headers and text (HTML only as
// text, escaped), the quote under the caller's text, Message-IDs bracketed again.
#include "modules/inbox/inbox_reply.hpp"

#include <gtest/gtest.h>

namespace poste::inbox {
namespace {

Message Original() {
  Message m;
  m.message_id = "orig@example.org";
  m.subject = "Devis <urgent> & co";
  m.from = {"Zoë", "zoe@example.org"};
  m.to = {{"", "support@alpha.example"}, {"Bob", "bob@example.org"}};
  m.cc = {{"Carol", "carol@example.org"}};
  m.sent_at = 1'772'445'600'000;  // 2026-03-02 10:00 UTC
  m.text = "Line one\n<script>x()</script>\n";
  return m;
}

TEST(InboxForward, Subject) {
  EXPECT_EQ(ForwardSubject("Hello"), "Fwd: Hello");
  EXPECT_EQ(ForwardSubject("Fwd: Hello"), "Fwd: Hello");
  EXPECT_EQ(ForwardSubject("FW: Hello"), "FW: Hello");
  EXPECT_EQ(ForwardSubject("  fwd:Hello"), "  fwd:Hello");
  EXPECT_EQ(ForwardSubject("Re: Hello"), "Fwd: Re: Hello");
  EXPECT_EQ(ForwardSubject(""), "Fwd: ");
  EXPECT_EQ(ForwardSubject("Forward planning"), "Fwd: Forward planning");
}

TEST(InboxForward, HeadersThenText) {
  auto d = BuildForward(Original());
  EXPECT_EQ(d.subject, "Fwd: Devis <urgent> & co");
  EXPECT_EQ(d.text,
            "---------- Forwarded message ----------\n"
            "From: Zoë <zoe@example.org>\n"
            "Date: Mon, 02 Mar 2026 10:00 UTC\n"
            "Subject: Devis <urgent> & co\n"
            "To: support@alpha.example, Bob <bob@example.org>\n"
            "Cc: Carol <carol@example.org>\n"
            "\n"
            "Line one\n<script>x()</script>\n");
  EXPECT_EQ(d.html.find("<script>"), std::string::npos);
  EXPECT_NE(d.html.find("&lt;script&gt;x()&lt;/script&gt;<br>"), std::string::npos) << d.html;
  EXPECT_NE(d.html.find("Zoë &lt;zoe@example.org&gt;"), std::string::npos) << d.html;
}

TEST(InboxForward, AnHtmlOnlyMessageIsForwardedAsText) {
  auto m = Original();
  m.text.clear();
  m.html = "<html><body><p>Voir la <b>facture</b></p><script>steal()</script></body></html>";
  m.sent_at.reset();
  m.cc.clear();
  auto d = BuildForward(m);
  EXPECT_NE(d.text.find("Voir la facture"), std::string::npos) << d.text;
  EXPECT_EQ(d.text.find("<b>"), std::string::npos) << d.text;
  EXPECT_EQ(d.text.find("Date:"), std::string::npos);
  EXPECT_EQ(d.text.find("Cc:"), std::string::npos);
  EXPECT_EQ(d.html.find("<b>"), std::string::npos);
  EXPECT_EQ(d.html.find("<script>"), std::string::npos);
}

TEST(InboxReplyBodies, TheQuoteGoesUnderTheText) {
  std::string html = "<p>Thanks</p>", text = "Thanks";
  AppendQuote(html, text, "Zoë wrote:\n> a <b>\n");
  EXPECT_EQ(text, "Thanks\n\nZoë wrote:\n> a <b>\n");
  EXPECT_EQ(html, "<p>Thanks</p>\n<blockquote type=\"cite\">Zoë wrote:<br>\n&gt; a &lt;b&gt;<br>\n</blockquote>\n");
  std::string empty_html, only_text = "Hi\n";
  AppendQuote(empty_html, only_text, "> q\n");
  EXPECT_EQ(empty_html, "") << "a body the caller left empty stays empty";
  EXPECT_EQ(only_text, "Hi\n\n> q\n");
}

TEST(InboxReplyBodies, Bracketed) {
  EXPECT_EQ(Bracketed("a@b"), "<a@b>");
  EXPECT_EQ(Bracketed("<a@b>"), "<a@b>");
  EXPECT_EQ(Bracketed(""), "");
}

}  // namespace
}  // namespace poste::inbox
