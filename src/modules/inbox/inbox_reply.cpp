#include "modules/inbox/inbox_reply.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

#include "lib/html_escape.hpp"
#include "lib/mail/html_text.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::inbox {

namespace {

constexpr std::size_t kMaxReferences = 50;  // the oldest (the thread's root) and the newest are kept

std::string Date(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M UTC", &tm);
  return buffer;
}

std::string Who(const Address& a) { return a.name.empty() ? a.email : a.name + " <" + a.email + ">"; }

std::string List(const std::vector<Address>& list) {
  std::string out;
  for (const auto& a : list) out += (out.empty() ? "" : ", ") + Who(a);
  return out;
}

}  // namespace

std::string ForwardSubject(std::string_view subject) {
  std::size_t i = 0;
  while (i < subject.size() && subject[i] == ' ') ++i;
  const std::string rest = validate::ascii::ToLower(subject.substr(i, 4));
  if (rest.starts_with("fwd:") || rest.starts_with("fw:")) {
    return std::string(subject);
  }
  return "Fwd: " + std::string(subject.substr(i));
}

ForwardDraft BuildForward(const Message& m) {
  ForwardDraft d;
  d.subject = ForwardSubject(m.subject);
  std::string head = "---------- Forwarded message ----------\nFrom: " + Who(m.from) + "\n";
  if (m.sent_at) head += "Date: " + Date(*m.sent_at) + "\n";
  head += "Subject: " + m.subject + "\n";
  if (!m.to.empty()) head += "To: " + List(m.to) + "\n";
  if (!m.cc.empty()) head += "Cc: " + List(m.cc) + "\n";
  const std::string body = m.text.empty() && !m.html.empty() ? mail::HtmlToText(m.html) : m.text;
  d.text = head + "\n" + body;
  if (!d.text.ends_with('\n')) d.text += '\n';
  d.html = "<div class=\"poste-forwarded\">" + TextAsHtml(d.text) + "</div>\n";
  return d;
}

void AppendQuote(std::string& html, std::string& text, const std::string& quoted) {
  if (!text.empty()) {
    if (!text.ends_with('\n')) text += '\n';
    text += "\n" + quoted;
  }
  if (!html.empty()) html += "\n<blockquote type=\"cite\">" + TextAsHtml(quoted) + "</blockquote>\n";
}

std::string Bracketed(const std::string& id) {
  if (id.empty() || id.front() == '<') return id;
  return "<" + id + ">";
}

std::string ReplySubject(std::string_view subject) {
  std::size_t i = 0;
  while (i < subject.size() && subject[i] == ' ') ++i;
  std::string_view rest = subject.substr(i);
  if (rest.size() >= 2 && validate::ascii::ToLower(rest.substr(0, 2)) == "re") {
    std::size_t j = 2;
    if (j < rest.size() && rest[j] == '[') {
      while (j < rest.size() && rest[j] != ']') ++j;
      ++j;
    }
    while (j < rest.size() && rest[j] == ' ') ++j;
    if (j < rest.size() && rest[j] == ':') return std::string(subject);
  }
  return "Re: " + std::string(rest);
}

ReplyDraft BuildReply(const Message& m, bool reply_all, const std::vector<std::string>& own_addresses) {
  ReplyDraft d;
  std::vector<std::string> seen;
  for (const auto& own : own_addresses) seen.push_back(validate::ascii::ToLower(own));
  const auto add = [&](std::vector<Address>& into, const Address& a) {
    if (a.email.empty()) return;
    const auto key = validate::ascii::ToLower(a.email);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return;
    seen.push_back(key);
    into.push_back(a);
  };
  if (!m.reply_to.empty()) {
    for (const auto& a : m.reply_to) add(d.to, a);
  } else {
    add(d.to, m.from);
  }
  if (reply_all) {
    for (const auto& a : m.to) add(d.cc, a);
    for (const auto& a : m.cc) add(d.cc, a);
  }
  d.subject = ReplySubject(m.subject);
  d.in_reply_to = m.message_id;
  d.references = m.references;
  if (d.references.empty() && !m.in_reply_to.empty()) d.references.push_back(m.in_reply_to);
  if (!m.message_id.empty()) d.references.push_back(m.message_id);
  if (d.references.size() > kMaxReferences) {
    std::vector<std::string> kept{d.references.front()};
    kept.insert(kept.end(), d.references.end() - static_cast<std::ptrdiff_t>(kMaxReferences - 1), d.references.end());
    d.references = std::move(kept);
  }
  const std::string who = m.from.name.empty() ? m.from.email : m.from.name + " <" + m.from.email + ">";
  d.quoted_text = (m.sent_at ? "On " + Date(*m.sent_at) + ", " : std::string()) + who + " wrote:\n";
  std::size_t pos = 0;
  const std::string& text = m.text;
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    d.quoted_text += line.empty() || line.front() == '>' ? ">" : "> ";
    d.quoted_text.append(line);
    d.quoted_text += '\n';
    if (end == text.size()) break;
    pos = end + 1;
  }
  return d;
}

nlohmann::json ToJson(const ReplyDraft& d) {
  nlohmann::json to = nlohmann::json::array(), cc = nlohmann::json::array();
  for (const auto& a : d.to) to.push_back(AddressJson(a));
  for (const auto& a : d.cc) cc.push_back(AddressJson(a));
  return {{"to", to},
          {"cc", cc},
          {"subject", d.subject},
          {"in_reply_to", d.in_reply_to},
          {"references", d.references},
          {"quoted_text", d.quoted_text}};
}

}  // namespace poste::inbox
