#pragma once
// The page the OAuth2 callback answers with (GET /api/v1/mail/oauth/callback): the browser lands on it after
// the provider's consent screen. A small static HTML document in English, no script and no outside
// resource, meant to pass WCAG 2.1 AA (html lang, a title, one heading, readable text with high contrast):
// whether the account is connected, or what went wrong and what to do, with the failure's code. It never
// holds a token, a code or the state.
#include <string>
#include <string_view>

#include "modules/mail/mail_oauth_types.hpp"

namespace poste::mail {

// account_name is escaped (it may be empty when the state named no account).
std::string RenderOAuthPage(CallbackFailure failure, std::string_view account_name);

// The Content-Security-Policy of the page: nothing but its own inline style (by hash); no form, no frame.
const std::string& OAuthPagePolicy();

}  // namespace poste::mail
