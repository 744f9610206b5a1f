#include "lib/mail/mime_stencil.hpp"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lib/mail/entities.hpp"
#include "lib/mail/mime_detail.hpp"
#include "lib/mail/mime_parse.hpp"
#include "lib/mail/testing/wire_checks.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {
namespace {

using namespace std::chrono_literals;
using testing::ExpectWireSafe;

OutgoingMessage Common() {
  OutgoingMessage m;
  m.from = {"Zoë Sender", "news@example.com"};
  m.reply_to = Mailbox{"Support", "support@example.com"};
  m.headers = {{"X-Poste-Campaign", "42"}};
  m.date = std::chrono::system_clock::time_point(1700000000s);
  return m;
}

// `per` with the common fields, as BuildMessage takes it.
OutgoingMessage Whole(OutgoingMessage per) {
  const auto common = Common();
  per.from = common.from;
  per.reply_to = common.reply_to;
  per.headers = common.headers;
  per.date = common.date;
  return per;
}

// A stencil's message reads back exactly as BuildMessage's does: same headers, same decoded bodies.
void ExpectSameAsBuildMessage(const MessageStencil& stencil, const OutgoingMessage& per) {
  const auto fast = stencil.Build(per);
  const auto reference = BuildMessage(Whole(per));
  ExpectWireSafe(fast.bytes);
  EXPECT_EQ(fast.message_id, reference.message_id);
  const auto a = ParseMessage(fast.bytes);
  const auto b = ParseMessage(reference.bytes);
  ASSERT_TRUE(a.from && b.from);
  EXPECT_EQ(a.from->name, b.from->name);
  EXPECT_EQ(a.from->email, b.from->email);
  ASSERT_EQ(a.to.size(), b.to.size());
  for (std::size_t i = 0; i < a.to.size(); ++i) {
    EXPECT_EQ(a.to[i].name, b.to[i].name);
    EXPECT_EQ(a.to[i].email, b.to[i].email);
  }
  ASSERT_EQ(a.reply_to.size(), 1u);
  EXPECT_EQ(a.reply_to[0].email, "support@example.com");
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.subject, per.subject);
  EXPECT_EQ(a.date, b.date);
  EXPECT_EQ(a.message_id, b.message_id);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.html, b.html);
  for (const char* name : {"List-Unsubscribe", "List-Unsubscribe-Post", "X-Poste-Campaign", "MIME-Version"}) {
    const auto* x = a.Header(name);
    const auto* y = b.Header(name);
    ASSERT_EQ(x == nullptr, y == nullptr) << name;
    if (x) {
      EXPECT_EQ(*x, *y) << name;
    }
  }
  EXPECT_TRUE(a.attachments.empty());
}

OutgoingMessage Recipient(std::string name, std::string email, std::string subject, std::string html) {
  OutgoingMessage m;
  m.to = {{std::move(name), std::move(email)}};
  m.subject = std::move(subject);
  m.html = std::move(html);
  m.message_id = "c1.7@example.com";
  m.list_unsubscribe_url = "https://example.com/u/" + std::string(120, 'T');
  m.list_unsubscribe_mailto = "mailto:unsubscribe@example.com?subject=unsubscribe";
  return m;
}

