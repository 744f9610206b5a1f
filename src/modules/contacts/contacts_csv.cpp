#include "modules/contacts/contacts_csv.hpp"

#include <ctime>

namespace poste::contacts {

std::string CsvCell(std::string_view value) {
  std::string cell;
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' || value[0] == '\t' ||
                         value[0] == '\r')) {
    cell += '\'';
  }
  cell += value;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

std::string CsvHeader() {
  return std::string(kUtf8Bom) + "id,created_at,name,email,subject,message,page,consent,read,archived\r\n";
}

std::string CsvRow(const Contact& c) {
  std::string line = std::to_string(c.id);
  const std::string created = IsoUtc(c.created_at);
  for (std::string_view cell : {std::string_view(created), std::string_view(c.name), std::string_view(c.email),
                                std::string_view(c.subject), std::string_view(c.message), std::string_view(c.page)}) {
    line += ',';
    line += CsvCell(cell);
  }
  line += c.consent ? ",true" : ",false";
  line += c.read ? ",true" : ",false";
  line += c.archived ? ",true" : ",false";
  return line + "\r\n";
}

std::string IsoUtc(std::int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace poste::contacts
