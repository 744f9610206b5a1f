#include "lib/mail/mime_parse.hpp"

#include <gtest/gtest.h>

#include <string>

#include "lib/error.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {
namespace {

TEST(MimeParse, ReadsAForeignMessageWithCharsetsAndEncodedWords) {
  std::string raw =
      "From: =?iso-8859-1?q?Andr=E9?= <andre@example.fr>\n"
      "To: undisclosed-recipients:;, Team: a@example.org, \"B, b\" <b@example.org>;\n"
      "Subject: =?utf-8?b?5pel5pys6Kqe?= and =?iso-8859-1?q?caf=E9?=\n"
      "Message-ID: <m1@example.fr>\n"
      "In-Reply-To: <p1@example.fr> (comment)\n"
      "References: <r1@example.fr>\n <p1@example.fr>\n"
      "Date: Sun, 22 Nov 2026 10:00:00 +0100\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"XX\"\n"
      "\n"
      "preamble\n"
      "--XX\n"
      "Content-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "Caf=E9 cr=E8me=\n"
      " soft break\n"
      "--XX\n"
      "Content-Type: application/octet-stream\n"
      "Content-Disposition: attachment; filename*=utf-8''%E6%97%A5.bin\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "AAEC/w==\n"
      "--XX--\n";
  ParsedMessage p = ParseMessage(raw);
  ASSERT_TRUE(p.from);
  EXPECT_EQ(p.from->name, "André");
  EXPECT_EQ(p.from->email, "andre@example.fr");
  EXPECT_EQ(p.to, (std::vector<Mailbox>{{"", "a@example.org"}, {"B, b", "b@example.org"}}));
  EXPECT_EQ(p.subject, "日本語 and café");
  EXPECT_EQ(p.message_id, "m1@example.fr");
  EXPECT_EQ(p.in_reply_to, "p1@example.fr");
  EXPECT_EQ(p.references, (std::vector<std::string>{"r1@example.fr", "p1@example.fr"}));
  EXPECT_EQ(p.date, 1795338000);
  EXPECT_EQ(p.text, "Café crème soft break");  // the last line break belongs to the boundary
  ASSERT_EQ(p.attachments.size(), 1u);
  EXPECT_EQ(p.attachments[0].filename, "日.bin");
  EXPECT_EQ(p.attachments[0].bytes, std::string("\x00\x01\x02\xff", 4));
}

TEST(MimeParse, MalformedMessagesDoNotCrash) {
  const char* cases[] = {
      "",
      "\r\n\r\n",
      "not a message at all \x01\x02\xff",
      "Subject: no body",
      "Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\ntruncated part",
      "Content-Type: multipart/mixed\n\n--\nno boundary parameter\n--",
      "Content-Type: multipart/alternative; boundary=\"\"\n\n--\n\n--",
      "Content-Type: text/plain; charset=x-unknown-charset\n\nbytes \xe9\xff",
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n!!!not*base64###\n=====",
      "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n=ZZ=\n=4",
      "Subject: =?utf-8?b?invalid base64?= =?unknown?q?x?= =?utf-8?q?\xff?=\n\n",
      "From: <<<@>>>, \"unterminated\nTo: ,,,;;;@@@\n\n",
      "Content-Type: message/rfc822\n\nSubject: inner\nContent-Type: multipart/mixed; boundary=Q\n\n--Q\n",
      "Content-Type: multipart/mixed; boundary=A\n\n--A\nContent-Type: multipart/mixed; boundary=A\n\n--A\n--A--\n",
  };
  for (const char* raw : cases) {
    ParsedMessage p = ParseMessage(raw);
    EXPECT_TRUE(validate::IsValidUtf8(p.subject)) << raw;
    EXPECT_TRUE(validate::IsValidUtf8(p.text)) << raw;
    for (const auto& [name, value] : p.headers) EXPECT_TRUE(validate::IsValidUtf8(value)) << raw;
  }
  EXPECT_EQ(ParseMessage(cases[4]).text, "truncated part");
  EXPECT_EQ(ParseMessage(cases[7]).text.substr(0, 6), "bytes ");
}

TEST(MimeParse, DeepNestingHitsTheLimit) {
  std::string raw;
  const int kLevels = 10000;
  for (int i = 0; i < kLevels; ++i) {
    raw += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" + std::to_string(i) + "\n";
  }
  raw += "Content-Type: text/plain\n\ndeepest\n";
  ParsedMessage p = ParseMessage(raw);
  EXPECT_TRUE(p.truncated);
  EXPECT_TRUE(p.text.empty());

  // Messages inside messages: each message/rfc822 part is kept as bytes, not walked.
  std::string messages;
  for (int i = 0; i < kLevels; ++i)
    messages += "Subject: level " + std::to_string(i) + "\nContent-Type: message/rfc822\n\n";
  messages += "Subject: last\n\nbody\n";
  p = ParseMessage(messages);
  EXPECT_EQ(p.subject, "level 0");
  ASSERT_EQ(p.attachments.size(), 1u);
  EXPECT_EQ(p.attachments[0].content_type, "message/rfc822");
}

TEST(MimeParse, ManyPartsHitTheLimit) {
  std::string raw = "Content-Type: multipart/mixed; boundary=B\n\n";
  for (int i = 0; i < 2000; ++i) raw += "--B\nContent-Type: application/x-part\n\n" + std::to_string(i) + "\n";
  raw += "--B--\n";
  ParsedMessage p = ParseMessage(raw);
  EXPECT_TRUE(p.truncated);
  EXPECT_LT(p.attachments.size(), 500u);
  EXPECT_EQ(p.attachments[0].bytes, "0");
}

TEST(MimeParse, RefusesOversizedInput) {
  ParseLimits limits;
  limits.max_bytes = 100;
  try {
    ParseMessage(std::string(101, 'x'), limits);
    FAIL();
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 413);
  }
}

}  // namespace
}  // namespace poste::mail
