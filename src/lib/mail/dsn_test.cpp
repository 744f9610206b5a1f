#include "lib/mail/dsn.hpp"

#include <gtest/gtest.h>

#include <string>

#include "lib/mail/mime_parse.hpp"

namespace poste::mail {
namespace {

// Shaped like Postfix's bounce: a text part, the delivery-status, and the returned headers.
const char* kPostfix =
    "Return-Path: <>\r\n"
    "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "To: news@poste.example\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    "\tboundary=\"4F2A81C0E2.1700000000/mx.example.org\"\r\n"
    "Message-Id: <20231114221320.0F2A81C0E2@mx.example.org>\r\n"
    "\r\n"
    "This is a MIME-encapsulated message.\r\n"
    "\r\n"
    "--4F2A81C0E2.1700000000/mx.example.org\r\n"
    "Content-Description: Notification\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "This is the mail system at host mx.example.org.\r\n"
    "\r\n"
    "I'm sorry to have to inform you that your message could not\r\n"
    "be delivered to one or more recipients.\r\n"
    "\r\n"
    "<nobody@example.org>: host mail.example.org[192.0.2.5] said: 550 5.1.1\r\n"
    "    <nobody@example.org>: Recipient address rejected: User unknown\r\n"
    "\r\n"
    "--4F2A81C0E2.1700000000/mx.example.org\r\n"
    "Content-Description: Delivery report\r\n"
    "Content-Type: message/delivery-status\r\n"
    "\r\n"
    "Reporting-MTA: dns; mx.example.org\r\n"
    "X-Postfix-Queue-ID: 4F2A81C0E2\r\n"
    "X-Postfix-Sender: rfc822; news@poste.example\r\n"
    "Arrival-Date: Tue, 14 Nov 2023 22:13:19 +0000 (UTC)\r\n"
    "\r\n"
    "Final-Recipient: rfc822; nobody@example.org\r\n"
    "Original-Recipient: rfc822;nobody@example.org\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n"
    "Remote-MTA: dns; mail.example.org\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address\r\n"
    "    rejected: User unknown\r\n"
    "\r\n"
    "Final-Recipient: rfc822; full@example.org\r\n"
    "Action: delayed\r\n"
    "Status: 4.2.2\r\n"
    "Diagnostic-Code: smtp; 452 4.2.2 Mailbox full\r\n"
    "\r\n"
    "--4F2A81C0E2.1700000000/mx.example.org\r\n"
    "Content-Description: Undelivered Message Headers\r\n"
    "Content-Type: text/rfc822-headers\r\n"
    "\r\n"
    "From: News <news@poste.example>\r\n"
    "To: nobody@example.org\r\n"
    "Subject: November news\r\n"
    "Message-ID:\r\n"
    " <campaign-7.42@poste.example>\r\n"
    "\r\n"
    "--4F2A81C0E2.1700000000/mx.example.org--\r\n";

// Shaped like Exim's RFC 3464 report, with the whole message returned as message/rfc822.
const char* kExim =
    "From: Mail Delivery System <Mailer-Daemon@exim.example.net>\r\n"
    "To: sender@poste.example\r\n"
    "Subject: Mail delivery failed: returning message to sender\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=1700000000-eximdsn-42\r\n"
    "\r\n"
    "--1700000000-eximdsn-42\r\n"
    "Content-type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "This message was created automatically by mail delivery software.\r\n"
    "\r\n"
    "--1700000000-eximdsn-42\r\n"
    "Content-type: message/delivery-status\r\n"
    "\r\n"
    "Reporting-MTA: dns; exim.example.net\r\n"
    "\r\n"
    "Action: failed\r\n"
    "Final-Recipient: rfc822;gone@example.net\r\n"
    "Status: 5.0.0\r\n"
    "Remote-MTA: dns; mx.example.net\r\n"
    "Diagnostic-Code: smtp; 550 mailbox unavailable\r\n"
    "\r\n"
    "--1700000000-eximdsn-42\r\n"
    "Content-type: message/rfc822\r\n"
    "\r\n"
    "From: sender@poste.example\r\n"
    "To: gone@example.net\r\n"
    "Subject: hello\r\n"
    "Message-Id: <exim-original-1@poste.example>\r\n"
    "\r\n"
    "body\r\n"
    "\r\n"
    "--1700000000-eximdsn-42--\r\n";

// Gmail-like: no Status field worth the name, the code inside the diagnostic, base64 delivery-status.
const char* kGmailLike =
    "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n"
    "To: me@poste.example\r\n"
    "Subject: Delivery Status Notification (Failure)\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; boundary=\"000000000000abc\"; report-type=delivery-status\r\n"
    "\r\n"
    "--000000000000abc\r\n"
    "Content-Type: multipart/related; boundary=\"000000000000def\"\r\n"
    "\r\n"
    "--000000000000def\r\n"
    "Content-Type: text/html; charset=\"UTF-8\"\r\n"
    "\r\n"
    "<html><body>Address not found</body></html>\r\n"
    "--000000000000def--\r\n"
    "--000000000000abc\r\n"
    "Content-Type: message/delivery-status\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    // Reporting-MTA: dns; googlemail.com\n\nFinal-Recipient: rfc822; missing@gmail.com\nAction: failed\n
    // Status: 5.1.1\nDiagnostic-Code: smtp; The email account that you tried to reach does not exist.\n
    "UmVwb3J0aW5nLU1UQTogZG5zOyBnb29nbGVtYWlsLmNvbQoKRmluYWwtUmVjaXBpZW50OiByZmM4MjI7IG1pc3NpbmdAZ21haWwu\r\n"
    "Y29tCkFjdGlvbjogZmFpbGVkClN0YXR1czogNS4xLjEKRGlhZ25vc3RpYy1Db2RlOiBzbXRwOyBUaGUgZW1haWwgYWNjb3VudCB0\r\n"
    "aGF0IHlvdSB0cmllZCB0byByZWFjaCBkb2VzIG5vdCBleGlzdC4K\r\n"
    "--000000000000abc\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Message-ID: <CAgmail-original@mail.gmail.com>\r\n"
    "Subject: hi\r\n"
    "\r\n"
    "x\r\n"
    "--000000000000abc--\r\n";

const char* kQmail =
    "From: MAILER-DAEMON@qmail.example.com\r\n"
    "To: sender@poste.example\r\n"
    "Subject: failure notice\r\n"
    "\r\n"
    "Hi. This is the qmail-send program at qmail.example.com.\r\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\r\n"
    "\r\n"
    "<nobody@qmail.example.com>:\r\n"
    "Sorry, no mailbox here by that name. (#5.1.1)\r\n"
    "\r\n"
    "<bad address>:\r\n"
    "ignored\r\n"
    "\r\n"
    "--- Below this line is a copy of the message.\r\n"
    "\r\n"
    "Return-Path: <sender@poste.example>\r\n"
    "Message-ID: <qmail-original@poste.example>\r\n"
    "Subject: hi\r\n"
    "\r\n"
    "hello\r\n";

TEST(Dsn, PostfixReportWithFailedAndDelayedRecipients) {
  auto report = ParseDeliveryReport(ParseMessage(kPostfix));
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->standard);
  EXPECT_EQ(report->reporting_mta, "mx.example.org");
  EXPECT_EQ(report->original_message_id, "campaign-7.42@poste.example");
  ASSERT_EQ(report->recipients.size(), 2u);
  const auto& hard = report->recipients[0];
  EXPECT_EQ(hard.final_recipient, "nobody@example.org");
  EXPECT_EQ(hard.original_recipient, "nobody@example.org");
  EXPECT_EQ(hard.action, "failed");
  EXPECT_EQ(hard.status, "5.1.1");
  EXPECT_EQ(hard.remote_mta, "mail.example.org");
  EXPECT_EQ(hard.diagnostic, "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown");
  EXPECT_EQ(hard.kind, BounceClass::kHard);
  EXPECT_EQ(report->recipients[1].kind, BounceClass::kSoft);

