#pragma once
// Unsubscribing (RFC 8058 one-click, and the plain page): the send path asks for the List-Unsubscribe links
// of each recipient; a recipient's POST to the link adds the address to the site's suppression list (reason
// unsubscribe, with the campaign), whatever the body and however often. No HTTP here.
//
// For the send path and campaigns:
//   auto links = unsubscribe.LinksFor(site_id, recipient, campaign_id);
//   message.list_unsubscribe_url = links.url;        // https://<site's public address>/u/<token>
//   message.list_unsubscribe_mailto = links.mailto;  // "" unless the site set mail.unsubscribe_mailto
// (mail::BuildMessage then writes List-Unsubscribe and List-Unsubscribe-Post: List-Unsubscribe=One-Click.)
//
// Members marked blocking run SQL (or ask the site's settings): call them through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "modules/mail/unsubscribe_token.hpp"
#include "modules/sites/sites_types.hpp"

namespace poste::mail {

class MailSuppressionsService;

// What unsubscribing needs to know of a site.
struct UnsubscribeSite {
  std::string name;
  std::string locale;    // of the pages
  std::string base_url;  // "https://example.com" (no trailing slash); "" when the site has no public address
  std::string mailto;    // an address for mailto: unsubscribes; "" for none
};

// Site settings the links read: the public base URL when it is not https://<first domain> (e.g.
// "https://www.example.com", or a reverse proxy's address), and the address of mailto: unsubscribes.
inline constexpr std::string_view kPublicUrlSetting = "mail.public_url";
inline constexpr std::string_view kUnsubscribeMailtoSetting = "mail.unsubscribe_mailto";

// Longer public URLs are ignored: with the longest token, the List-Unsubscribe header must stay under
// mail::kMaxHeaderValue.
inline constexpr std::size_t kMaxPublicUrlBytes = 256;

// A site's facts from the site and its two settings (the values of kPublicUrlSetting and
// kUnsubscribeMailtoSetting, nullopt when not set): the public URL setting (without a trailing slash) when it
// is an http(s) URL without query or fragment, else https://<the first domain>, else none; the mailto address when it
// is an address.
UnsubscribeSite UnsubscribeSiteOf(const sites::Site& site, const std::optional<std::string>& public_url,
                                  const std::optional<std::string>& mailto);

struct UnsubscribeOptions {
  // Blocking: the site's facts, nullopt when there is no such site.
  std::function<std::optional<UnsubscribeSite>(std::int64_t site_id)> site;
};

struct ListUnsubscribeLinks {
  std::string url;     // https://.../u/<token>
  std::string mailto;  // mailto:<address>?subject=unsubscribe, or ""
};

class UnsubscribeService;

// The links of many recipients of one site and campaign: the site read once (a campaign batch), each
// recipient's links then made without I/O. Valid while its service lives.
class UnsubscribeLinker {
 public:
  // 422 ("email") when `email` is not an address.
  ListUnsubscribeLinks For(std::string_view email) const;

 private:
  friend class UnsubscribeService;
  const UnsubscribeService* service_ = nullptr;
  std::int64_t site_id_ = 0;
  std::optional<std::int64_t> campaign_id_;
  std::string base_url_, mailto_;
};

// Where an unsubscribe request landed: the token's claims and the site, for the pages.
struct UnsubscribeLanding {
  UnsubscribeClaims claims;
  UnsubscribeSite site;
  bool already = false;  // the address was on the list before (for any reason)
};

class UnsubscribeService {
 public:
  // key: the HMAC key of the tokens (derived from the master key by the app).
  UnsubscribeService(std::string key, MailSuppressionsService& suppressions, UnsubscribeOptions options);

  // The token for a recipient (no I/O). `email` must be an address (SuppressionAddress): 422 otherwise.
  std::string Token(std::int64_t site_id, std::string_view email, std::optional<std::int64_t> campaign_id) const;
  std::optional<UnsubscribeClaims> Verify(std::string_view token) const;

  // Blocking. 422 ("email") when `email` is not an address; 404 when there is no such site; 409 when the site
  // has no public address to put in the link (no domain and no mail.public_url setting).
  ListUnsubscribeLinks LinksFor(std::int64_t site_id, std::string_view email,
                                std::optional<std::int64_t> campaign_id = std::nullopt);
  // Blocking: the site read once for many recipients; 404 and 409 as LinksFor.
  UnsubscribeLinker LinkerFor(std::int64_t site_id, std::optional<std::int64_t> campaign_id = std::nullopt);

  // Blocking. The landing of a valid token, with whether the address is already listed; 404 when the token
  // is not valid or its site is gone.
  UnsubscribeLanding Open(std::string_view token);
  // Blocking. Adds the token's address to its site's list (reason unsubscribe, the token's campaign, source
  // `source`: "one_click" or "page"); idempotent. 404 as for Open.
  UnsubscribeLanding Unsubscribe(std::string_view token, std::string_view source);

 private:
  UnsubscribeLanding Land(std::string_view token);

  std::string key_;
  MailSuppressionsService& suppressions_;
  UnsubscribeOptions options_;
};

}  // namespace poste::mail
