-- The latest health report of each gateway (its retained status topic), kept by the stream job,
-- and the spool-overflow events gateways report on their events topic.
CREATE TABLE IF NOT EXISTS gateway_health (
    gateway_id          text PRIMARY KEY,
    state               text NOT NULL CHECK (state IN ('online', 'offline')),
    state_since         timestamptz NOT NULL,       -- when the state last changed (as received)
    reported_at         timestamptz,                -- the agent's time on its last online report
    last_seen           timestamptz,                -- when the last online report was received
    interval_s          double precision,           -- the agent republishes its status this often
    agent_version       text,
    spool_depth         bigint,                     -- readings not yet acknowledged by the broker
    spool_bytes         bigint,
    oldest_unsent_age_s double precision,
    dropped_total       bigint NOT NULL DEFAULT 0,  -- readings the spool dropped over its lifetime
    dropped_unreported  bigint,
    last_overflow_at    timestamptz,                -- the newest spool_overflow event (agent time)
    last_overflow_dropped bigint,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- One row per distinct report: a repeated event carries the same dropped_total and is stored once.
CREATE TABLE IF NOT EXISTS gateway_events (
    id            bigserial PRIMARY KEY,
    gateway_id    text NOT NULL,
    event         text NOT NULL,
    at            timestamptz NOT NULL,
    received_at   timestamptz NOT NULL,
    dropped       bigint NOT NULL,
    dropped_total bigint NOT NULL,
    UNIQUE (gateway_id, event, dropped_total)
);
CREATE INDEX IF NOT EXISTS gateway_events_received_idx ON gateway_events (received_at);
