"""Conventions shared by every MEF LSO API: errors, paging, notifications, state machines, storage."""
