#pragma once
// The audit_log table: SQL and nothing else. Insert runs on the caller's session (inside the transaction of
// the change it records); List on a read session.
#include <cstdint>

#include "modules/audit/audit_types.hpp"

namespace soci {
class session;
}

namespace poste::audit::store {

// Stores the entry as given (changes serialised as JSON text) and returns its id.
std::int64_t Insert(soci::session& s, const AuditEntry& entry);

// Entries matching every filter that is set, newest (highest id) first.
AuditPage List(soci::session& s, const AuditFilter& filter);

}  // namespace poste::audit::store
