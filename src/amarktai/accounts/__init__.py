"""Users, roles, sessions, 2FA, encrypted exchange API keys and the audit log."""
