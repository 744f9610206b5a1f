#pragma once
// A statement whose placeholders are added while its SQL is built (optional filters, IN lists), for store
// files only (it includes SOCI). SOCI binds by reference, so the values live in deques, which never move
// their elements.
#include <soci/soci.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace poste::db {

class Query {
 public:
  explicit Query(soci::session& s) : st_(s) {}

  // Each returns the placeholder (":p3") to splice into the SQL; nullopt binds NULL.
  std::string Int(std::optional<std::int64_t> value) {
    ints_.push_back(value.value_or(0));
    inds_.push_back(value ? soci::i_ok : soci::i_null);
    const std::string name = NextName();
    st_.exchange(soci::use(ints_.back(), inds_.back(), name));
    return ":" + name;
  }
  std::string Text(std::string value) {
    texts_.push_back(std::move(value));
    const std::string name = NextName();
    st_.exchange(soci::use(texts_.back(), name));
    return ":" + name;
  }
  // "…:p1, :p2, :p3" for an IN (…) list; empty for no ids (the caller must not build "IN ()").
  template <class Ids>
  std::string IntList(const Ids& ids) {
    std::string list;
    for (const std::int64_t id : ids) list += (list.empty() ? "" : ", ") + Int(id);
    return list;
  }
  template <class T>
  void Into(T& value) {
    st_.exchange(soci::into(value));
  }
  template <class T>
  void Into(T& value, soci::indicator& ind) {
    st_.exchange(soci::into(value, ind));
  }
  // Runs the statement and fetches the first row, if any (whether there was one).
  bool Execute(const std::string& sql) {
    st_.alloc();
    st_.prepare(sql);
    st_.define_and_bind();
    return st_.execute(true);
  }
  bool Fetch() { return st_.fetch(); }

 private:
  std::string NextName() { return "p" + std::to_string(count_++); }

  soci::statement st_;
  std::deque<long long> ints_;
  std::deque<soci::indicator> inds_;
  std::deque<std::string> texts_;
  int count_ = 0;
};

// A newest-first page of `sql` (a SELECT whose WHERE the caller has built on `q`): the rows with an id below
// `cursor`, at most `limit` of them, each made by `make()` from the row just fetched into `q`'s targets;
// next_cursor is set when more rows follow. Page needs `items` and `next_cursor`; items need `id`.
template <class Page, class Make>
Page NewestFirst(Query& q, std::string sql, std::optional<std::int64_t> cursor, int limit, Make&& make) {
  if (cursor) sql += " AND id < " + q.Int(*cursor);
  sql += " ORDER BY id DESC LIMIT " + std::to_string(limit + 1);
  Page page;
  if (q.Execute(sql)) {
    do {
      page.items.push_back(make());
    } while (q.Fetch());
  }
  if (page.items.size() > static_cast<std::size_t>(limit)) {
    page.items.pop_back();
    page.next_cursor = page.items.back().id;
  }
  return page;
}

}  // namespace poste::db
