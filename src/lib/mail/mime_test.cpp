#include "lib/mail/mime.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "lib/crypto/encoding.hpp"
#include "lib/mail/entities.hpp"
#include "lib/mail/mime_detail.hpp"
#include "lib/mail/mime_parse.hpp"
#include "lib/mail/testing/wire_checks.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {
namespace {

using testing::ExpectWireSafe;

using namespace std::chrono_literals;

OutgoingMessage Basic() {
  OutgoingMessage m;
  m.from = {"Zoë Sender", "zoe@example.com"};
  m.to = {{"Ana Ünicode", "ana@example.org"}, {"", "bob@example.net"}};
  m.cc = {{"Carl", "carl@example.org"}};
  m.bcc = {{"Secret", "hidden@example.org"}};
  m.reply_to = Mailbox{"Support", "support@example.com"};
  m.subject = "Hello, world";
  m.text = "Hi there.\n";
  m.html = "<p>Hi there.</p>";
  m.date = std::chrono::system_clock::time_point(1700000000s);
  return m;
}

std::string HeaderBlock(const std::string& bytes) { return bytes.substr(0, bytes.find("\r\n\r\n")); }

std::vector<FieldError> BuildErrors(const OutgoingMessage& m) {
  try {
    BuildMessage(m);
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 422);
    return e.fields();
  }
  return {};
}

TEST(MimeBuild, WritesTheStructuralHeaders) {
  auto built = BuildMessage(Basic());
  ExpectWireSafe(built.bytes);
  std::string head = HeaderBlock(built.bytes);
  EXPECT_NE(head.find("MIME-Version: 1.0"), std::string::npos);
  EXPECT_NE(head.find("Date: Tue, 14 Nov 2023 22:13:20 +0000"), std::string::npos) << head;
  EXPECT_NE(head.find("Message-Id: " + built.message_id), std::string::npos) << head;
  EXPECT_TRUE(built.message_id.ends_with("@example.com>")) << built.message_id;
  EXPECT_NE(head.find("Content-Type: multipart/alternative"), std::string::npos);
  EXPECT_NE(head.find("Reply-To: Support <support@example.com>"), std::string::npos) << head;
  EXPECT_EQ(head.find("hidden@example.org"), std::string::npos);  // Bcc is envelope only
  EXPECT_EQ(head.find("Bcc"), std::string::npos);
  EXPECT_EQ(EnvelopeRecipients(Basic()),
            (std::vector<std::string>{"ana@example.org", "bob@example.net", "carl@example.org", "hidden@example.org"}));
}

