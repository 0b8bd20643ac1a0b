"""Admin registrations (filled in by the topic's owner)."""
