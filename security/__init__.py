"""Who is asking: accounts, sessions, kiosk tokens, and the hardening of every response."""