TEST(MessageStencil, ReadsBackAsBuildMessageDoes) {
  const MessageStencil stencil(Common());
  ExpectSameAsBuildMessage(stencil, Recipient("Reader 1", "reader1@example.org", "News for Reader 1",
                                              "<h1>Hello Reader 1</h1><p>The news.</p>"));
  // Non-ASCII names and subjects (encoded words), long enough to be folded.
  ExpectSameAsBuildMessage(
      stencil,
      Recipient("Réné \"the\" Dupont-Lajoie de la Tour d'Auvergne et d'ailleurs, encore plus long", "rene@example.org",
                "Nouvelles pour Réné, avec un sujet assez long pour être replié sur plusieurs lignes — 😀 "
                "sans aucun doute possible ni autre chose, et encore une phrase",
                "<p>Bonjour Réné — ça va ?</p>"));
  // Quoted-printable (accents, a line over 998 characters), base64 (mostly non-Latin), 7bit; dots and
  // "From " at line starts; CR and CRLF in the bodies.
  auto m = Recipient("", "x@example.org", "Subject", "<p>" + std::string(3000, 'a') + "é</p>\r\n.dot\rFrom me");
  m.text = "line one\r\n.line two\n\nFrom here";
  ExpectSameAsBuildMessage(stencil, m);
  ExpectSameAsBuildMessage(stencil, Recipient("Имя", "y@example.org", "Тема письма", "<p>Привет, мир! Как дела?</p>"));
  // Text only; no unsubscribe links; several recipients and a Cc.
  OutgoingMessage plain;
  plain.to = {{"A", "a@example.org"}, {"B", "b@example.org"}};
  plain.cc = {{"C", "c@example.org"}};
  plain.subject = "Plain";
  plain.text = "Just text.\n";
  plain.message_id = "c1.8@example.com";
  ExpectSameAsBuildMessage(stencil, plain);
}

TEST(MessageStencil, GeneratesMessageIdsOnTheFromDomain) {
  const MessageStencil stencil(Common());
  auto m = Recipient("", "x@example.org", "S", "<p>x</p>");
  m.message_id.clear();
  const auto a = stencil.Build(m);
  const auto b = stencil.Build(m);
  EXPECT_NE(a.message_id, b.message_id);
  EXPECT_NE(a.message_id.find("@example.com>"), std::string::npos) << a.message_id;
}

TEST(MessageStencil, RefusesWhatBuildMessageRefuses) {
  const MessageStencil stencil(Common());
  auto expect_field = [&](OutgoingMessage m, const std::string& field) {
    try {
      stencil.Build(m);
      ADD_FAILURE() << "built: " << field;
    } catch (const AppError& e) {
      EXPECT_EQ(e.status(), 422);
      ASSERT_FALSE(e.fields().empty());
      EXPECT_EQ(e.fields().front().field, field);
    }
  };
  expect_field(Recipient("", "x@example.org", "Hi\r\nBcc: victim@example.org", "<p>x</p>"), "subject");
  expect_field(Recipient("Evil\r\nBcc: v@example.org", "x@example.org", "S", "<p>x</p>"), "to[0].name");
  expect_field(Recipient("", "not an address", "S", "<p>x</p>"), "to[0].email");
  expect_field(Recipient("", "x@example.org", "S", "<p>\xff\xfe</p>"), "html");
  auto m = Recipient("", "x@example.org", "S", "<p>x</p>");
  m.list_unsubscribe_url = "https://example.com/u/a>\r\nBcc: v@example.org";
  expect_field(m, "list_unsubscribe_url");
  m = Recipient("", "x@example.org", "S", "<p>x</p>");
  m.to.clear();
  expect_field(m, "to");
  // A subject too long to be written (one word longer than a header line) is refused, not sent broken.
  expect_field(Recipient("", "x@example.org", std::string(1200, 'x'), "<p>x</p>"), "subject");

  auto with_file = Common();
  with_file.attachments.push_back({"a.txt", "text/plain", "x", "", ""});
  EXPECT_THROW(MessageStencil{with_file}, AppError);
  auto bad_from = Common();
  bad_from.from.email = "nobody";
  EXPECT_THROW(MessageStencil{bad_from}, AppError);
}

