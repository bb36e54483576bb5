"""Defences at the edges (docs/operations.md, "Security"): the client's address behind trusted proxies, the login
guard (password checks off the event loop, login limits), TLS-aware cookies and headers, cross-site refusal,
same-site redirects, the sites allowed to embed the widget, and private files in the data dir."""
