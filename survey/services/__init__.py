"""Domain operations shared by the web, the CLI and the scheduler; each takes the session."""