TEST(MessageStencil, ReportsEveryBadFieldInValidateMessagesOrder) {
  const MessageStencil stencil(Common());
  OutgoingMessage m = Recipient("Bad\nName", "not an address", "Sub\rject", "<p>\xff</p>");
  m.cc = {{"", "also bad"}};
  m.text = "\xc0\xaf";
  m.message_id = "no brackets allowed <>";
  m.list_unsubscribe_url = "ftp://example.com/u";
  m.list_unsubscribe_mailto = "mailto:a b@example.com";
  try {
    stencil.Build(m);
    ADD_FAILURE() << "built";
  } catch (const AppError& e) {
    std::vector<std::string> fields;
    for (const auto& f : e.fields()) fields.push_back(f.field + " " + f.code);
    EXPECT_EQ(fields,
              (std::vector<std::string>{
                  "to[0].email invalid_email", "to[0].name header_injection", "cc[0].email invalid_email",
                  "subject header_injection", "message_id invalid_message_id", "list_unsubscribe_url invalid_url",
                  "list_unsubscribe_mailto invalid_url", "html invalid_utf8", "text invalid_utf8"}));
  }
  m = Recipient("", "x@example.org", "S", "<p>x</p>");
  m.to.assign(kMaxRecipients + 1, Mailbox{"", "x@example.org"});
  try {
    stencil.Build(m);
    ADD_FAILURE() << "built";
  } catch (const AppError& e) {
    EXPECT_EQ(e.fields().front().field, "to");
    EXPECT_EQ(e.fields().front().code, "too_many");
  }
}

// What the stencil wrote before it had its own writers, as references: GMime's encoders and header writers,
// every line end then CRLF.
std::string Crlf(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto lf = text.find('\n', start);
    if (lf == std::string_view::npos) {
      out.append(text.substr(start));
      break;
    }
    std::size_t end = lf;
    if (end > start && text[end - 1] == '\r') --end;
    out.append(text.substr(start, end - start)).append("\r\n");
    start = lf + 1;
  }
  return out;
}