TEST(MimeBuild, RoundTripsThroughTheParser) {
  OutgoingMessage m = Basic();
  m.subject = "Réunion: 日本語の件名 — très long sujet pour vérifier le pliage des en-têtes encodés en UTF-8";
  m.text = "Bonjour Ana,\r\nligne deux\rligne trois\n";
  m.html = "<p>Bonjour <b>Ana</b> — <img src=\"cid:logo@poste\"></p>";
  m.in_reply_to = "<parent@example.org>";
  m.references = {"root@example.org", "<parent@example.org>"};
  m.headers = {{"X-Campaign", "spring-2026 ✓"}};
  m.attachments = {{"résumé été.pdf", "application/pdf", std::string("%PDF-1.4\0\x01\xff binary", 18), "", ""},
                   {"logo.png", "image/png", "\x89PNG\r\n\x1a\n", "", "logo@poste"}};
  // As long as a real signed token: GMime alone would fold it into unreadable encoded words.
  m.list_unsubscribe_url =
      "https://example.com/u/AQAAAAAAAAABAAAAAAAAAAFjYW1wLWYyNmQ3MmZhN2QtMzlAZXhhbXBsZS5jb23YJB-0Fgo";
  m.list_unsubscribe_mailto = "mailto:unsub@example.com?subject=unsubscribe";
  auto built = BuildMessage(m);
  ExpectWireSafe(built.bytes);
  std::string head = HeaderBlock(built.bytes);
  EXPECT_NE(head.find("Content-Type: multipart/mixed"), std::string::npos) << head;
  EXPECT_NE(built.bytes.find("Content-Type: multipart/related"), std::string::npos);
  EXPECT_NE(built.bytes.find("filename*=UTF-8''r%C3%A9sum%C3%A9"), std::string::npos) << built.bytes;
  EXPECT_EQ(built.bytes.find("iso-8859-1"), std::string::npos);
  EXPECT_NE(
      head.find("List-Unsubscribe: <" + m.list_unsubscribe_url + ">,\r\n <" + m.list_unsubscribe_mailto + ">\r\n"),
      std::string::npos)
      << head;
  EXPECT_EQ(head.find("=?us-ascii?"), std::string::npos) << head;
  EXPECT_NE(head.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), std::string::npos);

  ParsedMessage p = ParseMessage(built.bytes);
  ASSERT_TRUE(p.from);
  EXPECT_EQ(*p.from, m.from);
  EXPECT_EQ(p.to, m.to);
  EXPECT_EQ(p.cc, m.cc);
  EXPECT_EQ(p.reply_to, std::vector<Mailbox>{*m.reply_to});
  EXPECT_EQ(p.subject, m.subject);
  EXPECT_EQ("<" + p.message_id + ">", built.message_id);
  EXPECT_EQ(p.in_reply_to, "parent@example.org");
  EXPECT_EQ(p.references, (std::vector<std::string>{"root@example.org", "parent@example.org"}));
  EXPECT_EQ(p.date, 1700000000);
  EXPECT_EQ(p.text, "Bonjour Ana,\nligne deux\nligne trois\n");
  EXPECT_EQ(p.html, m.html);
  ASSERT_NE(p.Header("list-unsubscribe"), nullptr);
  EXPECT_NE(p.Header("list-unsubscribe")->find("<" + m.list_unsubscribe_url + ">"), std::string::npos);
  ASSERT_NE(p.Header("x-campaign"), nullptr);
  EXPECT_EQ(*p.Header("x-campaign"), "spring-2026 ✓");
  ASSERT_EQ(p.attachments.size(), 2u);
  EXPECT_EQ(p.attachments[0].filename, "logo.png");
  EXPECT_EQ(p.attachments[0].content_id, "logo@poste");
  EXPECT_TRUE(p.attachments[0].inline_part);
  EXPECT_EQ(p.attachments[0].bytes, m.attachments[1].bytes);
  EXPECT_EQ(p.attachments[1].filename, "résumé été.pdf");
  EXPECT_EQ(p.attachments[1].content_type, "application/pdf");
  EXPECT_EQ(p.attachments[1].bytes, m.attachments[0].bytes);
  EXPECT_FALSE(p.truncated);
}

TEST(MimeBuild, IdnDomainsAreWrittenAsPunycode) {
  OutgoingMessage m = Basic();
  m.to = {{"Büch", "info@bücher.example"}};
  auto built = BuildMessage(m);
  ExpectWireSafe(built.bytes);
  EXPECT_NE(HeaderBlock(built.bytes).find("info@xn--bcher-kva.example"), std::string::npos) << built.bytes;
  m.bcc = {{"", "INFO@bücher.example"}, {"", "x@пример.рф"}};
  EXPECT_EQ(EnvelopeRecipients(m),
            (std::vector<std::string>{"info@xn--bcher-kva.example", "carl@example.org", "x@xn--e1afmkfd.xn--p1ai"}));
}

