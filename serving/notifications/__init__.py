"""Notifications: each user's inbox, pushed live; at-risk changes scored after every warehouse
publication; a daily e-mail digest to instructors and a nudge to inactive learners, over SMTP,
with per-user preferences and at most one e-mail a day per kind per user."""
