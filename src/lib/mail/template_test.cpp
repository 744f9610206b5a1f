#include "lib/mail/template.hpp"

#include <gtest/gtest.h>
#include <kainjow/mustache.hpp>

#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "lib/error.hpp"
#include "lib/mail/html_text.hpp"

namespace poste::mail {
namespace {

using nlohmann::json;

CompiledTemplate Make(std::string subject, std::string html, std::string text) {
  return CompiledTemplate::Compile({std::move(subject), std::move(html), std::move(text)});
}

std::vector<FieldError> CompileErrors(const TemplateSource& source) {
  try {
    CompiledTemplate::Compile(source);
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 422);
    return e.fields();
  }
  return {};
}

TEST(MailTemplate, RendersEscapedHtmlAndRawTextAndSubject) {
  auto t = Make("Hello {{name}} & co", "<p>Hello {{name}}, {{{raw}}} {{&raw}}</p>", "Hello {{name}}");
  auto out = t.Render(json{{"name", "<Tom & \"Jerry\">"}, {"raw", "<b>x</b>"}});
  EXPECT_EQ(out.subject, "Hello <Tom & \"Jerry\"> & co");
  EXPECT_EQ(out.html, "<p>Hello &lt;Tom &amp; &quot;Jerry&quot;&gt;, <b>x</b> <b>x</b></p>");
  EXPECT_EQ(out.text, "Hello <Tom & \"Jerry\">");
}

TEST(MailTemplate, RendersSectionsListsDottedNamesNumbersAndMissingNames) {
  auto t = Make("Order {{order.id}}", "",
                "{{#items}}- {{name}} x{{qty}}\n{{/items}}{{^items}}nothing{{/items}}"
                "{{#vip}}VIP{{/vip}}{{#order}}total {{total}}{{/order}} {{missing}}|{{pi}}|{{tags.0}}");
  auto out = t.Render(json{{"order", {{"id", 42}, {"total", "9.50"}}},
                           {"items", json::array({{{"name", "pen"}, {"qty", 2}}, {{"name", "ink"}, {"qty", 1}}})},
                           {"vip", nullptr},
                           {"pi", 3.5}});
  EXPECT_EQ(out.subject, "Order 42");
  EXPECT_EQ(out.text, "- pen x2\n- ink x1\ntotal 9.50 |3.5|");
  EXPECT_EQ(t.Render(json{{"items", json::array()}, {"vip", true}}).text, "nothingVIP ||");
  EXPECT_EQ(t.Render(json(nullptr)).text, "nothing ||");
}

TEST(MailTemplate, RendersNestedListsAndObjects) {
  auto t = Make("", "",
                "{{#groups}}[{{name}}:{{#items}}{{label}}={{#tags}}{{.}},{{/tags}};{{/items}}]{{/groups}}"
                "{{#order}}{{#customer}}{{first}} {{last}}{{/customer}} {{order.customer.first}}{{/order}}");
  json items = json::array({{{"label", "a"}, {"tags", {"x", "y"}}}, {{"label", "b"}, {"tags", json::array()}}});
  auto out = t.Render(json{{"groups", {{{"name", "g1"}, {"items", items}}, {{"name", "g2"}, {"items", {}}}}},
                           {"order", {{"customer", {{"first", "Ann"}, {"last", "Lee"}}}}}});
  EXPECT_EQ(out.text, "[g1:a=x,y,;b=;][g2:]Ann Lee Ann");
  // The same data rendered twice: nothing is moved out of the caller's JSON.
  EXPECT_EQ(t.Render(json{{"groups", {{{"name", "g"}, {"items", items}}}}}).text, "[g:a=x,y,;b=;]");
  EXPECT_EQ(items.size(), 2u);
}

// kainjow's rendering of a source with the variables converted as CompiledTemplate converted them before it
// had its own renderer (null false, numbers as JSON writes them): the reference the renderer must match.
namespace mstch = kainjow::mustache;

mstch::data KainjowData(const json& value) {
  switch (value.type()) {
    case json::value_t::object: {
      mstch::data out(mstch::data::type::object);
      for (const auto& [key, item] : value.items()) out.set(key, KainjowData(item));
      return out;
    }
    case json::value_t::array: {
      mstch::data out(mstch::data::type::list);
      for (const auto& item : value) out.push_back(KainjowData(item));
      return out;
    }
    case json::value_t::string:
      return mstch::data(value.get<std::string>());
    case json::value_t::boolean:
      return mstch::data(value.get<bool>());
    case json::value_t::null:
      return mstch::data(false);
    default:
      return mstch::data(value.dump());
  }
}

std::string Kainjow(const std::string& source, const json& variables, bool html) {
  mstch::mustache m(source);
  if (!html) m.set_custom_escape([](const std::string& s) { return s; });
  std::string out;
  const mstch::data data = variables.is_null() ? mstch::data(mstch::data::type::object) : KainjowData(variables);
  m.render(data, [&out](const std::string& piece) { out += piece; });
  return out;
}

// Templates of every construct: text, spaces, tabs and each line end; escaped, triple and & variables, dotted
// names, {{.}}, empty names, comments; sections and inverted sections nested, alone on their lines or not;
// set-delimiter tags (rendered by kainjow itself).
std::string RandomTemplate(std::mt19937& rng, int depth = 0) {
  static const std::vector<std::string> kText = {"a",   "word", " ",   "  ",  "\t",   "\n", "\n", "\r\n", "\r",
                                                 "<p>", "&",    "'\"", " \n", "\t\n", "é",  "}",  "{"};
  static const std::vector<std::string> kVariables = {
      "{{x}}",      "{{ x }}",     "{{{x}}}",  "{{&x}}",           "{{& s }}",    "{{s}}",
      "{{{s}}}",    "{{y.z}}",     "{{y.}}",   "{{.y}}",           "{{.}}",       "{{n}}",
      "{{fl}}",     "{{t}}",       "{{f}}",    "{{nil}}",          "{{list}}",    "{{y}}",
      "{{}}",       "{{ y . z }}", "{{y..z}}", "{{! a comment }}", "{{missing}}", "{{u.v.w}}",
      "{{{ y.z }}}"};
  static const std::vector<std::string> kSections = {"x",   "y",     "y.z", "list",    "objs", "nums", "t", "f",
                                                     "nil", "empty", "obj", "missing", ".",    "s",    "n", "nested"};
  std::string out;
  for (std::size_t k = rng() % 8; k > 0; --k) {
    const auto pick = rng() % 10;
    if (pick < 4) {
      out += kText[rng() % kText.size()];
    } else if (pick < 8 || depth >= 3) {
      out += kVariables[rng() % kVariables.size()];
    } else {
      const std::string& name = kSections[rng() % kSections.size()];
      const bool inverted = rng() % 3 == 0;
      const std::string lead = rng() % 2 ? "\n" : "";
      out += lead + "{{" + (inverted ? "^" : "#") + name + "}}" + (rng() % 2 ? "\n" : "");
      out += RandomTemplate(rng, depth + 1);
      out += std::string(rng() % 2 ? "\n" : "") + (rng() % 3 == 0 ? "  " : "") + "{{/" + name + "}}" +
             (rng() % 2 ? "\n" : "");
    }
  }
  return out;
}

json RandomVariables(std::mt19937& rng) {
  json v = json::object();
  auto maybe = [&](const char* key, json value) {
    if (rng() % 4 != 0) v[key] = std::move(value);
  };
  maybe("x", rng() % 2 ? json("X") : json(""));
  maybe("s", "<a href='x'>Tom & \"Jerry\"</a>");
  maybe("y", rng() % 3 == 0 ? json("not an object") : json{{"z", "Z"}, {"", "E"}, {"s", "inner"}});
  maybe("", "empty-key");
  maybe("list", json::array({"one", 2, json{{"x", "L"}}, nullptr, true, json::array({"in"})}));
  maybe("objs", json::array({json{{"x", "o1"}, {"n", 1}}, json{{"s", "o2"}}, json::object()}));
  maybe("nums", json::array({1, 2.5, -3}));
  maybe("n", rng() % 2 ? json(42) : json(-7));
  maybe("fl", 3.25);
  maybe("t", true);
  maybe("f", false);
  maybe("nil", nullptr);
  maybe("empty", json::array());
  maybe("obj", json::object());
  maybe("nested", json{{"y", {{"z", "deep"}}}, {"list", json::array({json{{"x", "nx"}}})}});
  maybe("u", json{{"v", {{"w", "uvw"}}}});
  return v;
}

TEST(MailTemplate, RendersAsKainjowDoesOnRandomTemplates) {
  std::mt19937 rng(11);
  int set_delimiters = 0;
  int refused = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string source = RandomTemplate(rng);
    if (i % 50 == 0) {
      source += "{{=<% %>=}}<%x%> <%#t%>t<%/t%>";
      ++set_delimiters;
    }
    std::optional<CompiledTemplate> t;
    try {
      t.emplace(Make("", source, source));
    } catch (const AppError&) {
      ++refused;  // "{" before a tag can make an unclosed {{{...}}}
      continue;
    }
    for (int k = 0; k < 4; ++k) {
      const json v = k == 3 ? json(nullptr) : RandomVariables(rng);
      const auto out = t->Render(v);
      ASSERT_EQ(out.html, Kainjow(source, v, true)) << ::testing::PrintToString(source) << "\n" << v.dump();
      ASSERT_EQ(out.text, Kainjow(source, v, false)) << ::testing::PrintToString(source) << "\n" << v.dump();
    }
  }
  EXPECT_GT(set_delimiters, 0);
  EXPECT_LT(refused, 400);
}