TEST(MimeBuild, LongLinesAreEncodedUnder998) {
  OutgoingMessage m = Basic();
  m.text = std::string(2000, 'a') + "\nshort\n" + std::string(2000, 'b');
  m.html = "<p>" + std::string(5000, 'x') + "</p>";
  auto built = BuildMessage(m);
  ExpectWireSafe(built.bytes);
  EXPECT_NE(built.bytes.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  ParsedMessage p = ParseMessage(built.bytes);
  EXPECT_EQ(p.text, m.text);
  EXPECT_EQ(p.html, m.html);

  m.subject = std::string(899, 's');  // one long word: still one line under 998
  ExpectWireSafe(BuildMessage(m).bytes);
}

TEST(MimeBuild, PicksEncodingsPerPart) {
  OutgoingMessage m = Basic();
  m.html.clear();
  m.text = "plain ascii";
  EXPECT_NE(BuildMessage(m).bytes.find("Content-Transfer-Encoding: 7bit"), std::string::npos);
  m.text = "Привет, как дела?\nЭто текст на русском языке.\n";
  auto built = BuildMessage(m);
  EXPECT_NE(built.bytes.find("Content-Transfer-Encoding: base64"), std::string::npos);
  EXPECT_NE(built.bytes.find("charset=utf-8"), std::string::npos);
  EXPECT_EQ(ParseMessage(built.bytes).text, m.text);
  std::string encoded;  // base64 carries the canonical CRLF form
  for (char c : built.bytes.substr(built.bytes.find("\r\n\r\n") + 4)) {
    if (c != '\r' && c != '\n') encoded.push_back(c);
  }
  EXPECT_EQ(crypto::Base64Decode(encoded), "Привет, как дела?\r\nЭто текст на русском языке.\r\n");
  m.text = "Mostly ASCII with one é";
  EXPECT_NE(BuildMessage(m).bytes.find("quoted-printable"), std::string::npos);
}

// The choice the MIME writers made before ScanBody, over ToLf's text: the reference ScanBody must agree with.
detail::BodyEncoding EncodingOfLfText(std::string_view text) {
  std::size_t eight_bit = 0, line = 0, longest = 0;
  bool controls = false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      longest = std::max(longest, line);
      line = 0;
      continue;
    }
    ++line;
    if (u >= 0x80) ++eight_bit;
    if (u == 0 || u == '\r') controls = true;
  }
  longest = std::max(longest, line);
  if (eight_bit == 0 && !controls && longest <= kMaxLine - 2) return detail::BodyEncoding::k7bit;
  if (eight_bit * 5 < text.size()) return detail::BodyEncoding::kQuotedPrintable;
  return detail::BodyEncoding::kBase64;
}

TEST(MimeBodyScan, MarksEachByteOfAWordExactly) {
  // Every byte value at every position, among neighbours that could carry or borrow into it.
  for (unsigned value = 0; value < 256; ++value) {
    for (std::size_t at = 0; at < 8; ++at) {
      for (unsigned fill : {0x00u, 0x20u, 0x3du, 0x7fu, 0x80u, 0xffu, 0x61u}) {
        char block[8];
        std::memset(block, static_cast<int>(fill), sizeof block);
        block[at] = static_cast<char>(value);
        const std::uint64_t word = detail::bytes::Load(block);
        for (std::size_t k = 0; k < 8; ++k) {
          const auto b = static_cast<unsigned char>(block[k]);
          const std::uint64_t bit = std::uint64_t{0x80} << (8 * k);
          ASSERT_EQ((detail::bytes::Equal(word, '=') & bit) != 0, b == '=') << value << " " << at << " " << k;
          ASSERT_EQ((detail::bytes::Equal(word, 0) & bit) != 0, b == 0) << value << " " << at << " " << k;
          ASSERT_EQ((detail::bytes::High(word) & bit) != 0, b >= 0x80);
          ASSERT_EQ((detail::bytes::NotPrintable(word) & bit) != 0, b < 0x20 || b > 0x7e) << value << " " << k;
        }
        const std::uint64_t equals = detail::bytes::Equal(word, static_cast<unsigned char>(value));
        ASSERT_NE(equals, 0u);
        ASSERT_LE(detail::bytes::FirstMarked(equals), at);
      }
    }
  }
}

TEST(MimeBodyScan, AgreesWithIsValidUtf8AndTheEncodingOfTheLfText) {
  std::mt19937 rng(5);
  const std::vector<std::string> pieces = {"a",
                                           "plain words ",
                                           "\n",
                                           "\r",
                                           "\r\n",
                                           "\n\r",
                                           "é",
                                           "Привет",
                                           "😀",
                                           std::string(1, '\0'),
                                           "\x01",
                                           "\xff",
                                           "\xc3",
                                           "\xe2\x82",
                                           "\xed\xa0\x80",
                                           "\xf4\x90\x80\x80",
                                           "\xc0\xaf",
                                           std::string(990, 'x'),
                                           std::string(996, 'y'),
                                           std::string(997, 'z'),
                                           "12345678"};
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (std::size_t k = rng() % 12; k > 0; --k) text += pieces[rng() % pieces.size()];
    const auto scan = detail::ScanBody(text);
    ASSERT_EQ(scan.valid_utf8, validate::IsValidUtf8(text)) << ::testing::PrintToString(text);
    ASSERT_EQ(scan.encoding, EncodingOfLfText(ToLf(text))) << ::testing::PrintToString(text);
  }
  // Line lengths around the limit, with each kind of line end (CRLF counts as one character once ToLf'd).
  for (const char* end : {"\n", "\r", "\r\n"}) {
    EXPECT_EQ(detail::ScanBody(std::string(996, 'a') + end + "b").encoding, detail::BodyEncoding::k7bit);
    EXPECT_EQ(detail::ScanBody(std::string(997, 'a') + end + "b").encoding, detail::BodyEncoding::kQuotedPrintable);
  }
  EXPECT_EQ(detail::ScanBody("").encoding, detail::BodyEncoding::k7bit);
  EXPECT_EQ(detail::ScanBody(std::string("a\0b", 3)).encoding, detail::BodyEncoding::kQuotedPrintable);
  EXPECT_EQ(detail::ScanBody("Привет").encoding, detail::BodyEncoding::kBase64);
  EXPECT_FALSE(detail::ScanBody("ok \xff").valid_utf8);
}

