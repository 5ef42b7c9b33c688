"""Camera stills at the central side: files on disk, metadata in camera_stills, retention."""
