"""Small shared core: errors, config, write-ahead log, batch codec, transport, lifecycle."""