  auto bounces = FindBounces(ParseMessage(kPostfix));
  ASSERT_EQ(bounces.size(), 2u);
  EXPECT_EQ(bounces[0].recipient, "nobody@example.org");
  EXPECT_EQ(bounces[0].kind, BounceClass::kHard);
  EXPECT_EQ(bounces[1].recipient, "full@example.org");
  EXPECT_EQ(bounces[1].kind, BounceClass::kSoft);
  EXPECT_EQ(bounces[1].status, "4.2.2");
  EXPECT_EQ(bounces[1].original_message_id, "campaign-7.42@poste.example");
}

TEST(Dsn, EximReportWithTheWholeMessageReturned) {
  auto bounces = FindBounces(ParseMessage(kExim));
  ASSERT_EQ(bounces.size(), 1u);
  EXPECT_EQ(bounces[0].recipient, "gone@example.net");
  EXPECT_EQ(bounces[0].status, "5.0.0");
  EXPECT_EQ(bounces[0].kind, BounceClass::kHard);
  EXPECT_EQ(bounces[0].diagnostic, "550 mailbox unavailable");
  EXPECT_EQ(bounces[0].original_message_id, "exim-original-1@poste.example");
}

TEST(Dsn, GmailLikeReportInBase64) {
  auto report = ParseDeliveryReport(ParseMessage(kGmailLike));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->reporting_mta, "googlemail.com");
  ASSERT_EQ(report->recipients.size(), 1u);
  EXPECT_EQ(report->recipients[0].final_recipient, "missing@gmail.com");
  EXPECT_EQ(report->recipients[0].kind, BounceClass::kHard);
  EXPECT_EQ(report->original_message_id, "CAgmail-original@mail.gmail.com");
}

