#pragma once
// The mail_provider_endpoints table: SQL and nothing else, scoped by site (except the look-up by token
// hash, which is how an anonymous provider POST finds its site). Times are passed in (epoch ms).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modules/mail/provider_events_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::provider_endpoint_store {

std::int64_t Insert(soci::session& s, const ProviderEndpoint& e, std::int64_t now_ms);
std::optional<ProviderEndpoint> Get(soci::session& s, std::int64_t site_id, std::int64_t id);
std::optional<ProviderEndpoint> GetByAccount(soci::session& s, std::int64_t site_id, std::int64_t account_id);
std::optional<ProviderEndpoint> GetByTokenHash(soci::session& s, const std::string& token_hash);
std::vector<ProviderEndpoint> List(soci::session& s, std::int64_t site_id);
// Saves verification_key, topic_arn, token_hash and confirmed_at.
bool Update(soci::session& s, const ProviderEndpoint& e, std::int64_t now_ms);
void MarkConfirmed(soci::session& s, std::int64_t site_id, std::int64_t id, std::int64_t now_ms);
void MarkEvent(soci::session& s, std::int64_t site_id, std::int64_t id, std::int64_t now_ms);
bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id);

}  // namespace poste::mail::provider_endpoint_store
