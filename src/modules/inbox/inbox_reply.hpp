#pragma once
// What replying to or forwarding a received message needs, for the send path: the recipients, "Re: subject"
// (not "Re: Re: ..."), In-Reply-To and References (RFC 5322 section 3.6.4), and the text quoted with "> ";
// "Fwd: subject" with the original's headers above its text. Pure functions; no I/O.
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "modules/inbox/inbox_types.hpp"

namespace poste::inbox {

struct ReplyDraft {
  std::vector<Address> to;
  std::vector<Address> cc;
  std::string subject;
  std::string in_reply_to;              // the original's Message-ID, without <>
  std::vector<std::string> references;  // the original's References then its Message-ID, without <>
  std::string quoted_text;              // "On <date>, <sender> wrote:" then the text, each line quoted
};

struct ForwardDraft {
  std::string subject;  // "Fwd: " + subject (not "Fwd: Fwd: ...")
  // "---------- Forwarded message ----------", From, Date, Subject, To, Cc, then the original's text (its
  // text part, else its HTML as text). The original's HTML is not forwarded as it is (it may hold
  // anything): the HTML version is this text, escaped.
  std::string text;
  std::string html;
};

// Replies go to Reply-To when the original has one, else to From. With reply_all, the original's To and Cc
// are added as Cc, without duplicates and without `own_addresses` (the account's own addresses, compared
// case-insensitively).
ReplyDraft BuildReply(const Message& original, bool reply_all = false,
                      const std::vector<std::string>& own_addresses = {});

ForwardDraft BuildForward(const Message& original);

// "Fwd: " + subject, unless it already starts with Fwd: or Fw: (any case).
std::string ForwardSubject(std::string_view subject);

// A reply's bodies: the caller's own, then the quoted original (text: "\n\n" + quoted; HTML: a
// <blockquote> of the quoted text, escaped). A body the caller left empty stays empty.
void AppendQuote(std::string& html, std::string& text, const std::string& quoted_text);

// "<" + id + ">" for a Message-ID kept without its brackets ("" stays "").
std::string Bracketed(const std::string& id);

// "Re: " + subject, unless it already starts with Re: (any case, also "RE:", "Re :" and "Re[2]:").
std::string ReplySubject(std::string_view subject);

// {to, cc, subject, in_reply_to, references, quoted_text}.
nlohmann::json ToJson(const ReplyDraft& draft);

}  // namespace poste::inbox
