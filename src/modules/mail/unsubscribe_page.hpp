#pragma once
// The plain unsubscribe pages (GET /u/<token> and the answer to its POST): small static HTML documents that
// need no script, meant to pass WCAG 2.1 AA: the page's language in <html lang>, a title, one heading, text
// at a readable size with contrast above 7:1, a real <form> whose visible button has a text label and a
// focus outline, and nothing that moves. Texts exist in the sites' locales (fr, en, es, de, it); any other
// locale falls back to English.
#include <string>
#include <string_view>

namespace poste::mail {

enum class UnsubscribePage {
  kConfirm,  // the question, with the button that POSTs the form
  kDone,     // after the POST
  kAlready,  // opened again after unsubscribing
  kInvalid,  // a token that is not valid (answered with 404)
};

// One of fr, en, es, de, it: `locale` when it is one of them (a region such as "fr-CA" counts), else "en".
std::string_view PageLocale(std::string_view locale);

// The best of fr, en, es, de, it for an Accept-Language header (q-values honoured), else "en".
std::string_view LocaleFromAcceptLanguage(std::string_view header);

// The page's HTML. site_name and email are escaped; action is the form's target (the page's own path, made
// of URL-safe characters) and is used by kConfirm only.
std::string RenderUnsubscribePage(UnsubscribePage page, std::string_view locale, std::string_view site_name,
                                  std::string_view email, std::string_view action);

// The Content-Security-Policy the pages need: nothing but their own inline style (by hash) and a form that
// posts to the same origin.
const std::string& UnsubscribePagePolicy();

}  // namespace poste::mail
