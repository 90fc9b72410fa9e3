"""Generated wire contract (``make proto``); do not edit by hand."""
