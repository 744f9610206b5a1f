#include "lib/mail/imap_response.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace poste::mail::imap {
namespace {

std::vector<Response> ReadAll(std::string_view bytes, ResponseLimits limits = {}, std::size_t chunk = 0) {
  ResponseReader reader(limits);
  std::vector<Response> out;
  if (chunk == 0) chunk = bytes.size();
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    reader.Feed(bytes.substr(i, chunk));
    while (auto r = reader.Next()) out.push_back(std::move(*r));
  }
  return out;
}

ErrorKind KindOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ImapError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no ImapError";
  return ErrorKind::kInvalid;
}

TEST(ImapResponseReader, SplitsTaggedUntaggedAndContinuation) {
  auto r = ReadAll("* OK ready\r\n+ go on\r\nP1 OK done\r\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[0].untagged());
  EXPECT_EQ(r[0].text, "OK ready");
  EXPECT_EQ(r[1].tag, "+");
  EXPECT_EQ(r[2].tag, "P1");
  EXPECT_EQ(ParseStatus(r[2].text).condition, "OK");
}

TEST(ImapResponseReader, ReadsLiteralsWhateverTheChunking) {
  const std::string body = "From: a@example.com\r\nSubject: x\r\n\r\n{5}\r\n* not a response\r\n";
  const std::string wire =
      "* 3 FETCH (UID 42 FLAGS (\\Seen) BODY[] {" + std::to_string(body.size()) + "}\r\n" + body + ")\r\nP2 OK\r\n";
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{7}, wire.size()}) {
    auto r = ReadAll(wire, {}, chunk);
    ASSERT_EQ(r.size(), 2u) << chunk;
    ASSERT_EQ(r[0].literals.size(), 1u);
    EXPECT_EQ(*r[0].literals[0].bytes, body);
    auto fetch = ParseFetch(r[0]);
    ASSERT_TRUE(fetch);
    EXPECT_EQ(fetch->seq, 3u);
    EXPECT_EQ(fetch->uid, 42u);
    EXPECT_EQ(fetch->flags, std::vector<std::string>{"\\Seen"});
    EXPECT_EQ(*fetch->body, body);
  }
}

TEST(ImapResponseReader, DropsALiteralOverTheLimitButStaysInStep) {
  ResponseLimits limits;
  limits.max_literal = 10;
  const std::string big(100, 'x');
  auto r = ReadAll("* 1 FETCH (UID 7 BODY[] {100}\r\n" + big + ")\r\n* 2 FETCH (UID 8 BODY[] {3}\r\nabc)\r\nP3 OK\r\n",
                   limits, 9);
  ASSERT_EQ(r.size(), 3u);
  auto first = ParseFetch(r[0]);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->body_dropped);
  EXPECT_FALSE(first->body);
  EXPECT_EQ(first->body_size, 100u);
  auto second = ParseFetch(r[1]);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second->body, "abc");
  EXPECT_EQ(r[2].tag, "P3");
}

