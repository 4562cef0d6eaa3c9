"""The domain core: entities, access rules and state machines. No tornado here."""
