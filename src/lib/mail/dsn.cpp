#include "lib/mail/dsn.hpp"

#include <algorithm>
#include <cctype>

#include "lib/validate/ascii.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;

constexpr std::size_t kMaxReportBytes = 1u << 20;  // a delivery-status part; larger ones are cut
constexpr std::size_t kMaxGroups = 1000;
constexpr std::size_t kMaxValueBytes = 1000;
constexpr std::size_t kMaxAddressBytes = 254;

// One line, control characters made spaces, at most kMaxValueBytes (cut on a UTF-8 boundary).
std::string Clean(std::string_view text) {
  std::string out;
  for (char c : ascii::Trim(text)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7F) ? ' ' : c;
  }
  if (out.size() > kMaxValueBytes) {
    std::size_t cut = kMaxValueBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

// "rfc822; <a@b>" -> "a@b"; empty when what is left does not look like one address.
std::string Address(std::string_view value) {
  const auto semi = value.find(';');
  if (semi != std::string_view::npos) value = value.substr(semi + 1);
  value = ascii::Trim(value);
  if (value.size() >= 2 && value.front() == '<' && value.back() == '>') value = value.substr(1, value.size() - 2);
  if (value.empty() || value.size() > kMaxAddressBytes) return {};
  const auto at = value.rfind('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == value.size()) return {};
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') return {};
  }
  return std::string(value);
}

// "smtp; 550 ..." -> "550 ..."
std::string WithoutType(std::string_view value) {
  const auto semi = value.find(';');
  if (semi != std::string_view::npos && semi < 20) value = value.substr(semi + 1);
  return Clean(value);
}

// A status "class.subject.detail" (RFC 3463) starting at `pos`; its length, or 0.
std::size_t StatusAt(std::string_view text, std::size_t pos) {
  if (pos >= text.size() || (text[pos] != '2' && text[pos] != '4' && text[pos] != '5')) return 0;
  if (pos > 0 && (std::isalnum(static_cast<unsigned char>(text[pos - 1])) || text[pos - 1] == '.')) return 0;
  std::size_t i = pos + 1, parts = 1;
  while (parts < 3) {
    if (i >= text.size() || text[i] != '.') return 0;
    const std::size_t start = ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 3) return 0;
    ++parts;
  }
  if (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '.')) return 0;
  return i - pos;
}

// The first status code found in free text ("550 5.1.1 <x>: unknown user" -> "5.1.1").
std::string FindStatus(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (auto n = StatusAt(text, i)) return std::string(text.substr(i, n));
  }
  return {};
}

std::string NormaliseStatus(std::string_view value) {
  value = ascii::Trim(value);
  const auto space = value.find_first_of(" \t(");
  value = value.substr(0, space);
  return StatusAt(value, 0) == value.size() && !value.empty() ? std::string(value) : std::string();
}

std::string_view Field(const DsnFields& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (ascii::ToLower(key) == name) return value;
  }
  return {};
}

std::string StripAngles(std::string_view id) {
  id = ascii::Trim(id);
  if (!id.empty() && id.front() == '<') id.remove_prefix(1);
  const auto close = id.find('>');
  if (close != std::string_view::npos) id = id.substr(0, close);
  return Clean(id);
}

// The Message-ID among the header lines of a returned message (or its headers alone).
std::string MessageIdIn(std::string_view returned) {
  std::size_t pos = 0;
  std::string current;
  auto check = [](const std::string& line) -> std::string {
    const auto colon = line.find(':');
    if (colon == std::string::npos ||
        ascii::ToLower(ascii::Trim(std::string_view(line).substr(0, colon))) != "message-id")
      return {};
    return StripAngles(std::string_view(line).substr(colon + 1));
  };
  while (pos < returned.size()) {
    auto end = returned.find('\n', pos);
    if (end == std::string_view::npos) end = returned.size();
    std::string_view line = returned.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      if (current.size() < kMaxValueBytes) current += std::string(line);
      continue;
    }
    if (auto id = check(current); !id.empty()) return id;
    if (line.empty()) break;  // the end of the header section
    current = std::string(line);
  }
  return check(current);
}

BounceClass KindOf(const std::string& action, const std::string& status) {
  const BounceClass by_status = ClassifyStatus(status);
  if (by_status != BounceClass::kUnknown) return by_status;
  if (action == "failed") return BounceClass::kHard;
  if (action == "delayed") return BounceClass::kSoft;
  return BounceClass::kUnknown;
}

std::string ReturnedMessageId(const ParsedMessage& message) {
  for (const auto& a : message.attachments) {
    if (a.content_type == "message/rfc822" || a.content_type == "text/rfc822-headers" ||
        a.content_type == "message/rfc822-headers" || a.content_type == "message/global" ||
        a.content_type == "message/global-headers") {
      if (auto id = MessageIdIn(a.bytes); !id.empty()) return id;
    }
  }
  return {};
}