std::string GMimeBody(std::string_view text, detail::BodyEncoding encoding) {
  std::string body = ToLf(text);
  if (encoding == detail::BodyEncoding::k7bit) return Crlf(body);
  if (encoding == detail::BodyEncoding::kBase64) body = Crlf(body);
  InitMime();
  GMimeEncoding state;
  g_mime_encoding_init_encode(&state, encoding == detail::BodyEncoding::kBase64
                                          ? GMIME_CONTENT_ENCODING_BASE64
                                          : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  std::string out(g_mime_encoding_outlen(&state, body.size()), '\0');
  out.resize(g_mime_encoding_flush(&state, body.data(), body.size(), out.data()));
  return Crlf(out);
}

std::string GMimeTextHeader(std::string_view name, const std::string& value) {
  char* encoded = g_mime_utils_header_encode_text(detail::FormatOptions(), value.c_str(), "utf-8");
  const std::string line = std::string(name) + ": " + encoded;
  g_free(encoded);
  char* folded = g_mime_utils_unstructured_header_fold(nullptr, detail::FormatOptions(), line.c_str());
  std::string out = Crlf(folded);
  g_free(folded);
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string GMimeAddressHeader(std::string_view name, const std::vector<Mailbox>& boxes) {
  InternetAddressList* list = internet_address_list_new();
  for (const auto& box : boxes) {
    InternetAddress* address =
        internet_address_mailbox_new(box.name.empty() ? nullptr : box.name.c_str(), box.email.c_str());
    internet_address_set_charset(address, "utf-8");
    internet_address_list_add(list, address);
    g_object_unref(address);
  }
  GString* line = g_string_new(nullptr);
  g_string_append_len(line, name.data(), static_cast<gssize>(name.size()));
  g_string_append(line, ": ");
  internet_address_list_encode(list, detail::FormatOptions(), line);
  std::string out = Crlf(std::string_view(line->str, line->len));
  g_string_free(line, TRUE);
  g_object_unref(list);
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

// Bodies of every shape the encoders must agree on: words, long lines, blanks before line ends and at the end,
// dots and "From " at line starts, '=', CR / LF / CRLF, tabs, controls and NUL, accents, other scripts, emoji,
// invalid UTF-8, raw 8-bit bytes.
std::string RandomBody(std::mt19937& rng, std::size_t pieces) {
  static const std::vector<std::string> kPieces = {"a",
                                                   "word",
                                                   "Lorem ipsum dolor sit amet,",
                                                   " ",
                                                   "  ",
                                                   "\t",
                                                   "\n",
                                                   "\r\n",
                                                   "\r",
                                                   "\r\r\n",
                                                   "\n\r",
                                                   "=",
                                                   "==",
                                                   "=20",
                                                   ".",
                                                   "..",
                                                   "\n.\n",
                                                   "From ",
                                                   "é",
                                                   "ü",
                                                   "Привет",
                                                   "中文",
                                                   "😀",
                                                   "\xC2\xA0",
                                                   "<p>",
                                                   "&amp;",
                                                   "?",
                                                   "_",
                                                   "\x01",
                                                   std::string(1, '\0'),
                                                   "\x7f",
                                                   "\xff",
                                                   "\xc3",
                                                   "\xe2\x82",
                                                   " \n",
                                                   "\t\n",
                                                   " \r\n",
                                                   "\t\r",
                                                   "=\n",
                                                   std::string(70, 'x'),
                                                   std::string(74, 'y'),
                                                   std::string(75, 'z'),
                                                   std::string(76, 'w'),
                                                   std::string(200, 'v'),
                                                   std::string(73, ' '),
                                                   "https://example.com/a?b=c&d=e"};
  std::string s;
  for (std::size_t i = 0; i < pieces; ++i) {
    if (rng() % 5 == 0) {
      s += static_cast<char>(rng() % 256);
    } else {
      s += kPieces[rng() % kPieces.size()];
    }
  }
  return s;
}

TEST(MessageStencilBody, EncodesAsGMimeDidOnManyInputs) {
  std::mt19937 rng(20261122);
  for (int i = 0; i < 6000; ++i) {
    const std::string text = RandomBody(rng, rng() % (i % 10 == 0 ? 800 : 60));
    for (auto encoding :
         {detail::BodyEncoding::k7bit, detail::BodyEncoding::kQuotedPrintable, detail::BodyEncoding::kBase64}) {
      std::string out = "head:";
      detail::AppendBody(out, text, encoding);
      ASSERT_EQ(out, "head:" + GMimeBody(text, encoding))
          << static_cast<int>(encoding) << " of " << ::testing::PrintToString(text);
    }
  }
}

TEST(MessageStencilBody, QuotedPrintableFollowsRfc2045) {
  auto qp = [](std::string_view text) {
    std::string out;
    detail::AppendBody(out, text, detail::BodyEncoding::kQuotedPrintable);
    return out;
  };
  EXPECT_EQ(qp(""), "");
  EXPECT_EQ(qp("a=b\n"), "a=3Db\r\n");
  EXPECT_EQ(qp("été"), "=C3=A9t=C3=A9");
  // A space or tab before a line end or at the very end is encoded; one inside a line is not.
  EXPECT_EQ(qp("a b \nc\t\r\nd "), "a b=20\r\nc=09\r\nd=20=\r\n");
  // Lines of at most 76 characters, the soft break's '=' included.
  const std::string long_line(200, 'x');
  const std::string encoded = qp(long_line + "\n" + std::string(100, '=') + "\n");
  std::size_t start = 0;
  for (auto end = encoded.find("\r\n"); end != std::string::npos; end = encoded.find("\r\n", start)) {
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
  std::string decoded;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded.compare(i, 3, "=\r\n") == 0) {
      i += 2;
    } else if (encoded[i] == '=') {
      decoded += static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += encoded[i];
    }
  }
  EXPECT_EQ(decoded, long_line + "\r\n" + std::string(100, '=') + "\r\n");
  // Line ends of any kind become CRLF; a lone CR is a line end too.
  EXPECT_EQ(qp("a\rb\r\nc\nd"), "a\r\nb\r\nc\r\nd");
  // Controls and NUL are escaped, so the part stays 7-bit and single-line safe.
  EXPECT_EQ(qp(std::string("\0\x01\x7f", 3)), "=00=01=7F");
}

TEST(MessageStencilBody, HostileBodiesStayWireSafe) {
  const MessageStencil stencil(Common());
  for (const std::string& html :
       {std::string(1 << 20, '='), std::string(1 << 20, ' '), std::string(300000, '\r'), std::string(100000, '\0'),
        std::string(2000, ' ') + "\n" + std::string(2000, '\t'), std::string(50000, '\xff'),
        std::string("\r\n.\r\n") + std::string(5000, '.') + "\r\n.\r\n"}) {
    auto m = Recipient("", "x@example.org", "S", "<p>x</p>");
    m.text = html;
    if (!validate::IsValidUtf8(html)) {
      EXPECT_THROW(stencil.Build(m), AppError);
      continue;
    }
    const auto built = stencil.Build(m);
    ExpectWireSafe(built.bytes);
    EXPECT_EQ(ParseMessage(built.bytes).text, ToLf(html));
  }
}

TEST(MessageStencilHeaders, WritesHeadersAsGMimeDidOnManyInputs) {
  std::mt19937 rng(7);
  auto pick = [&](std::string_view alphabet, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
    return s;
  };
  const std::vector<std::string> names = {"Subject", "X-Poste-Campaign", "X", "X-A-Rather-Long-Header-Name-Indeed"};
  const std::vector<std::string> values = {"",      "Hello",  "Ünïcode",   "=?utf-8?q?x?=",      "a  b",
                                           " lead", "trail ", "tab\there", std::string(77, 'x'), std::string(300, 'y')};
  for (int i = 0; i < 20000; ++i) {
    const std::string& name = names[rng() % names.size()];
    std::string value = rng() % 4 == 0 ? values[rng() % values.size()]
                        : rng() % 2    ? pick("abcXYZ09  !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", rng() % 90)
                                       : pick("ab é\t=?", rng() % 40);
    std::string out;
    detail::AppendTextHeader(out, name, value);
    ASSERT_EQ(out, GMimeTextHeader(name, value)) << name << ": " << value;
  }
  const std::vector<std::string> emails = {
      "user@example.org",   "User.Name+tag@Example.ORG", "x@bücher.de", "a@xn--bcher-kva.de",
      "a@XN--bcher-kva.de", "o'neil@example.com",        "a@b.c",       "q@ab--cd.example",
      "n@EXAMPLE.com"};
  for (int i = 0; i < 20000; ++i) {
    std::vector<Mailbox> boxes;
    for (std::size_t k = rng() % 8 == 0 ? 1 + rng() % 3 : 1; k > 0; --k) {
      Mailbox box;
      switch (rng() % 4) {
        case 0:
          box.name = pick("abcXYZ09 !#$%&'*+-/=?^_`{|}~", rng() % 70);
          break;
        case 1:
          box.name = pick("ab .,()\"<>@;:[]\\ =?é", rng() % 30);
          break;
        case 2:
          box.name = rng() % 2 ? "Chloé" : "Ann O'Neil";
          break;
        default:
          break;
      }
      box.email = rng() % 2 ? emails[rng() % emails.size()]
                            : pick("abcXYZ09!#$%&'*+-/=?^_`{|}~", 1 + rng() % 20) + "@" +
                                  pick("abcXYZ09-", 1 + rng() % 15) + "." + pick("abcxn-", 2 + rng() % 5);
      boxes.push_back(std::move(box));
    }
    const std::string name = rng() % 2 ? "To" : "Reply-To";
    std::string out;
    detail::AppendAddressHeader(out, name, boxes);
    ASSERT_EQ(out, GMimeAddressHeader(name, boxes)) << boxes.front().name << " <" << boxes.front().email << ">";
  }
  std::string none;
  detail::AppendAddressHeader(none, "Cc", {});
  EXPECT_EQ(none, "");
}

TEST(MessageStencil, BuildsConcurrently) {
  const MessageStencil stencil(Common());
  std::vector<std::thread> threads;
  std::vector<std::string> subjects(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto built = stencil.Build(Recipient("Réader", "r@example.org", "Sujet " + std::to_string(t), "<p>é</p>"));
        subjects[t] = ParseMessage(built.bytes).subject;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(subjects[t], "Sujet " + std::to_string(t));
}

}  // namespace
}  // namespace poste::mail
