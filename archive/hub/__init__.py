"""The webinar hub: events, series, their times and recordings, and the public feeds."""