std::optional<DeliveryReport> FromStatusPart(const ParsedMessage& message, std::string_view body) {
  if (body.size() > kMaxReportBytes) body = body.substr(0, kMaxReportBytes);
  const auto groups = ParseDsnFieldGroups(body);
  DeliveryReport report;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& fields = groups[g];
    const bool per_recipient = !Field(fields, "final-recipient").empty() || !Field(fields, "action").empty();
    if (!per_recipient) {
      if (g == 0) {
        report.reporting_mta = WithoutType(Field(fields, "reporting-mta"));
        report.original_envelope_id = Clean(Field(fields, "original-envelope-id"));
      }
      continue;
    }
    DsnRecipient r;
    r.final_recipient = Address(Field(fields, "final-recipient"));
    r.original_recipient = Address(Field(fields, "original-recipient"));
    if (r.final_recipient.empty()) r.final_recipient = r.original_recipient;
    if (r.final_recipient.empty()) continue;  // whom it is about is unknown: nothing to act on
    r.action = ascii::ToLower(Clean(Field(fields, "action")));
    r.diagnostic = WithoutType(Field(fields, "diagnostic-code"));
    r.remote_mta = WithoutType(Field(fields, "remote-mta"));
    r.status = NormaliseStatus(Field(fields, "status"));
    if (r.status.empty()) r.status = FindStatus(r.diagnostic);
    r.kind = KindOf(r.action, r.status);
    report.recipients.push_back(std::move(r));
  }
  report.original_message_id = ReturnedMessageId(message);
  return report;
}

// qmail: "<addr>:" lines, each followed by the reason, before "--- Below this line is a copy of the message."
std::optional<DeliveryReport> FromQmailText(std::string_view text) {
  if (text.find("This is the qmail-send program") == std::string_view::npos) return std::nullopt;
  const bool permanent = text.find("permanent error") != std::string_view::npos;
  const auto copy_mark = text.find("--- Below this line is a copy of the message.");
  std::string_view body = text.substr(0, copy_mark);
  DeliveryReport report;
  report.standard = false;
  DsnRecipient* current = nullptr;
  std::size_t pos = 0;
  while (pos < body.size() && report.recipients.size() < kMaxGroups) {
    auto end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = ascii::Trim(body.substr(pos, end - pos));
    pos = end + 1;
    if (line.size() > 3 && line.front() == '<' && line.ends_with(">:")) {
      DsnRecipient r;
      r.final_recipient = Address(line.substr(0, line.size() - 1));
      if (r.final_recipient.empty()) {
        current = nullptr;
        continue;
      }
      r.action = "failed";
      report.recipients.push_back(std::move(r));
      current = &report.recipients.back();
      continue;
    }
    if (line.empty()) {
      current = nullptr;
      continue;
    }
    if (current && current->diagnostic.size() < kMaxValueBytes) {
      current->diagnostic =
          Clean(current->diagnostic.empty() ? std::string(line) : current->diagnostic + " " + std::string(line));
    }
  }
  for (auto& r : report.recipients) {
    r.status = FindStatus(r.diagnostic);
    if (r.status.empty()) r.status = permanent ? "5.0.0" : "4.0.0";
    if (!permanent && r.status.front() == '4') r.action = "delayed";
    r.kind = ClassifyStatus(r.status);
  }
  if (report.recipients.empty()) return std::nullopt;
  if (copy_mark != std::string_view::npos) {
    // The copy starts after the mark and a blank line.
    auto start = text.find('\n', copy_mark);
    if (start != std::string_view::npos) {
      std::string_view rest = text.substr(start + 1);
      while (!rest.empty() && (rest.front() == '\n' || rest.front() == '\r')) rest.remove_prefix(1);
      report.original_message_id = MessageIdIn(rest);
    }
  }
  return report;
}

}  // namespace

std::string_view BounceClassName(BounceClass c) {
  switch (c) {
    case BounceClass::kHard:
      return "hard";
    case BounceClass::kSoft:
      return "soft";
    case BounceClass::kUnknown:
      break;
  }
  return "unknown";
}

BounceClass ClassifyStatus(std::string_view status) {
  status = ascii::Trim(status);
  if (status.empty() || StatusAt(status, 0) != status.size()) return BounceClass::kUnknown;
  if (status.front() == '5') return BounceClass::kHard;
  if (status.front() == '4') return BounceClass::kSoft;
  return BounceClass::kUnknown;
}

std::vector<DsnFields> ParseDsnFieldGroups(std::string_view text) {
  std::vector<DsnFields> groups;
  DsnFields current;
  std::size_t pos = 0;
  auto flush = [&] {
    if (!current.empty() && groups.size() < kMaxGroups) groups.push_back(std::move(current));
    current.clear();
  };
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (ascii::Trim(line).empty()) {
      flush();
      if (end == text.size()) break;
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (!current.empty() && current.back().second.size() < kMaxValueBytes) {
        current.back().second = Clean(current.back().second + " " + std::string(ascii::Trim(line)));
      }
    } else {
      const auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0 || colon > 80) continue;  // not a field: skipped
      if (current.size() < 100) {
        current.emplace_back(std::string(ascii::Trim(line.substr(0, colon))), Clean(line.substr(colon + 1)));
      }
    }
    if (end == text.size()) break;
  }
  flush();
  return groups;
}

std::optional<DeliveryReport> ParseDeliveryReport(const ParsedMessage& message) {
  for (const auto& a : message.attachments) {
    if (a.content_type == "message/delivery-status" || a.content_type == "message/global-delivery-status") {
      return FromStatusPart(message, a.bytes);
    }
  }
  return FromQmailText(message.text);
}

std::vector<Bounce> FindBounces(const ParsedMessage& message) {
  std::vector<Bounce> out;
  auto report = ParseDeliveryReport(message);
  if (!report) return out;
  for (const auto& r : report->recipients) {
    if (r.action != "failed" && r.action != "delayed") continue;
    Bounce b;
    b.recipient = r.final_recipient;
    b.kind = r.kind;
    b.status = r.status;
    b.diagnostic = r.diagnostic;
    b.original_message_id = report->original_message_id;
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace poste::mail
