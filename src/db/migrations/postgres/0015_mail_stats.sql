-- Sending stats (issue 5): GET .../mail/stats counts rows per quarter hour of a time column, by site.
-- These indexes let each count read only the site's rows of the asked range.
CREATE INDEX mail_messages_site_created_idx ON mail_messages (site_id, created_at);
CREATE INDEX mail_messages_site_sent_idx ON mail_messages (site_id, sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX mail_messages_site_state_idx ON mail_messages (site_id, state, updated_at);
CREATE INDEX mail_campaign_recipients_site_sent_idx ON mail_campaign_recipients (site_id, sent_at)
  WHERE sent_at IS NOT NULL;
CREATE INDEX mail_bounces_site_occurred_idx ON mail_bounces (site_id, occurred_at);
CREATE INDEX mail_suppressions_site_created_idx ON mail_suppressions (site_id, reason, created_at);
