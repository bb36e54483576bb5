"""HTTP views, one module per area (public pages and login, widget, console, admin, surveys, reports)."""
