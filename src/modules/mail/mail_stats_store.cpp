#include "modules/mail/mail_stats_store.hpp"

#include <soci/soci.h>

#include <string>

#include "db/query.hpp"

namespace poste::mail::stats_store {

namespace {

using db::Query;

const std::string kBucketMs = std::to_string(kStatsBucketMs);

// Runs `sql_of(q)` (SELECT bucket, flag, label, COUNT(*) ... GROUP BY 1, 2, 3) and appends its rows; `kind_of`
// names the kind of a row from its label.
template <class SqlOf, class KindOf>
void Collect(soci::session& s, std::vector<BucketCount>& out, SqlOf&& sql_of, KindOf&& kind_of) {
  Query q(s);
  long long bucket = 0, count = 0;
  int campaign = 0;
  std::string label;
  q.Into(bucket);
  q.Into(campaign);
  q.Into(label);
  q.Into(count);
  if (!q.Execute(sql_of(q))) return;
  do {
    out.push_back({bucket, kind_of(label), campaign != 0, count});
  } while (q.Fetch());
}

// "<time> >= :from AND <time> < :to"
std::string InRange(Query& q, const std::string& time, std::int64_t from_ms, std::int64_t to_ms) {
  return time + " >= " + q.Int(from_ms) + " AND " + time + " < " + q.Int(to_ms);
}

std::string Bucket(const std::string& time) { return "(" + time + ") / " + kBucketMs; }

}  // namespace

std::vector<BucketCount> Buckets(soci::session& s, std::int64_t site_id, std::int64_t from_ms, std::int64_t to_ms,
                                 std::optional<std::int64_t> campaign_id) {
  std::vector<BucketCount> out;
  const auto fixed = [](StatKind kind) { return [kind](const std::string&) { return kind; }; };

  if (!campaign_id) {
    // Single messages: queued when created; sent and failed when they settled.
    Collect(
        s, out,
        [&](Query& q) {
          return "SELECT " + Bucket("created_at") +
                 ", 0, '', COUNT(*) FROM mail_messages WHERE site_id = " + q.Int(site_id) + " AND " +
                 InRange(q, "created_at", from_ms, to_ms) + " GROUP BY 1, 2, 3";
        },
        fixed(StatKind::kQueued));
    Collect(
        s, out,
        [&](Query& q) {
          return "SELECT " + Bucket("sent_at") +
                 ", 0, '', COUNT(*) FROM mail_messages WHERE site_id = " + q.Int(site_id) + " AND state = 'sent' AND " +
                 InRange(q, "sent_at", from_ms, to_ms) + " GROUP BY 1, 2, 3";
        },
        fixed(StatKind::kSent));
    Collect(
        s, out,
        [&](Query& q) {
          return "SELECT " + Bucket("updated_at") +
                 ", 0, '', COUNT(*) FROM mail_messages WHERE site_id = " + q.Int(site_id) +
                 " AND state = 'failed' AND " + InRange(q, "updated_at", from_ms, to_ms) + " GROUP BY 1, 2, 3";
        },
        fixed(StatKind::kFailed));
  }

  const auto campaign_filter = [&](Query& q, const std::string& column) {
    return campaign_id ? " AND " + column + " = " + q.Int(*campaign_id) : std::string();
  };
  // Campaign recipients: queued when their campaign started, sent when sent, failed when the campaign
  // ended (or started, while it runs).
  Collect(
      s, out,
      [&](Query& q) {
        return "SELECT " + Bucket("c.started_at") +
               ", 1, '', COUNT(*) FROM mail_campaign_recipients r JOIN mail_campaigns c ON c.id = r.campaign_id"
               " WHERE r.site_id = " +
               q.Int(site_id) + " AND c.site_id = " + q.Int(site_id) + " AND " +
               InRange(q, "c.started_at", from_ms, to_ms) + campaign_filter(q, "r.campaign_id") + " GROUP BY 1, 2, 3";
      },
      fixed(StatKind::kQueued));
  Collect(
      s, out,
      [&](Query& q) {
        return "SELECT " + Bucket("sent_at") +
               ", 1, '', COUNT(*) FROM mail_campaign_recipients WHERE site_id = " + q.Int(site_id) +
               " AND state = 'sent' AND " + InRange(q, "sent_at", from_ms, to_ms) + campaign_filter(q, "campaign_id") +
               " GROUP BY 1, 2, 3";
      },
      fixed(StatKind::kSent));
  const std::string failed_at = "COALESCE(c.finished_at, c.started_at, c.created_at)";
  Collect(
      s, out,
      [&](Query& q) {
        return "SELECT " + Bucket(failed_at) +
               ", 1, '', COUNT(*) FROM mail_campaign_recipients r JOIN mail_campaigns c ON c.id = r.campaign_id"
               " WHERE r.site_id = " +
               q.Int(site_id) + " AND c.site_id = " + q.Int(site_id) + " AND r.state = 'failed' AND " +
               InRange(q, failed_at, from_ms, to_ms) + campaign_filter(q, "r.campaign_id") + " GROUP BY 1, 2, 3";
      },
      fixed(StatKind::kFailed));

  // Bounces and complaints, and unsubscribes: of a campaign when they name one.
  Collect(
      s, out,
      [&](Query& q) {
        return "SELECT " + Bucket("occurred_at") +
               ", CASE WHEN campaign_id IS NULL THEN 0 ELSE 1 END, kind, COUNT(*) FROM mail_bounces WHERE site_id = " +
               q.Int(site_id) + " AND " + InRange(q, "occurred_at", from_ms, to_ms) +
               campaign_filter(q, "campaign_id") + " GROUP BY 1, 2, 3";
      },
      [](const std::string& kind) { return kind == "complaint" ? StatKind::kComplained : StatKind::kBounced; });
  Collect(
      s, out,
      [&](Query& q) {
        return "SELECT " + Bucket("created_at") +
               ", CASE WHEN campaign_id IS NULL THEN 0 ELSE 1 END, '', COUNT(*) FROM mail_suppressions"
               " WHERE site_id = " +
               q.Int(site_id) + " AND reason = 'unsubscribe' AND " + InRange(q, "created_at", from_ms, to_ms) +
               campaign_filter(q, "campaign_id") + " GROUP BY 1, 2, 3";
      },
      fixed(StatKind::kUnsubscribed));
  return out;
}

std::optional<std::int64_t> CampaignCreatedAt(soci::session& s, std::int64_t site_id, std::int64_t campaign_id) {
  Query q(s);
  long long created = 0;
  q.Into(created);
  if (!q.Execute("SELECT created_at FROM mail_campaigns WHERE site_id = " + q.Int(site_id) +
                 " AND id = " + q.Int(campaign_id))) {
    return std::nullopt;
  }
  return created;
}

}  // namespace poste::mail::stats_store