TEST(MimeBuild, DerivesTheTextPartFromHtml) {
  OutgoingMessage m = Basic();
  m.text.clear();
  m.html = "<h1>Title</h1><p>See <a href=\"https://example.com\">this</a>.</p>";
  ParsedMessage p = ParseMessage(BuildMessage(m).bytes);
  EXPECT_EQ(p.text, "Title\n\nSee this (https://example.com).\n");
}

TEST(MimeBuild, ReadsAttachmentsFromFiles) {
  auto path = std::filesystem::temp_directory_path() / ("poste_mime_" + std::to_string(::getpid()) + ".bin");
  {
    std::ofstream f(path, std::ios::binary);
    f << std::string(3000, '\x07') << "end";
  }
  OutgoingMessage m = Basic();
  m.attachments = {{"data.bin", "application/octet-stream", "", path.string(), ""}};
  ParsedMessage p = ParseMessage(BuildMessage(m).bytes);
  std::filesystem::remove(path);
  ASSERT_EQ(p.attachments.size(), 1u);
  EXPECT_EQ(p.attachments[0].bytes, std::string(3000, '\x07') + "end");

  m.attachments[0].path = "/nonexistent/poste/file";
  auto errors = BuildErrors(m);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "attachments[0].path");
}

TEST(MimeBuild, RefusesHeaderInjectionAndBadFields) {
  OutgoingMessage m = Basic();
  m.subject = "Hi\r\nBcc: victim@example.com";
  m.from.name = "Eve\nX-Evil: 1";
  m.to[1].email = "bob@example.net\r\nBcc: victim@example.com";
  m.headers = {{"X-Ok", "fine\r\nBcc: v@example.com"}, {"Content-Type", "text/evil"}, {"Bad Name", "x"}};
  m.attachments = {{"a\r\nb.txt", "text/plain", "x", "", ""},
                   {"b.txt", "multipart/mixed", "x", "", ""},
                   {"c.txt", "text plain", "x", "", "<bad>"}};
  m.in_reply_to = "not an id";
  m.references = {"ok@example.org", "bad\r\n@x"};
  m.list_unsubscribe_url = "javascript:alert(1)";
  m.list_unsubscribe_mailto = "mailto:a@b.c>\r\nBcc: x";
  std::vector<std::string> fields;
  for (const auto& e : BuildErrors(m)) fields.push_back(e.field + ":" + e.code);
  std::vector<std::string> expected = {"from.name:header_injection",
                                       "to[1].email:header_injection",
                                       "subject:header_injection",
                                       "in_reply_to:invalid_message_id",
                                       "references[1]:invalid_message_id",
                                       "headers[0].value:header_injection",
                                       "headers[1].name:reserved_header",
                                       "headers[2].name:invalid_header_name",
                                       "list_unsubscribe_url:invalid_url",
                                       "list_unsubscribe_mailto:header_injection",
                                       "attachments[0].filename:header_injection",
                                       "attachments[1].content_type:invalid_content_type",
                                       "attachments[2].content_type:invalid_content_type",
                                       "attachments[2].content_id:invalid_content_id"};
  EXPECT_EQ(fields, expected);

  OutgoingMessage none = Basic();
  none.to.clear();
  none.cc.clear();
  none.bcc.clear();
  none.html = "\xff";
  fields.clear();
  for (const auto& e : BuildErrors(none)) fields.push_back(e.field + ":" + e.code);
  EXPECT_EQ(fields, (std::vector<std::string>{"to:required", "html:invalid_utf8"}));
}

TEST(MimeBuild, BuildsConcurrently) {
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto built = BuildMessage(Basic());
        if (ParseMessage(built.bytes).subject != "Hello, world") ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace poste::mail
