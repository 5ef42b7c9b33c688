"""What the agent says about itself: the retained status message and the status JSON
(`report`), Prometheus metrics and the local HTTP port serving both (`metrics`)."""