TEST(MailTemplate, SubjectIsAlwaysOneLine) {
  auto t = Make("Hi {{name}}!", "", "");
  EXPECT_EQ(t.Render(json{{"name", "Eve\r\nBcc: victim@example.com"}}).subject, "Hi Eve Bcc: victim@example.com!");
  EXPECT_EQ(t.Render(json{{"name", std::string("\t  x \0 y", 8)}}).subject, "Hi x y!");
  EXPECT_EQ(t.Render(json{{"name", "a\u2028b\u0085c\u2029"}}).subject, "Hi a b c !");
  auto errors = CompileErrors({"Hi\r\nBcc: x", "", ""});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "subject");
  EXPECT_EQ(errors[0].code, "header_injection");
}

TEST(MailTemplate, ReportsSyntaxErrorsWithLineAndColumn) {
  struct Case {
    std::string source;
    std::size_t line, column;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"Hello {{name", 1, 7, "Unclosed tag."},
           {"a\nbé {{#items}}\nx", 2, 4, "Unclosed section \"items\"."},
           {"line1\nline2\n  {{/items}}", 3, 3, "Section \"items\" is closed but was never opened."},
           {"{{#a}}{{#b}}{{/a}}{{/b}}", 1, 13, "Section \"b\" is closed by \"/a\"."},
           {"x {{>header}}", 1, 3, "Partials ({{>name}}) are not supported."},
           {"{{=<% %>=}} <%name%> <%#s%>", 1, 22, "Unclosed section \"s\"."},
           {"{{= bad =}}", 1, 1, "Invalid set-delimiter tag."},
           {"{{{raw}}", 1, 1, "Unclosed tag."},
       }) {
    auto error = FindSyntaxError(c.source);
    ASSERT_TRUE(error) << c.source;
    EXPECT_EQ(error->line, c.line) << c.source;
    EXPECT_EQ(error->column, c.column) << c.source;
    EXPECT_EQ(error->message, c.message) << c.source;
  }
  EXPECT_FALSE(FindSyntaxError("{{=<% %>=}}<%name%>{{not a tag"));
  EXPECT_FALSE(FindSyntaxError("plain {text} with } braces {"));

  auto errors = CompileErrors({"ok {{x}}", "<p>\n{{#a}}", "{{/b}}"});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "html");
  EXPECT_EQ(errors[0].code, "template_syntax");
  EXPECT_EQ(errors[0].message, "line 2, column 1: Unclosed section \"a\".");
  EXPECT_EQ(errors[1].field, "text");
}