TEST(Dsn, QmailPlainTextBounce) {
  auto report = ParseDeliveryReport(ParseMessage(kQmail));
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->standard);
  ASSERT_EQ(report->recipients.size(), 1u);
  EXPECT_EQ(report->recipients[0].final_recipient, "nobody@qmail.example.com");
  EXPECT_EQ(report->recipients[0].status, "5.1.1");
  EXPECT_EQ(report->recipients[0].kind, BounceClass::kHard);
  EXPECT_EQ(report->original_message_id, "qmail-original@poste.example");
}

TEST(Dsn, StatusFromTheDiagnosticOrTheAction) {
  const std::string base =
      "From: daemon@x.example\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x.example\r\n\r\n";
  auto only_diag = FindBounces(ParseMessage(base + "Final-Recipient: rfc822; a@x.example\r\nAction: failed\r\n"
                                                   "Diagnostic-Code: smtp; 421 4.4.2 try later\r\n\r\n--b--\r\n"));
  ASSERT_EQ(only_diag.size(), 1u);
  EXPECT_EQ(only_diag[0].status, "4.4.2");
  EXPECT_EQ(only_diag[0].kind, BounceClass::kSoft);
  auto nothing =
      FindBounces(ParseMessage(base + "Final-Recipient: rfc822; a@x.example\r\nAction: failed\r\n\r\n--b--\r\n"));
  ASSERT_EQ(nothing.size(), 1u);
  EXPECT_EQ(nothing[0].kind, BounceClass::kHard);
  auto delivered = FindBounces(ParseMessage(base + "Final-Recipient: rfc822; a@x.example\r\nAction: delivered\r\n"
                                                   "Status: 2.0.0\r\n\r\n--b--\r\n"));
  EXPECT_TRUE(delivered.empty());
}

TEST(Dsn, OrdinaryMailIsNoBounce) {
  EXPECT_FALSE(ParseDeliveryReport(ParseMessage("From: a@b.example\r\nSubject: hi\r\n\r\nHello 5.1.1\r\n")));
  EXPECT_TRUE(FindBounces(ParseMessage("")).empty());
}

TEST(Dsn, HostileReportsAreBoundedAndCleaned) {
  const std::string head =
      "From: daemon@x.example\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: message/delivery-status\r\n\r\n";
  // Recipients that are not addresses (SQL, HTML, several addresses, CR/LF smuggled by folding) are dropped.
  std::string body = head +
                     "Final-Recipient: rfc822; x'); DROP TABLE users;--\r\nAction: failed\r\n\r\n"
                     "Final-Recipient: rfc822; <script>@x\r\nAction: failed\r\n\r\n"
                     "Final-Recipient: rfc822; a@x.example, b@x.example\r\nAction: failed\r\n\r\n"
                     "Final-Recipient: rfc822; ok@x.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                     "Diagnostic-Code: smtp; 550 \x01\x02 bad\xff\xfe " +
                     std::string(5000, 'A') + "\r\n\r\n--b--\r\n";
  auto bounces = FindBounces(ParseMessage(body));
  ASSERT_EQ(bounces.size(), 1u);
  EXPECT_EQ(bounces[0].recipient, "ok@x.example");
  EXPECT_LE(bounces[0].diagnostic.size(), 1000u);
  EXPECT_EQ(bounces[0].diagnostic.find('\x01'), std::string::npos);
  // Thousands of recipient groups: bounded, not a crash.
  std::string many = head;
  for (int i = 0; i < 5000; ++i)
    many += "Final-Recipient: rfc822; r" + std::to_string(i) + "@x.example\r\nAction: failed\r\n\r\n";
  many += "--b--\r\n";
  EXPECT_LE(FindBounces(ParseMessage(many)).size(), 1000u);
  // Malformed status values are not statuses.
  for (const char* status : {"5.1", "5.1.1.1", "6.1.1", "x.1.1", "5.1111.1", "", "55.1.1"}) {
    EXPECT_EQ(ClassifyStatus(status), BounceClass::kUnknown) << status;
  }
  EXPECT_EQ(ClassifyStatus("5.7.26"), BounceClass::kHard);
  EXPECT_EQ(ClassifyStatus("4.7.0"), BounceClass::kSoft);
  EXPECT_EQ(ClassifyStatus("2.0.0"), BounceClass::kUnknown);
}

TEST(Dsn, FieldGroupsUnfoldAndSkipGarbage) {
  auto groups = ParseDsnFieldGroups("A: 1\r\n  more\r\nnot a field\r\n\r\n\r\nB: 2\nC:3");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].size(), 1u);
  EXPECT_EQ(groups[0][0].second, "1 more");
  EXPECT_EQ(groups[1].size(), 2u);
  EXPECT_EQ(groups[1][1].second, "3");
  EXPECT_TRUE(ParseDsnFieldGroups("").empty());
}

}  // namespace
}  // namespace poste::mail
