"""The graph: its curated sources and the machinery that builds, stores, validates, ingests and links it."""