TEST(MailTemplate, ListsTheVariablesItUses) {
  auto t = Make("{{greeting}} {{user.first}}", "{{! a comment }}{{#items}}{{name}}{{#tags}}{{.}}{{/tags}}{{/items}}",
                "{{^vip}}{{greeting}}{{/vip}}{{greeting}}");
  std::vector<TemplateVariable> expected = {
      {"greeting", VariableKind::kVariable, "", "subject"}, {"user.first", VariableKind::kVariable, "", "subject"},
      {"items", VariableKind::kSection, "", "html"},        {"name", VariableKind::kVariable, "items", "html"},
      {"tags", VariableKind::kSection, "items", "html"},    {"vip", VariableKind::kInvertedSection, "", "text"},
      {"greeting", VariableKind::kVariable, "vip", "text"}, {"greeting", VariableKind::kVariable, "", "text"},
  };
  EXPECT_EQ(t.Variables(), expected);
}

TEST(MailTemplate, RequiredCheckReturnsTheMissingNames) {
  auto t = Make("{{first}} {{user.last}}", "{{#opt}}{{inner}}{{/opt}}{{first}}", "{{company}}");
  EXPECT_EQ(t.MissingVariables(json::object()), (std::vector<std::string>{"first", "user.last", "company"}));
  EXPECT_EQ(t.MissingVariables(json{{"first", "A"}, {"user", {{"last", "B"}}}, {"company", "C"}}),
            std::vector<std::string>{});
  EXPECT_EQ(t.MissingVariables(json{{"first", nullptr}, {"user", "not an object"}, {"company", 0}}),
            (std::vector<std::string>{"first", "user.last"}));
  EXPECT_EQ(t.MissingVariables(json::array()), (std::vector<std::string>{"first", "user.last", "company"}));
}

