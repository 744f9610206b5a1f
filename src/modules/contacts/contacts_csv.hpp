#pragma once
// The CSV export of contacts: RFC 4180 (CRLF line ends, fields with a comma, quote, CR or LF quoted and
// quotes doubled), UTF-8 with a byte-order mark so that spreadsheets read accents right, and a guard
// against formula injection: a cell a visitor controls that starts with = + - @ (or TAB / CR, which some
// spreadsheets skip before looking) gets a leading apostrophe, so it is shown as text, never evaluated.
#include <string>
#include <string_view>

#include "modules/contacts/contacts_types.hpp"

namespace poste::contacts {

inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// One cell, guarded and quoted as needed.
std::string CsvCell(std::string_view value);
// BOM + "id,created_at,name,email,subject,message,page,consent,read,archived\r\n".
std::string CsvHeader();
// One line ending in CRLF; created_at as ISO 8601 UTC ("2024-05-01T12:00:00Z").
std::string CsvRow(const Contact& contact);

// Epoch ms as ISO 8601 UTC with seconds.
std::string IsoUtc(std::int64_t epoch_ms);

}  // namespace poste::contacts
