-- Camera stills (cameras helper): the JPEG lives on disk under the stills directory, its
-- metadata here. One still per (depot, camera, ts): a redelivered snapshot is stored once.

CREATE TABLE IF NOT EXISTS camera_stills (
    id          bigserial PRIMARY KEY,
    depot       text NOT NULL,
    camera      text NOT NULL,
    granary     text,
    ts          timestamptz NOT NULL,
    overlay     text NOT NULL DEFAULT '',
    path        text NOT NULL,              -- relative to the stills directory
    bytes       integer NOT NULL,
    sha256      text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (depot, camera, ts)
);
CREATE INDEX IF NOT EXISTS camera_stills_latest_idx ON camera_stills (depot, camera, ts DESC);
CREATE INDEX IF NOT EXISTS camera_stills_ts_idx ON camera_stills (ts);