TEST(MailTemplate, RefusesHostileInput) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "{{#s" + std::to_string(i) + "}}";
  auto errors = CompileErrors({"", deep, ""});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("nested too deeply"), std::string::npos);

  std::string many;  // 100,000 tags compile in linear time
  for (int i = 0; i < 100000; ++i) many += "{{v" + std::to_string(i % 5000) + "}}";
  EXPECT_EQ(CompiledTemplate::Compile({"", many, ""}).Variables().size(), 5000u);

  errors = CompileErrors({"", std::string(kMaxTemplateBytes + 1, 'x'), ""});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "too_long");

  // Variables cannot inject template syntax: their values are data, never compiled.
  auto t = Make("", "", "{{a}}");
  EXPECT_EQ(t.Render(json{{"a", "{{b}}"}, {"b", "secret"}}).text, "{{b}}");

  json nested = "leaf";
  for (int i = 0; i < 100; ++i) nested = json{{"k", nested}};
  EXPECT_THROW(t.Render(nested), AppError);
  EXPECT_THROW(t.Render(json::array({1, 2})), AppError);
  // The depth counts wherever it is, used by the template or not: a value 32 levels down passes, 33 not.
  for (std::size_t levels : {kMaxVariableDepth - 1, kMaxVariableDepth}) {
    json chain = "leaf";  // under `levels` arrays and objects, the whole under "unused": at levels + 1
    for (std::size_t i = 0; i < levels; ++i) chain = i % 2 ? json{{"k", chain}} : json::array({chain});
    json variables = {{"a", "x"}, {"unused", chain}};
    if (levels + 1 == kMaxVariableDepth) {
      EXPECT_EQ(t.Render(variables).text, "x");
    } else {
      EXPECT_THROW(t.Render(variables), AppError);
    }
  }

  // Invalid UTF-8 and NULs in a template or the data do not break rendering.
  auto u = Make("", "", std::string("\xff{{a}}\0", 7));
  EXPECT_EQ(u.Render(json{{"a", std::string("\xc3\x28", 2)}}).text, std::string("\xff\xc3\x28\0", 4));
}

TEST(MailTemplate, RendersConcurrentlyFromOneCompiledTemplate) {
  auto t = Make("Hi {{n}}", "<b>{{n}}</b>{{#l}}{{.}}{{/l}}", "{{n}}");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 300; ++i) {
        std::string n = std::to_string(w * 1000 + i);
        auto out = t.Render(json{{"n", n}, {"l", json::array({1, 2})}});
        if (out.html != "<b>" + n + "</b>12" || out.subject != "Hi " + n) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// For sending, a template without a text part renders the text a message's HTML converts to, whether the
// text template could be derived once (plain variables in the text) or each HTML is converted.
// The text CompileForSending derived before Render had its own renderer: the HTML template converted once,
// rendered by kainjow with each value's whitespace collapsed, spaces trimmed at the lines' ends (and starts,
// on lines that start with a tag).
std::string KainjowDerivedText(const std::string& html, const json& variables) {
  const std::string text = HtmlToText(html);
  mstch::mustache m(text);
  m.set_custom_escape([](const std::string& value) {
    std::string out;
    bool space = false;
    for (char c : value) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        space = true;
        continue;
      }
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      out.push_back(c);
    }
    if (space && !out.empty()) out.push_back(' ');
    return out;
  });
  std::vector<bool> starts_with_tag;
  for (std::size_t start = 0; start < text.size();) {
    const auto eol = std::min(text.find('\n', start), text.size());
    starts_with_tag.push_back(text.compare(start, 2, "{{") == 0);
    start = eol + 1;
  }
  std::string rendered;
  m.render(KainjowData(variables), [&rendered](const std::string& piece) { rendered += piece; });
  std::string out;
  std::size_t line = 0;
  for (std::size_t start = 0; start < rendered.size(); ++line) {
    const auto eol = std::min(rendered.find('\n', start), rendered.size());
    std::string_view l(rendered.data() + start, eol - start);
    if (line < starts_with_tag.size() && starts_with_tag[line]) {
      while (!l.empty() && l.front() == ' ') l.remove_prefix(1);
    }
    while (!l.empty() && l.back() == ' ') l.remove_suffix(1);
    out.append(l);
    if (eol < rendered.size()) out.push_back('\n');
    start = eol + 1;
  }
  return out;
}