TEST(ImapResponseReader, RefusesHostileSizes) {
  ResponseLimits limits;
  limits.max_line = 100;
  limits.max_declared_literal = 1000;
  EXPECT_EQ(KindOf([&] { ReadAll("* 1 FETCH (BODY[] {1001}\r\n", limits); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([&] { ReadAll("* 1 FETCH (BODY[] {99999999999999999999999}\r\n", limits); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([&] { ReadAll("* " + std::string(200, 'a') + "\r\n", limits); }), ErrorKind::kProtocol);
  // No newline yet, but already past the limit: refused without waiting for more.
  EXPECT_EQ(KindOf([&] { ReadAll("* " + std::string(200, 'a'), limits); }), ErrorKind::kProtocol);
  limits.max_literals = 2;
  EXPECT_EQ(KindOf([&] { ReadAll("* X {1}\r\na{1}\r\nb{1}\r\nc\r\n", limits); }), ErrorKind::kProtocol);
}

TEST(ImapResponseReader, RefusesLinesWithoutAValidTag) {
  EXPECT_EQ(KindOf([] { ReadAll("\r\n"); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([] { ReadAll(" OK\r\n"); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([] { ReadAll(std::string("P\x01 OK\r\n")); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([] { ParseStatus("MAYBE fine"); }), ErrorKind::kProtocol);
}

TEST(ImapResponseReader, AcceptsBareLineFeeds) {
  auto r = ReadAll("* OK hi\nP1 OK\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].text, "OK hi");
}

Response Untagged(std::string text) {
  Response r;
  r.tag = "*";
  r.text = std::move(text);
  return r;
}

TEST(ImapMailboxInfo, ReadsValidityNextAndExists) {
  auto info = ParseMailboxInfo({Untagged("FLAGS (\\Seen)"), Untagged("12 EXISTS"), Untagged("0 RECENT"),
                                Untagged("OK [UIDVALIDITY 1795317556] UIDs valid"),
                                Untagged("OK [UIDNEXT 13] Predicted next UID")});
  EXPECT_EQ(info.uidvalidity, 1795317556u);
  EXPECT_EQ(info.uidnext, 13u);
  EXPECT_EQ(info.exists, 12u);
}

TEST(ImapMailboxInfo, RefusesMissingOrMalformedNumbers) {
  EXPECT_EQ(KindOf([] { ParseMailboxInfo({Untagged("3 EXISTS")}); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([] { ParseMailboxInfo({Untagged("OK [UIDVALIDITY abc] x")}); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([] { ParseMailboxInfo({Untagged("OK [UIDVALIDITY -1] x")}); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([] { ParseMailboxInfo({Untagged("OK [UIDVALIDITY 4294967296] x")}); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([] { ParseMailboxInfo({Untagged("OK [UIDVALIDITY 0] x")}); }), ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([] {
              ParseMailboxInfo({Untagged("OK [UIDVALIDITY 5"), Untagged("1 EXISTS")});
            }),
            ErrorKind::kProtocol);
  EXPECT_EQ(KindOf([] {
              ParseMailboxInfo({Untagged("OK [UIDVALIDITY 5] x"), Untagged("many EXISTS")});
            }),
            ErrorKind::kProtocol);
}

TEST(ImapSearch, ReadsSortedUniqueUids) {
  EXPECT_EQ(ParseSearch({Untagged("SEARCH 5 3 9"), Untagged("SEARCH 3 12")}),
            (std::vector<std::uint32_t>{3, 5, 9, 12}));
  EXPECT_TRUE(ParseSearch({Untagged("SEARCH")}).empty());
  EXPECT_TRUE(ParseSearch({Untagged("OK fine")}).empty());
}

TEST(ImapSearch, RefusesNonNumericUids) {
  for (const char* bad :
       {"SEARCH 1 two 3", "SEARCH 0", "SEARCH -4", "SEARCH 99999999999", "SEARCH 1;DROP", "SEARCH 1 (MODSEQ 5)"}) {
    EXPECT_EQ(KindOf([&] { ParseSearch({Untagged(bad)}); }), ErrorKind::kProtocol) << bad;
  }
}

TEST(ImapFetch, ReadsQuotedBodiesNilAndUnknownItems) {
  auto data = ParseFetch(Untagged(
      R"(7 FETCH (X-GM-LABELS ("a b" c) UID 9 RFC822.SIZE 123 BODY[HEADER.FIELDS (SUBJECT)] "Subject: \"hi\"" FLAGS ()))"));
  ASSERT_TRUE(data);
  EXPECT_EQ(data->uid, 9u);
  EXPECT_EQ(data->size, 123u);
  EXPECT_EQ(*data->body, "Subject: \"hi\"");
  EXPECT_TRUE(data->flags.empty());
  auto nil = ParseFetch(Untagged("7 FETCH (UID 9 BODY[] NIL)"));
  ASSERT_TRUE(nil);
  EXPECT_FALSE(nil->body);
  EXPECT_FALSE(ParseFetch(Untagged("7 EXPUNGE")));
  EXPECT_FALSE(ParseFetch(Untagged("OK hello")));
}

TEST(ImapFetch, RefusesMalformedData) {
  for (const char* bad :
       {"x FETCH (UID 1)", "0 FETCH (UID 1)", "1 FETCH UID 1", "1 FETCH (UID one)", "1 FETCH (UID 1", "1 FETCH (UID)",
        "1 FETCH (UID 0)", "1 FETCH (FLAGS \\Seen)", "1 FETCH (BODY[] (a))", "1 FETCH (UID 1) trailing",
        "1 FETCH (BODY[] {5})", "1 FETCH (BODY[] \"unterminated)", "1 FETCH (UID 1))"}) {
    EXPECT_EQ(KindOf([&] { ParseFetch(Untagged(bad)); }), ErrorKind::kProtocol) << bad;
  }
  // Hostile nesting stops at a depth limit instead of exhausting the stack.
  EXPECT_EQ(KindOf([] { ParseFetch(Untagged("1 FETCH (X " + std::string(5000, '(') + std::string(5000, ')') + ")")); }),
            ErrorKind::kProtocol);
}

TEST(ImapQuote, EscapesAndRefusesInjection) {
  EXPECT_EQ(Quote("INBOX"), "\"INBOX\"");
  EXPECT_EQ(Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  for (std::string bad : {std::string("INBOX\r\nA1 DELETE INBOX"), std::string("a\nb"), std::string("x\0y", 3),
                          std::string("Bo\xC3\xAEte"), std::string(1001, 'a')}) {
    EXPECT_EQ(KindOf([&] { Quote(bad); }), ErrorKind::kInvalid);
  }
}

TEST(ImapNumber, ParsesOnlyPlainDigits) {
  EXPECT_EQ(ParseNumber32("0"), 0u);
  EXPECT_EQ(ParseNumber32("4294967295"), 4294967295u);
  EXPECT_FALSE(ParseNumber32("4294967296"));
  EXPECT_FALSE(ParseNumber32(""));
  EXPECT_FALSE(ParseNumber32("+1"));
  EXPECT_FALSE(ParseNumber32(" 1"));
  EXPECT_FALSE(ParseNumber32("00000000001"));
}

}  // namespace
}  // namespace poste::mail::imap
