-- The durable job queue (DESIGN.md "Storage"). A worker claims a job by setting state = 'running' with a
-- lease; if it dies, the lease expires and another worker claims the job again. Times are epoch ms.
CREATE TABLE jobs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused after a purge
  kind            TEXT    NOT NULL,
  payload         TEXT    NOT NULL DEFAULT '{}',  -- a JSON document
  state           TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'dead')),
  run_at          BIGINT  NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  max_attempts    INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  lease_until     BIGINT,
  locked_by       TEXT,
  idempotency_key TEXT    UNIQUE,  -- NULLs never collide: jobs without a key are always inserted
  last_error      TEXT,
  created_at      BIGINT  NOT NULL,
  updated_at      BIGINT  NOT NULL
);

-- Claiming: the oldest due queued job, and running jobs whose lease expired.
CREATE INDEX jobs_due_idx ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (lease_until) WHERE state = 'running';
-- Counting by state (the metrics gauge) and purging old finished jobs.
CREATE INDEX jobs_state_idx ON jobs (state, updated_at);
