#include "modules/mail/unsubscribe_page.hpp"

#include <array>
#include <cstdlib>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/html_escape.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;

struct Texts {
  std::string_view locale;
  std::string_view confirm_title, confirm_text, button;
  std::string_view done_title, done_text;
  std::string_view already_title, already_text;
  std::string_view invalid_title, invalid_text;
};

// {site} and {email} are replaced by the escaped values.
constexpr std::array<Texts, 5> kTexts = {{
    {"en", "Unsubscribe", "Stop receiving emails from {site} at {email}?", "Unsubscribe", "You are unsubscribed",
     "{email} will no longer receive emails from {site}.", "Already unsubscribed",
     "{email} is already unsubscribed from the emails of {site}.", "This link is not valid",
     "This unsubscribe link is incomplete or damaged. Copy the whole link from the email, or write to the sender."},
    {"fr", "Se désabonner", "Ne plus recevoir d’e-mails de {site} à l’adresse {email} ?", "Me désabonner",
     "Désabonnement confirmé", "L’adresse {email} ne recevra plus d’e-mails de {site}.", "Déjà désabonné",
     "L’adresse {email} est déjà désabonnée des e-mails de {site}.", "Ce lien n’est pas valide",
     "Ce lien de désabonnement est incomplet ou altéré. Copiez le lien entier depuis l’e-mail, ou écrivez à "
     "l’expéditeur."},
    {"es", "Darse de baja", "¿Dejar de recibir correos de {site} en {email}?", "Darme de baja", "Baja confirmada",
     "{email} ya no recibirá correos de {site}.", "Baja ya registrada",
     "{email} ya está dado de baja de los correos de {site}.", "Este enlace no es válido",
     "Este enlace para darse de baja está incompleto o dañado. Copie el enlace completo del correo o escriba al "
     "remitente."},
    {"de", "Abmelden", "Keine E-Mails mehr von {site} an {email} erhalten?", "Abmelden", "Abmeldung bestätigt",
     "{email} erhält keine E-Mails mehr von {site}.", "Bereits abgemeldet",
     "{email} ist bereits von den E-Mails von {site} abgemeldet.", "Dieser Link ist ungültig",
     "Dieser Abmeldelink ist unvollständig oder beschädigt. Kopieren Sie den vollständigen Link aus der E-Mail "
     "oder schreiben Sie dem Absender."},
    {"it", "Annulla l’iscrizione", "Non ricevere più email da {site} all’indirizzo {email}?", "Annulla l’iscrizione",
     "Iscrizione annullata", "{email} non riceverà più email da {site}.", "Iscrizione già annullata",
     "L’iscrizione di {email} alle email di {site} è già annullata.", "Questo link non è valido",
     "Questo link di disiscrizione è incompleto o danneggiato. Copia il link completo dall’email o scrivi al "
     "mittente."},
}};

constexpr std::string_view kStyle =
    "body{margin:0;font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;font-size:1.125rem;"
    "line-height:1.5;color:#1a1a1a;background:#fff}"
    "main{max-width:34rem;margin:3rem auto;padding:0 1.25rem}"
    "h1{font-size:1.75rem;line-height:1.25;margin:0 0 1rem}"
    "p{margin:0 0 1.5rem;overflow-wrap:anywhere}"
    "button{font:inherit;font-weight:600;color:#fff;background:#1e40af;border:2px solid #1e40af;"
    "border-radius:.375rem;padding:.75rem 1.5rem;min-height:44px;cursor:pointer}"
    "button:hover{background:#1e3a8a}"
    "button:focus-visible{outline:3px solid #1a1a1a;outline-offset:3px}";

const Texts& TextsFor(std::string_view locale) {
  for (const auto& t : kTexts) {
    if (t.locale == locale) return t;
  }
  return kTexts[0];
}

// One pass over `text`, so that a value holding "{email}" is never expanded again.
std::string Fill(std::string_view text, std::string_view site, std::string_view email) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i).starts_with("{site}")) {
      out += "<strong>";
      AppendHtmlEscaped(out, site);
      out += "</strong>";
      i += 6;
    } else if (text.substr(i).starts_with("{email}")) {
      out += "<strong>";
      AppendHtmlEscaped(out, email);
      out += "</strong>";
      i += 7;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string PlainFill(std::string_view text, std::string_view site) {
  std::string out;
  AppendHtmlEscaped(out, std::string(text) + (site.empty() ? "" : " – ") + std::string(site));
  return out;
}

}  // namespace

std::string_view PageLocale(std::string_view locale) {
  const auto primary = ascii::ToLower(locale.substr(0, locale.find_first_of("-_")));
  for (const auto& t : kTexts) {
    if (t.locale == primary) return t.locale;
  }
  return "en";
}

std::string_view LocaleFromAcceptLanguage(std::string_view header) {
  std::string_view best = "en";
  double best_q = 0;
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto item = ascii::Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    double q = 1;
    if (const auto semi = item.find(';'); semi != std::string_view::npos) {
      auto param = ascii::Trim(item.substr(semi + 1));
      item = ascii::Trim(item.substr(0, semi));
      if (param.starts_with("q=") || param.starts_with("Q=")) {
        const std::string value(param.substr(2, 5));
        q = std::strtod(value.c_str(), nullptr);
      }
    }
    const auto primary = ascii::ToLower(item.substr(0, item.find('-')));
    for (const auto& t : kTexts) {
      if (t.locale == primary && q > best_q) best = t.locale, best_q = q;
    }
  }
  return best;
}

std::string RenderUnsubscribePage(UnsubscribePage page, std::string_view locale, std::string_view site_name,
                                  std::string_view email, std::string_view action) {
  const Texts& t = TextsFor(PageLocale(locale));
  std::string_view title = t.invalid_title, text = t.invalid_text;
  switch (page) {
    case UnsubscribePage::kConfirm:
      title = t.confirm_title, text = t.confirm_text;
      break;
    case UnsubscribePage::kDone:
      title = t.done_title, text = t.done_text;
      break;
    case UnsubscribePage::kAlready:
      title = t.already_title, text = t.already_text;
      break;
    case UnsubscribePage::kInvalid:
      break;
  }
  std::string out;
  out.reserve(2048);
  out += "<!DOCTYPE html>\n<html lang=\"";
  out += t.locale;
  out +=
      "\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"robots\" content=\"noindex, nofollow\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
      "<title>";
  out += PlainFill(title, page == UnsubscribePage::kInvalid ? std::string_view() : site_name);
  out += "</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<main>\n<h1>";
  AppendHtmlEscaped(out, title);
  out += "</h1>\n<p id=\"what\">";
  out += Fill(text, site_name, email);
  out += "</p>\n";
  if (page == UnsubscribePage::kConfirm) {
    // The same body as a mail client's one-click POST (RFC 8058), so that both take the same path.
    out += "<form method=\"post\" action=\"";
    AppendHtmlEscaped(out, action);
    out +=
        "\">\n<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n"
        "<button type=\"submit\" aria-describedby=\"what\">";
    AppendHtmlEscaped(out, t.button);
    out += "</button>\n</form>\n";
  }
  out += "</main>\n</body>\n</html>\n";
  return out;
}

const std::string& UnsubscribePagePolicy() {
  static const std::string policy = "default-src 'none'; style-src 'sha256-" +
                                    crypto::Base64Encode(crypto::Sha256(kStyle)) +
                                    "'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
  return policy;
}

}  // namespace poste::mail
