"""When and what the agent polls: timers and one worker thread per bus (`scheduler`), and the
poll jobs that read units and hand their results to the collector (`jobs`)."""
