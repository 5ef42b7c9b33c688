-- One open live session per stream (issue 18, review): two live_start at the same moment must
-- not both find no session and both insert one (two keys for one stream). Any duplicates left
-- by that race are ended first (the newest stays open), then the database refuses a second.
UPDATE live_sessions s SET ended_at = now(), ended_why = 'replaced'
 WHERE s.ended_at IS NULL
   AND EXISTS (SELECT 1 FROM live_sessions n
                WHERE n.stream = s.stream AND n.ended_at IS NULL AND n.id > s.id);
CREATE UNIQUE INDEX IF NOT EXISTS live_sessions_one_open
    ON live_sessions (stream) WHERE ended_at IS NULL;