TEST(TemplateForSending, DerivedTextRendersAsKainjowDid) {
  std::mt19937 rng(13);
  const std::vector<std::string> pieces = {
      "<p>",          "</p>",         "<h1>",  "</h1>", "<ul><li>", "</li><li>",
      "</li></ul>",   "word",         " ",     "<br>",  "{{a}}",    "{{b}}",
      "{{c}}",        "{{a.d}}",      "{{n}}", "&amp;", "é",        std::string(60, 'w') + " ",
      "<blockquote>", "</blockquote>"};
  const std::vector<json> values = {
      {{"a", "Ana"}, {"b", "  lots   of\n space\t"}, {"c", "<b>raw</b>"}, {"n", 7}},
      {{"a", json{{"d", "dee"}}}, {"b", ""}, {"c", " "}},
      {{"a", "& < > \" '"}, {"b", std::string(100, 'x') + " " + std::string(30, 'y')}, {"n", 2.5}},
      json::object()};
  int derived = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string html;
    for (std::size_t k = 1 + rng() % 12; k > 0; --k) html += pieces[rng() % pieces.size()];
    const auto t = CompiledTemplate::CompileForSending({"S", html, ""});
    for (const auto& v : values) {
      const auto out = t.Render(v);
      if (out.text != HtmlToText(out.html)) ++derived;  // derived once from the template, not from this HTML
      ASSERT_EQ(out.text, KainjowDerivedText(html, v)) << ::testing::PrintToString(html) << "\n" << v.dump();
    }
  }
  EXPECT_GT(derived, 100);
}

TEST(TemplateForSending, RendersTheTextTheHtmlConvertsTo) {
  const std::vector<std::string> htmls = {
      "<h1>Bonjour {{first_name}}</h1><p>Les nouvelles de {{company}}, en bref.</p><ul><li>Un</li><li>Deux</li></ul>",
      // Variables in markup, sections, unescaped values, <title>, comments: converted per message.
      "<p><a href=\"{{url}}\">Lire</a> {{first_name}}</p>", "<p>{{#vip}}Merci {{first_name}}{{/vip}}</p>",
      "<p>{{{raw}}} et {{first_name}}</p>",
      "<html><head><title>{{first_name}}</title></head><body><p>Corps</p></body></html>",
      "<p><!-- {{first_name}} --> texte</p>"};
  const std::vector<json> values = {
      {{"first_name", "Ana"},
       {"company", "Poste & Cie"},
       {"url", "https://example.com/a?b=1&c=2"},
       {"vip", true},
       {"raw", "<b>gras</b>"}},
      {{"first_name", "  Ana \n  Maria\t"}, {"company", "<script>x</script> & \"quotes\""}, {"vip", false}},
      {{"first_name", "Élodie — 😀"}, {"company", ""}},
      json::object()};
  for (const auto& html : htmls) {
    const auto t = CompiledTemplate::CompileForSending({"S", html, ""});
    for (const auto& v : values) {
      const auto out = t.Render(v);
      // Alike but for blank lines (an empty value can leave an empty paragraph's line).
      auto blank_lines_merged = [](std::string text) {
        for (std::size_t at; (at = text.find("\n\n\n")) != std::string::npos;) text.erase(at, 1);
        while (text.starts_with("\n")) text.erase(0, 1);
        return text;
      };
      EXPECT_EQ(blank_lines_merged(out.text), blank_lines_merged(HtmlToText(out.html))) << html << "\n" << v.dump();
    }
  }
  // A text part given is rendered as it is.
  const auto given = CompiledTemplate::CompileForSending({"S", "<p>{{a}}</p>", "Text {{a}}"});
  EXPECT_EQ(given.Render({{"a", "x  y"}}).text, "Text x  y");
  // Compile keeps the text empty for the previews.
  EXPECT_EQ(CompiledTemplate::Compile({"S", "<p>{{a}}</p>", ""}).Render({{"a", "x"}}).text, "");
}

}  // namespace
}  // namespace poste::mail
