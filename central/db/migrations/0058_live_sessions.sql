-- Live view's publish keys (issue 18): `live_start` issues a one-time key for one stream
-- (<depot>_<camera>); the media server's on_publish asks central whether a publisher's key
-- is the live, unexpired key of that stream (central/cameras/live_keys.py). The key is kept
-- as issued, not hashed: a renewal (live_start while the stream runs) must hand the running
-- relay the same key, and a key is worthless once its session ends or expires (minutes).

CREATE TABLE IF NOT EXISTS live_sessions (
    id           bigserial PRIMARY KEY,
    depot        text NOT NULL,
    camera       text NOT NULL,
    stream       text NOT NULL,
    key          text NOT NULL UNIQUE,
    issued_at    timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    published_at timestamptz,
    ended_at     timestamptz,
    ended_why    text
);
CREATE INDEX IF NOT EXISTS live_sessions_stream_idx ON live_sessions (stream, issued_at DESC);
